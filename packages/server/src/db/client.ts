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
    db: drizzle(withPreparedStatements(client), { schema }),
    sql: client,
    close: () => client.end({ timeout: 5 }),
  }
}

/**
 * The client drizzle runs its queries through, with every query a named prepared statement.
 * Drizzle asks postgres.js for unnamed statements, and postgres.js sends an unnamed statement
 * with parameters in two round trips (it waits for the parameter types before binding) and
 * pipelines nothing behind it. A prepared statement is described once per connection; after that
 * each query is one message and one round trip, and queries issued together share one write.
 * Statements are kept per connection, which postgres.js recycles (`max_lifetime`, 30–60 min).
 * Behind PgBouncer in transaction mode this needs PgBouncer ≥ 1.21 with `max_prepared_statements`.
 */
function withPreparedStatements<T extends postgres.Sql>(sql: T): T {
  return new Proxy(sql, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        const unsafe: postgres.Sql['unsafe'] = (query, parameters, options) =>
          target.unsafe(query, parameters, { ...options, prepare: true })
        return unsafe
      }
      if (property === 'begin' || property === 'savepoint') {
        return (...args: unknown[]) => {
          const callback = args.pop() as (scoped: postgres.Sql) => unknown
          const method = Reflect.get(target, property, receiver) as (...a: unknown[]) => unknown
          return method(...args, (scoped: postgres.Sql) => callback(withPreparedStatements(scoped)))
        }
      }
      return Reflect.get(target, property, receiver)
    },
  })
}
