import { asc, eq } from 'drizzle-orm'
import { afterAll, expect, it } from 'vitest'
import { testPublishing } from '../../test/config.ts'
import { connectionHelpers } from '../../test/connections.ts'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { posts } from '../db/schema/index.ts'

const publishing = testPublishing({ maxAttempts: 3 })
const server = await startTestServer({ publishing, logLevel: 'warn' } as never, { worker: true })
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)

it('lets the workers’ sweeper publish an occurrence and materialise the next one', async () => {
  const tenant = await tenantWithProfile()
  const { accountId } = await connectPersonalAccount(tenant)
  const startsAt = new Date(Date.now() + 1500)
  const response = await server.request('/v1/posts', {
    token: tenant.apiKey,
    json: {
      accountIds: [accountId],
      content: { text: `Every day ${crypto.randomUUID()}` },
      scheduledAt: startsAt.toISOString(),
      timezone: 'Europe/Berlin',
      recurrence: { rule: 'FREQ=DAILY;COUNT=3' },
    },
  })
  expect(response.status, await response.clone().text()).toBe(201)
  const { seriesId } = (await response.json()) as { seriesId: string }

  let rows: (typeof posts.$inferSelect)[] = []
  for (let i = 0; i < 150; i++) {
    rows = await db
      .select()
      .from(posts)
      .where(eq(posts.seriesId, seriesId))
      .orderBy(asc(posts.scheduledAt))
    if (rows.length === 2 && rows[0]?.status === 'published') break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  expect(rows.map((row) => row.status)).toEqual(['published', 'scheduled'])
  // The next occurrence is the same wall time a day later, whatever the offset that day.
  const [first, second] = rows.map((row) => row.scheduledAt as Date)
  const local = (instant: Date | undefined) =>
    instant?.toLocaleTimeString('en-GB', { timeZone: 'Europe/Berlin' })
  expect(local(second)).toBe(local(first))
  expect((second?.getTime() ?? 0) - (first?.getTime() ?? 0)).toBeGreaterThanOrEqual(23 * 3_600_000)
})
