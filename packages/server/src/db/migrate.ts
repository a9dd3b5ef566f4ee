import { fileURLToPath } from 'node:url'
import { sql } from 'drizzle-orm'
import { type MigrationMeta, readMigrationFiles } from 'drizzle-orm/migrator'
import { drizzle } from 'drizzle-orm/postgres-js'
import { migrate } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'
import type { Database } from './client.ts'

// Resolves to src/db/migrations from source and to dist/migrations once built (tsdown copies it).
const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url))
const migrationConfig = {
  migrationsFolder,
  migrationsSchema: 'post_scheduler',
  migrationsTable: 'migrations',
} as const

// Any constant works; it only has to be the same in every Post Scheduler process.
const MIGRATION_LOCK_ID = 7_302_114_925

let bundled: MigrationMeta[] | undefined
const bundledMigrations = () => {
  bundled ??= readMigrationFiles(migrationConfig)
  return bundled
}

/**
 * Applies the migrations shipped with this version of the server. Safe to run from several
 * processes at once: a PostgreSQL advisory lock lets one migrate while the others wait.
 *
 * @returns how many migrations were applied.
 * @example
 * ```ts
 * const { applied } = await migrateDatabase(process.env.DATABASE_URL!)
 * ```
 */
export async function migrateDatabase(databaseURL: string): Promise<{ applied: number }> {
  // One connection, so the advisory lock and the migration share a session.
  const client = postgres(databaseURL, { max: 1, onnotice: () => {} })
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_ID})`
    const db = drizzle(client)
    const before = await countPendingMigrations(db)
    await migrate(db, migrationConfig)
    return { applied: before }
  } finally {
    await client.end({ timeout: 5 })
  }
}

/**
 * Counts the shipped migrations the database has not applied yet, with the rule drizzle's
 * migrator uses: every migration newer than the last one recorded.
 */
export async function countPendingMigrations(db: Pick<Database, 'execute'>): Promise<number> {
  const table = sql`${sql.identifier(migrationConfig.migrationsSchema)}.${sql.identifier(migrationConfig.migrationsTable)}`
  const [exists] = await db.execute<{ found: boolean }>(
    sql`select to_regclass(${`${migrationConfig.migrationsSchema}.${migrationConfig.migrationsTable}`}) is not null as found`,
  )
  let last = -1
  if (exists?.found) {
    const [row] = await db.execute<{ created_at: string | null }>(
      sql`select max(created_at)::text as created_at from ${table}`,
    )
    last = Number(row?.created_at ?? -1)
  }
  return bundledMigrations().filter((migration) => migration.folderMillis > last).length
}
