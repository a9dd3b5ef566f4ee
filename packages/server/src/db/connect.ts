import type { Config } from '../config/config.ts'
import { messageOf, StartupError } from '../errors.ts'
import { type Logger, redactURL } from '../logging/logger.ts'
import { createDatabaseClient, type DatabaseClient } from './client.ts'
import { startEmbeddedPostgres } from './embedded-postgres.ts'

/** A database connection proven to work, with the embedded server behind it when there is one. */
export interface ConnectedDatabase extends DatabaseClient {
  /** Connection URL, with its password; never log it unredacted. */
  url: string
}

/**
 * Connects to `DATABASE_URL`, or starts the embedded PostgreSQL when it is unset, and proves the
 * connection with a first query. `close()` ends the pool and stops the embedded server.
 *
 * @throws {StartupError} naming the (redacted) URL and the reason when PostgreSQL does not answer.
 */
export async function connectDatabase(
  config: Pick<Config, 'databaseURL' | 'dataDir' | 'embeddedPostgresPort' | 'publishing'>,
  logger: Logger,
): Promise<ConnectedDatabase> {
  const embedded = config.databaseURL
    ? undefined
    : await startEmbeddedPostgres({
        dataDir: config.dataDir,
        port: config.embeddedPostgresPort,
        logger,
      })
  const url = embedded?.url ?? String(config.databaseURL)
  // Room for every publication a worker runs at once, beside the API's requests.
  const client = createDatabaseClient(url, {
    max: Math.max(10, config.publishing.concurrency + 10),
  })
  const close = async () => {
    await client.close()
    await embedded?.stop()
  }
  try {
    await client.sql`select 1`
  } catch (error) {
    await close()
    throw new StartupError(
      `Cannot connect to PostgreSQL at ${redactURL(url)}: ${messageOf(error)}`,
      {
        cause: error,
      },
    )
  }
  return { ...client, url, close }
}
