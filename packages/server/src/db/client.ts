import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { isDatabaseUnavailable } from './errors.ts'
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
    // Seconds before a connection tries again after failing to connect. postgres.js's default
    // grows with the failures of the whole pool, to 20 s, so after a restart the pool could
    // wait that long; here a database back up is used again within a second.
    backoff: (attempts: number) => Math.min(0.05 * 2 ** attempts, 1) * (0.5 + Math.random() / 2),
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
 * A transaction whose `BEGIN` travels with its first statement: on a reserved connection,
 * `BEGIN` is sent without waiting for its answer, so the callback's first statement joins it in
 * the same write (postgres.js's own `begin` waits for `BEGIN` first: one round trip more per
 * transaction). Commits when the callback resolves, rolls back when it throws. (`BEGIN` cannot
 * fail on a healthy connection; on a broken one, every statement after it fails too.) Nested
 * transactions (savepoints) are not offered: drizzle's `tx.transaction` fails loudly.
 *
 * A connection that closes under the transaction (PostgreSQL restarted) is never used again:
 * postgres.js returns it to its pool when it closes, and a statement sent on it afterwards would
 * be lost (see `patches/postgres@3.4.9.patch`). So every later statement fails with
 * `CONNECTION_CLOSED` instead (PostgreSQL rolled the transaction back itself), no `ROLLBACK` is
 * sent, and the connection is not released a second time.
 */
async function pipelinedTransaction(
  sql: postgres.Sql,
  callback: (scoped: postgres.Sql) => unknown,
): Promise<unknown> {
  const reserved = await reserveConnection(sql)
  // postgres.js's connection, as `onexecute` shows it; it clears `reserved` when it closes.
  let connection: { reserved: unknown } | undefined
  let lost = false
  const closed = () => lost || (connection !== undefined && connection.reserved === null)
  const begun = reserved
    .unsafe('begin', [], {
      onexecute: (used: { reserved: unknown }) => {
        connection = used
        return true
      },
    } as postgres.UnsafeQueryOptions)
    .execute()
  try {
    let result: unknown
    try {
      result = await callback(withPreparedStatements(refuseWhenClosed(reserved, closed)))
      await begun
    } catch (error) {
      await begun.catch(() => {})
      // The connection is gone (PostgreSQL rolled the transaction back as it went).
      if (isDatabaseUnavailable(error)) lost = true
      if (!closed()) await reserved.unsafe('rollback').catch(() => {})
      throw error
    }
    if (closed()) throw connectionClosedError()
    await reserved.unsafe('commit').catch((error: unknown) => {
      if (isDatabaseUnavailable(error)) lost = true
      throw error
    })
    return result
  } finally {
    if (!closed()) reserved.release()
  }
}

/** How long a transaction waits for a connection of its own before giving up as unavailable. */
const RESERVE_TIMEOUT_MS = 10_000

/**
 * `sql.reserve()`, given up after {@link RESERVE_TIMEOUT_MS}: a reservation still queued when the
 * connection it waits for is closed by the server is never answered (postgres.js 3.4.9,
 * porsager/postgres#1195). It fails as `CONNECT_TIMEOUT`, which callers treat as the database not
 * answering; a reservation answered later is released at once.
 */
async function reserveConnection(sql: postgres.Sql): Promise<postgres.ReservedSql> {
  const reserving = sql.reserve()
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reserving.then(
        (late) => late.release(),
        () => {},
      )
      reject(
        Object.assign(new Error(`no connection within ${RESERVE_TIMEOUT_MS / 1000} s`), {
          code: 'CONNECT_TIMEOUT',
        }),
      )
    }, RESERVE_TIMEOUT_MS)
  })
  try {
    return await Promise.race([reserving, timedOut])
  } finally {
    clearTimeout(timer)
  }
}

/** The reserved connection, failing each statement once `closed()` says it closed. */
function refuseWhenClosed(reserved: postgres.ReservedSql, closed: () => boolean): postgres.Sql {
  return new Proxy(reserved, {
    get(target, property, receiver) {
      if (property !== 'unsafe') return Reflect.get(target, property, receiver)
      const unsafe: postgres.Sql['unsafe'] = (query, parameters, options) => {
        if (closed()) throw connectionClosedError()
        return target.unsafe(query, parameters, options)
      }
      return unsafe
    },
  })
}

/** The error postgres.js gives statements whose connection closed. */
function connectionClosedError() {
  return Object.assign(
    new Error('write CONNECTION_CLOSED: the connection closed mid-transaction'),
    {
      code: 'CONNECTION_CLOSED',
    },
  )
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
      if (property === 'begin') {
        return (...args: unknown[]) =>
          pipelinedTransaction(target, args.pop() as (scoped: postgres.Sql) => unknown)
      }
      return Reflect.get(target, property, receiver)
    },
  })
}
