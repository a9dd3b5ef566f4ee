import { getTableConfig, PgTable } from 'drizzle-orm/pg-core'
import postgres from 'postgres'
import { afterAll, describe, expect, it } from 'vitest'
import { createTestDatabase } from '../../test/database.ts'
import * as schema from '../db/schema/index.ts'

const tables = (Object.values(schema) as unknown[]).filter(
  (value): value is PgTable => value instanceof PgTable,
)

describe('the data model', () => {
  it('has no column that could hold a payment card (billing keeps processor references only)', () => {
    const card =
      /(^|_)(card|cards|pan|cvc|cvv|cvv2|cvn|ccn|cc|iin|bin|credit|expiry_month|expiry_year|exp_month|exp_year)($|_)/i
    const columns = tables.flatMap((table) => {
      const config = getTableConfig(table)
      return config.columns.map((column) => `${config.name}.${column.name}`)
    })
    expect(columns.length).toBeGreaterThan(100)
    expect(columns.filter((column) => card.test(column.split('.')[1] ?? ''))).toEqual([])
    // The pattern is not blind: it would catch the usual names.
    for (const name of ['card_number', 'pan', 'cvc', 'card_exp_month', 'credit_card']) {
      expect(card.test(name), name).toBe(true)
    }
  })
})

const databaseURL = await createTestDatabase()
const sql = postgres(databaseURL, { max: 1, onnotice: () => {} })
afterAll(() => sql.end())

describe('the audit log under erasure', () => {
  it('stays append-only, except that an erasure may replace a person’s identifiers and drop their address', async () => {
    const [entry] = await sql<{ id: number }[]>`
      insert into post_scheduler.audit_log (actor_type, actor_id, action, subject_user_id, ip, details)
      values ('user', 'usr_a', 'user.updated', 'usr_a', '203.0.113.9', '{"fields": ["name"]}') returning id`
    const id = entry?.id as number
    await expect(
      sql`update post_scheduler.audit_log set actor_id = 'x' where id = ${id}`,
    ).rejects.toThrow(/append-only/)
    await expect(sql`delete from post_scheduler.audit_log where id = ${id}`).rejects.toThrow(
      /append-only/,
    )
    await sql.begin(async (tx) => {
      await tx`select set_config('post_scheduler.audit_erasure', 'on', true)`
      await tx`update post_scheduler.audit_log set actor_id = 'erased_1', subject_user_id = 'erased_1', ip = null where id = ${id}`
    })
    type Tx = postgres.TransactionSql
    const forbidden: ((tx: Tx) => Promise<unknown>)[] = [
      (tx) => tx`update post_scheduler.audit_log set action = 'user.nothing' where id = ${id}`,
      (tx) =>
        tx`update post_scheduler.audit_log set created_at = now() - interval '1 day' where id = ${id}`,
      (tx) => tx`update post_scheduler.audit_log set ip = '198.51.100.1' where id = ${id}`,
      (tx) => tx`delete from post_scheduler.audit_log where id = ${id}`,
    ]
    for (const change of forbidden) {
      await expect(
        sql.begin(async (tx) => {
          await tx`select set_config('post_scheduler.audit_erasure', 'on', true)`
          await change(tx)
        }),
      ).rejects.toThrow(/append-only/)
    }
    const [after] =
      await sql`select actor_id, subject_user_id, ip, action from post_scheduler.audit_log where id = ${id}`
    expect(after).toEqual({
      actor_id: 'erased_1',
      subject_user_id: 'erased_1',
      ip: null,
      action: 'user.updated',
    })
  })
})
