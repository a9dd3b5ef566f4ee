import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import type { TestProject } from 'vitest/node'
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.ts'
import { migrateDatabase } from '../src/db/migrate.ts'
import { startQueue } from '../src/jobs/queue.ts'
import { createLogger } from '../src/logging/logger.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of a database with rights to create databases (the server's, or the embedded one's). */
    adminDatabaseURL: string
    /** Name of a migrated database, with the queue schema installed, to copy for each test file. */
    templateDatabase: string
  }
}

/**
 * One PostgreSQL for the whole run: `DATABASE_URL` when set (bring your own), otherwise an
 * embedded one in a temporary folder. A migrated template database is made once; each test file
 * copies it (see `createTestDatabase`). Everything this run created is dropped at the end.
 */
export default async function setup(project: TestProject) {
  const logger = createLogger({ logLevel: 'warn', logFormat: 'json' }, process.stderr)
  let dataDir: string | undefined
  let stopEmbedded: (() => Promise<void>) | undefined
  let adminURL = process.env.DATABASE_URL
  if (!adminURL) {
    dataDir = await mkdtemp(join(tmpdir(), 'post-scheduler-test-'))
    // mkdtemp makes the folder 0700; as root, the cluster would otherwise move to /var/lib.
    await chmod(dataDir, 0o755)
    const embedded = await startEmbeddedPostgres({ dataDir, logger })
    adminURL = embedded.url
    stopEmbedded = embedded.stop
  }

  const prefix = `ps_test_${randomBytes(4).toString('hex')}`
  const template = `${prefix}_template`
  const admin = postgres(adminURL, { max: 1, onnotice: () => {} })
  await admin`create database ${admin(template)}`
  const templateURL = withDatabase(adminURL, template)
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

  project.provide('adminDatabaseURL', adminURL)
  project.provide('templateDatabase', template)

  return async () => {
    const databases = await admin<{ datname: string }[]>`
      select datname from pg_database where datname like ${`${prefix}%`}`
    for (const { datname } of databases) {
      await admin`drop database if exists ${admin(datname)} with (force)`
    }
    await admin.end()
    await stopEmbedded?.()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  }
}

export function withDatabase(url: string, database: string): string {
  const copy = new URL(url)
  copy.pathname = `/${database}`
  return copy.toString()
}
