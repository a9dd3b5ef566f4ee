import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { startEmbeddedPostgres } from '../db/embedded-postgres.ts'
import { migrateDatabase } from '../db/migrate.ts'
import { startQueue } from '../jobs/queue.ts'
import { createLogger } from '../logging/logger.ts'

/** Databases to test against: copies of one migrated template on one PostgreSQL. */
export interface TestDatabases {
  /** URL of a database with rights to create databases. */
  adminURL: string
  /** Name of the migrated template (queue schema installed) each copy is made from. */
  templateDatabase: string
  /** A new database of its own, copied from the template (or `empty`: never migrated); its URL. */
  createDatabase(options?: { empty?: boolean }): Promise<string>
  /** Drops a database made by `createDatabase`, closing its connections. */
  dropDatabase(url: string): Promise<void>
}

/** One PostgreSQL for a test run, from {@link startTestPostgres}. */
export interface TestPostgres extends TestDatabases {
  /** Drops every database this run made and stops the embedded PostgreSQL, if it started one. */
  stop(): Promise<void>
}

/**
 * Starts PostgreSQL for a test run, the way the server's own tests do: `databaseURL` (or
 * `DATABASE_URL`) when given, otherwise an embedded one in a temporary folder. Makes a migrated
 * template database once; `createDatabase()` copies it in milliseconds, so each test file can
 * have its own. Every database it makes is named `ps_test_<run id>_…`, so runs can share a server.
 *
 * @example
 * ```ts
 * // a test runner's global setup
 * const postgres = await startTestPostgres()
 * const databaseURL = await postgres.createDatabase()
 * // … startTestServer({ databaseURL }) …
 * await postgres.stop()
 * ```
 */
export async function startTestPostgres(
  options: { databaseURL?: string | undefined } = {},
): Promise<TestPostgres> {
  const logger = createLogger({ logLevel: 'warn', logFormat: 'json' }, process.stderr)
  let dataDir: string | undefined
  let stopEmbedded: (() => Promise<void>) | undefined
  let adminURL = options.databaseURL ?? (process.env.DATABASE_URL || undefined)
  if (!adminURL) {
    dataDir = await mkdtemp(join(tmpdir(), 'post-scheduler-test-'))
    // mkdtemp makes the folder 0700; as root, the cluster would otherwise move to /var/lib.
    await chmod(dataDir, 0o755)
    const embedded = await startEmbeddedPostgres({ dataDir, logger })
    adminURL = embedded.url
    stopEmbedded = embedded.stop
  }

  const prefix = `ps_test_${randomBytes(4).toString('hex')}`
  const templateDatabase = `${prefix}_template`
  const admin = postgres(adminURL, { max: 1, onnotice: () => {} })
  await admin`create database ${admin(templateDatabase)}`
  const templateURL = withDatabase(adminURL, templateDatabase)
  await migrateDatabase(templateURL)
  const queue = await startQueue({
    databaseURL: templateURL,
    schema: 'pgboss',
    role: 'api',
    heartbeatSeconds: 10,
    logger,
  })
  await queue.stop({ graceful: false, close: true })
  // A crashed worker row would read as a live worker in every copy; start the copies clean.
  const templateClient = postgres(templateURL, { max: 1, onnotice: () => {} })
  await templateClient`delete from pgboss.instance`
  await templateClient.end()

  const databases = connectTestDatabases({ adminURL, templateDatabase })
  return {
    ...databases,
    async stop() {
      const made = await admin<{ datname: string }[]>`
        select datname from pg_database where datname like ${`${prefix}%`}`
      for (const { datname } of made) {
        await admin`drop database if exists ${admin(datname)} with (force)`
      }
      await admin.end()
      await stopEmbedded?.()
      if (dataDir) await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/**
 * The databases of a {@link startTestPostgres} run, from another process or worker (a test
 * file): give it the run's `adminURL` and `templateDatabase`.
 *
 * @example
 * ```ts
 * const databases = connectTestDatabases({ adminURL, templateDatabase })
 * const databaseURL = await databases.createDatabase()
 * ```
 */
export function connectTestDatabases(run: {
  adminURL: string
  templateDatabase: string
}): TestDatabases {
  const { adminURL, templateDatabase } = run
  const withAdmin = async <T>(work: (sql: postgres.Sql) => Promise<T>) => {
    const sql = postgres(adminURL, { max: 1, onnotice: () => {} })
    try {
      return await work(sql)
    } finally {
      await sql.end()
    }
  }
  return {
    adminURL,
    templateDatabase,
    async createDatabase(options = {}) {
      const name = `${templateDatabase.replace(/_template$/, '')}_${randomBytes(4).toString('hex')}`
      await withAdmin((sql) =>
        options.empty
          ? sql`create database ${sql(name)}`
          : sql`create database ${sql(name)} template ${sql(templateDatabase)}`,
      )
      return withDatabase(adminURL, name)
    },
    async dropDatabase(url) {
      const name = new URL(url).pathname.slice(1)
      await withAdmin((sql) => sql`drop database if exists ${sql(name)} with (force)`)
    },
  }
}

/** `url` with its database replaced by `database`. */
export function withDatabase(url: string, database: string): string {
  const copy = new URL(url)
  copy.pathname = `/${database}`
  return copy.toString()
}
