import { and, eq, sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { connectionHelpers } from '../../test/connections.ts'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { usageEvents } from '../db/schema/index.ts'
import { pruneUsageEvents } from './retention.ts'

const server = await startTestServer()
const { request } = server
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)

/** `months` calendar months before `now`, plus `extraMs`. */
const monthsBefore = (now: Date, months: number, extraMs = 0) => {
  const at = new Date(now)
  at.setUTCMonth(at.getUTCMonth() - months)
  return new Date(at.getTime() - extraMs)
}

/** The usage events of a person, waiting a little: they are written after the response. */
async function eventsOf(userId: string, expected: number) {
  for (let i = 0; i < 50; i++) {
    const rows = await db.select().from(usageEvents).where(eq(usageEvents.userId, userId))
    if (rows.length >= expected) return rows
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return db.select().from(usageEvents).where(eq(usageEvents.userId, userId))
}

describe('usage analytics', () => {
  it('record features used by route template, never content, addresses or secrets', async () => {
    const tenant = await server.createTenant()
    await request('/v1/profiles', {
      token: tenant.apiKey,
      json: { name: 'A very private brand name', externalId: 'customer-42' },
    })
    const rows = await eventsOf(tenant.person.userId, 2)
    expect(rows.map((row) => row.feature)).toEqual(
      expect.arrayContaining(['GET /v1/me', 'POST /v1/workspaces']),
    )
    const [keyCall] = await db
      .select()
      .from(usageEvents)
      .where(
        sql`${usageEvents.workspaceId} = ${tenant.workspaceId} and ${usageEvents.feature} = 'POST /v1/profiles'`,
      )
    expect(keyCall).toMatchObject({ type: 'feature.used', userId: null })
    const dump = JSON.stringify(await db.select().from(usageEvents))
    for (const secret of [
      'A very private brand name',
      'customer-42',
      tenant.apiKey,
      tenant.person.token,
      tenant.person.email,
    ]) {
      expect(dump).not.toContain(secret)
    }
  })

  it('are all written before the server stops, those of requests answered just before included', async () => {
    const stopping = await startTestServer()
    const tenant = await stopping.createTenant()
    // Each write of usage events takes 300 ms: when the server is asked to stop, one is running
    // and the events of the other requests wait behind it.
    const other = createDatabaseClient(stopping.databaseURL, { max: 1 })
    await other.sql.unsafe(`
      create function post_scheduler.slow_usage() returns trigger language plpgsql as
        $$ begin perform pg_sleep(0.3); return null; end $$;
      create trigger slow_usage after insert on post_scheduler.usage_events
        for each statement execute function post_scheduler.slow_usage();`)
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => stopping.request('/v1/profiles', { token: tenant.apiKey })),
    )
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200))
    await stopping.scheduler.stop()
    const rows = await other.db
      .select()
      .from(usageEvents)
      .where(
        and(
          eq(usageEvents.workspaceId, tenant.workspaceId),
          eq(usageEvents.feature, 'GET /v1/profiles'),
        ),
      )
    await other.close()
    expect(rows).toHaveLength(40)
  })

  it('count posts scheduled, without their content', async () => {
    const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
    const tenant = await tenantWithProfile()
    const { accountId } = await connectPersonalAccount(tenant)
    const created = await request('/v1/posts', {
      token: tenant.apiKey,
      json: {
        accountIds: [accountId],
        content: { text: 'Secret launch plans' },
        scheduledAt: new Date(Date.now() + 86_400_000).toISOString(),
      },
    })
    expect(created.status).toBe(201)
    let rows: (typeof usageEvents.$inferSelect)[] = []
    for (let i = 0; i < 50 && rows.length === 0; i++) {
      rows = await db
        .select()
        .from(usageEvents)
        .where(
          sql`${usageEvents.workspaceId} = ${tenant.workspaceId} and ${usageEvents.type} = 'post.scheduled'`,
        )
      if (rows.length === 0) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(rows).toEqual([expect.objectContaining({ feature: 'POST /v1/posts', userId: null })])
    expect(JSON.stringify(await db.select().from(usageEvents))).not.toContain('Secret launch plans')
  })

  it('stop for a person who withdraws consent, who keeps using the service, and resume when granted again', async () => {
    const person = await server.signUp()
    const withdrawn = await request('/v1/me/consents', {
      token: person.token,
      json: { purpose: 'usage_analytics', granted: false },
    })
    expect(withdrawn.status).toBe(200)
    expect(await withdrawn.json()).toMatchObject({ usageAnalytics: { granted: false } })
    const before = (await eventsOf(person.userId, 1)).length
    for (let i = 0; i < 3; i++) {
      expect((await request('/v1/me', { token: person.token })).status).toBe(200)
    }
    const workspace = await request('/v1/workspaces', {
      token: person.token,
      json: { name: 'Still works' },
    })
    expect(workspace.status).toBe(201)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect((await eventsOf(person.userId, before)).length).toBe(before)

    await request('/v1/me/consents', {
      token: person.token,
      json: { purpose: 'usage_analytics', granted: true },
    })
    await request('/v1/me', { token: person.token })
    expect((await eventsOf(person.userId, before + 2)).length).toBeGreaterThan(before)
    const consents = await request('/v1/me/consents', { token: person.token })
    expect(((await consents.json()) as { history: unknown[] }).history).toEqual([
      expect.objectContaining({ purpose: 'usage_analytics', granted: false }),
      expect.objectContaining({ purpose: 'usage_analytics', granted: true }),
    ])
  })

  it('keep raw events 24 months: pruning at a given day removes the 25-month-old, keeps the 23- and 24-month-old', async () => {
    const tenant = await server.createTenant()
    const now = new Date('2027-06-15T12:00:00Z')
    const ages = {
      '23 months': monthsBefore(now, 23),
      '24 months': monthsBefore(now, 24),
      '24 months and a second': monthsBefore(now, 24, 1000),
      '25 months': monthsBefore(now, 25),
    }
    for (const [feature, occurredAt] of Object.entries(ages)) {
      await db.insert(usageEvents).values({
        type: 'feature.used',
        feature,
        workspaceId: tenant.workspaceId,
        occurredAt,
      })
    }
    const pruned = await pruneUsageEvents(db, now)
    expect(pruned).toBeGreaterThanOrEqual(2)
    const left = await db
      .select({ feature: usageEvents.feature })
      .from(usageEvents)
      .where(eq(usageEvents.workspaceId, tenant.workspaceId))
    expect(left.map((row) => row.feature).sort()).toEqual(['23 months', '24 months'])
    // A month later, the 23-month-old event is 24 months old: still kept; at 25 it goes.
    await pruneUsageEvents(db, monthsBefore(now, -1))
    expect(
      (
        await db.select().from(usageEvents).where(eq(usageEvents.workspaceId, tenant.workspaceId))
      ).map((row) => row.feature),
    ).toEqual(['23 months'])
    await pruneUsageEvents(db, monthsBefore(now, -2))
    expect(
      await db.select().from(usageEvents).where(eq(usageEvents.workspaceId, tenant.workspaceId)),
    ).toEqual([])
  })

  it('are shown to workspace admins aggregated by month, type and feature', async () => {
    const tenant = await server.createTenant()
    for (let i = 0; i < 3; i++) await request('/v1/profiles', { token: tenant.apiKey })
    let summary: { data: { feature: string; count: number; type: string; month: string }[] } = {
      data: [],
    }
    for (let i = 0; i < 50; i++) {
      const response = await request('/v1/usage', { token: tenant.apiKey })
      expect(response.status).toBe(200)
      summary = (await response.json()) as typeof summary
      if (summary.data.some((row) => row.feature === 'GET /v1/profiles' && row.count === 3)) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(summary.data).toContainEqual({
      month: new Date().toISOString().slice(0, 7),
      type: 'feature.used',
      feature: 'GET /v1/profiles',
      count: 3,
    })
  })
})
