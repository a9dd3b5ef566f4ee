import type { Config } from '../config/config.ts'
import { messageOf, StartupError } from '../errors/startup.ts'
import { type Logger, redactURL } from '../logging/logger.ts'
import { createDatabaseClient, type DatabaseClient } from './client.ts'
import { type EmbeddedPostgresError, startEmbeddedPostgres } from './embedded-postgres.ts'

/** A database connection proven to work, with the embedded server behind it when there is one. */
export interface ConnectedDatabase extends DatabaseClient {
  /** Connection URL, with its password; never log it unredacted. */
  url: string
}

/**
 * Connects to `DATABASE_URL`, or starts the embedded PostgreSQL when it is unset, and proves the
 * connection with a first query. `close()` ends the pool and stops the embedded server, which
 * restarts itself when it stops unexpectedly, and calls `onGiveUp` when it cannot.
 *
 * @throws {StartupError} naming the (redacted) URL and the reason when PostgreSQL does not answer.
 */
export async function connectDatabase(
  config: Pick<Config, 'databaseURL' | 'dataDir' | 'embeddedPostgresPort'>,
  logger: Logger,
  options: { onGiveUp?: (error: EmbeddedPostgresError) => void } = {},
): Promise<ConnectedDatabase> {
  const embedded = config.databaseURL
    ? undefined
    : await startEmbeddedPostgres({
        dataDir: config.dataDir,
        port: config.embeddedPostgresPort,
        logger,
        onGiveUp: options.onGiveUp,
      })
  const url = embedded?.url ?? String(config.databaseURL)
  // The publishing engine batches its writes (a few connections whatever its concurrency); the
  // rest serves the API's requests and the in-process sandbox platform.
  const client = createDatabaseClient(url, { max: 20 })
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
