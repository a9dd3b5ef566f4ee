import { sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { startOwnPostgres } from '../../test/own-postgres.ts'
import { createDatabaseClient } from './client.ts'
import { isDatabaseUnavailable } from './errors.ts'

// Transactions whose connection PostgreSQL closes under them (an immediate restart). The
// PostgreSQL is this test's own process, never the shared server.

const own = await startOwnPostgres()
afterAll(() => own.destroy())
const { db, close } = createDatabaseClient(own.url, { max: 4 })
afterAll(close)

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  )

describe('a transaction whose connection closes', () => {
  it('fails as unavailable when the connection closed between two statements, and the pool serves the next one', async () => {
    const error = await failureOf(
      db.transaction(async (tx) => {
        await tx.execute(sql`select 1`)
        await own.restartImmediately()
        await tx.execute(sql`select 2`)
      }),
    )
    expect(isDatabaseUnavailable(error)).toBe(true)
    const rows = await db.execute<{ answer: number }>(sql`select 42 as answer`)
    expect(rows[0]?.answer).toBe(42)
    await expect(
      db.transaction(async (tx) => (await tx.execute(sql`select 1 as one`))[0]),
    ).resolves.toEqual({ one: 1 })
  })

  it('fails as unavailable when the connection closed during a statement, and the pool serves the next one', async () => {
    const restarted = new Promise((resolve) => setTimeout(resolve, 300)).then(() =>
      own.restartImmediately(),
    )
    const error = await failureOf(
      db.transaction(async (tx) => {
        await tx.execute(sql`select pg_sleep(5)`)
      }),
    )
    await restarted
    expect(isDatabaseUnavailable(error)).toBe(true)
    await expect(
      db.transaction(async (tx) => (await tx.execute(sql`select 1 as one`))[0]),
    ).resolves.toEqual({ one: 1 })
  })
})
