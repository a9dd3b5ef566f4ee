import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import * as schema from './schema/index.ts'

/** The drizzle database handle the services use. */
export type Database = PostgresJsDatabase<typeof schema>

/** A transaction of {@link Database}, as `db.transaction(async (tx) => …)` passes it. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0]

/**
 * Options of a read-only transaction that sees one snapshot: for reads spanning several queries
 * (a post and its publications) that must agree with each other.
 */
export const SNAPSHOT = { isolationLevel: 'repeatable read', accessMode: 'read only' } as const

/** A pool of connections to PostgreSQL and the drizzle handle on top of it. */
export interface DatabaseClient {
  db: Database
  /** The underlying postgres.js client, for what drizzle does not cover (LISTEN, COPY). */
  sql: postgres.Sql
  close(): Promise<void>
}

/**
 * Opens a connection pool. Connections are made lazily; the first query proves the URL works.
 *
 * @example
 * ```ts
 * const { db, close } = createDatabaseClient('postgres://localhost/post_scheduler')
 * await db.execute(sql`select 1`)
 * await close()
 * ```
 */
export function createDatabaseClient(
  databaseURL: string,
  options: { max?: number; applicationName?: string } = {},
): DatabaseClient {
  const client = postgres(databaseURL, {
    max: options.max ?? 10,
    connect_timeout: 10,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'post-scheduler' },
  })
  return {
    db: drizzle(client, { schema }),
    sql: client,
    close: () => client.end({ timeout: 5 }),
  }
}
