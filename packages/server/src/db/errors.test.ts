import { createServer } from 'node:net'
import { sql } from 'drizzle-orm'
import postgres from 'postgres'
import { afterAll, describe, expect, it } from 'vitest'
import { createTestDatabase } from '../../test/database.ts'
import { createDatabaseClient } from './client.ts'
import { isDatabaseUnavailable, isUniqueViolation } from './errors.ts'

const databaseURL = await createTestDatabase()
const client = createDatabaseClient(databaseURL, { max: 2 })
afterAll(() => client.close())

/** The error a promise rejects with. */
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure')
    },
    (error: unknown) => error,
  )

describe('isDatabaseUnavailable', () => {
  it('recognises a refused connection, through drizzle', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const { port } = probe.address() as { port: number }
    await new Promise((resolve) => probe.close(resolve))
    const nowhere = createDatabaseClient(`postgres://postgres@127.0.0.1:${port}/none`)
    const error = await failureOf(nowhere.db.execute(sql`select 1`))
    await nowhere.close()
    expect(isDatabaseUnavailable(error)).toBe(true)
  })

  it('recognises a session the server ended (pg_terminate_backend)', async () => {
    const victim = postgres(databaseURL, { max: 1, onnotice: () => {} })
    const [{ pid }] = (await victim`select pg_backend_pid() as pid`) as unknown as [{ pid: number }]
    const sleeping = failureOf(victim`select pg_sleep(30)`)
    await new Promise((resolve) => setTimeout(resolve, 200))
    await client.db.execute(sql`select pg_terminate_backend(${pid})`)
    const error = (await sleeping) as { code?: string }
    await victim.end({ timeout: 0 })
    // postgres.js reports 57P01, or CONNECTION_CLOSED when the socket closed first.
    expect(['57P01', 'CONNECTION_CLOSED']).toContain(error.code)
    expect(isDatabaseUnavailable(error)).toBe(true)
  })

  it('does not mistake a wrong statement or a constraint for an outage', async () => {
    const syntax = await failureOf(client.db.execute(sql`selec 1`))
    await client.db.execute(sql`create temporary table once (id int primary key)`)
    const duplicate = await failureOf(client.db.execute(sql`insert into once values (1), (1)`))
    expect(isUniqueViolation(duplicate)).toBe(true)
    expect(isDatabaseUnavailable(syntax)).toBe(false)
    expect(isDatabaseUnavailable(duplicate)).toBe(false)
    expect(isDatabaseUnavailable(new Error('no code'))).toBe(false)
  })
})
