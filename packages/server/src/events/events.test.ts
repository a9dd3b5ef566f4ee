import { eq } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { testPublishing } from '../../test/config.ts'
import { connectionHelpers, type Tenant } from '../../test/connections.ts'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { events } from '../db/schema/index.ts'
import { recordEvent } from './events.ts'

const publishing = testPublishing()
const server = await startTestServer({ publishing }, { worker: true })
const { request } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)

type Event = {
  id: string
  type: string
  version: number
  timestamp: string
  workspaceId: string
  profileId: string | null
  data: Record<string, unknown> & { publications?: { status: string; url: string | null }[] }
}
type Page = { data: Event[]; nextCursor: string | null }

async function listEvents(tenant: Tenant, query = '', token = tenant.apiKey) {
  const response = await request(`/v1/events${query}`, { token })
  expect(response.status, await response.clone().text()).toBe(200)
  return (await response.json()) as Page
}

/** The types of the events about one post, oldest first. */
async function typesOf(tenant: Tenant, postId: string) {
  const page = await listEvents(tenant, '?order=asc&limit=100')
  return page.data.filter((event) => event.data.postId === postId).map((event) => event.type)
}

async function waitForTypes(tenant: Tenant, postId: string, count: number) {
  for (let i = 0; i < 150; i++) {
    const types = await typesOf(tenant, postId)
    if (types.length >= count) return types
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`the post never had ${count} events: ${await typesOf(tenant, postId)}`)
}

async function createPost(tenant: Tenant, accountId: string, body: Record<string, unknown>) {
  const response = await request('/v1/posts', {
    token: tenant.apiKey,
    json: { accountIds: [accountId], ...body },
  })
  expect(response.status, await response.clone().text()).toBe(201)
  return (await response.json()) as { id: string }
}

async function setUp() {
  const tenant = await tenantWithProfile()
  const { accountId } = await connectPersonalAccount(tenant)
  return { tenant, accountId }
}

describe('the event log', () => {
  it('records an account connection with the account and never a token', async () => {
    const { tenant, accountId } = await setUp()
    const { data } = await listEvents(tenant, '?type=account.connected')
    expect(data).toHaveLength(1)
    expect(data[0]).toMatchObject({
      id: expect.stringMatching(/^evt_/),
      type: 'account.connected',
      version: 1,
      workspaceId: tenant.workspaceId,
      profileId: tenant.profileId,
      data: { accountId, platform: 'sandbox', status: 'active' },
    })
    expect(JSON.stringify(data)).not.toMatch(/token/i)
  })

  it('gives immediate and scheduled posts the same events, outcome last', async () => {
    const { tenant, accountId } = await setUp()
    const now = await createPost(tenant, accountId, {
      content: { text: `Now ${crypto.randomUUID()}` },
      publishNow: true,
    })
    const later = await createPost(tenant, accountId, {
      content: { text: `Soon ${crypto.randomUUID()}` },
      scheduledAt: new Date(Date.now() + 2000).toISOString(),
    })
    const expected = ['post.scheduled', 'publication.published', 'post.published']
    expect(await waitForTypes(tenant, now.id, 3)).toEqual(expected)
    expect(await waitForTypes(tenant, later.id, 3)).toEqual(expected)

    const [published] = (await listEvents(tenant, '?type=post.published')).data.filter(
      (event) => event.data.postId === later.id,
    )
    expect(published?.data).toMatchObject({ status: 'published', profileId: tenant.profileId })
    expect(published?.data.publications?.[0]).toMatchObject({
      status: 'published',
      url: expect.stringMatching(/^http:\/\/post-scheduler\.test\/sandbox\//),
    })
  })

  it('records a failure, the account needing its owner, and a cancel', async () => {
    const { tenant, accountId } = await setUp()
    const gone = await createPost(tenant, accountId, {
      content: { text: `Gone ${crypto.randomUUID()} #sandbox-fail:invalid_token` },
      publishNow: true,
    })
    expect(await waitForTypes(tenant, gone.id, 3)).toEqual([
      'post.scheduled',
      'publication.failed',
      'post.failed',
    ])
    const [failed] = (await listEvents(tenant, '?type=publication.failed')).data
    expect(failed?.data).toMatchObject({
      postId: gone.id,
      status: 'failed',
      error: { code: 'RECONNECT_REQUIRED', action: 'reconnect' },
    })
    const reauth = await listEvents(tenant, '?type=account.reauth_required')
    expect(reauth.data.map((event) => event.data)).toMatchObject([
      { accountId, status: 'reauth_required', statusReason: 'publish_refused' },
    ])

    const { tenant: other, accountId: otherAccount } = await setUp()
    const later = await createPost(other, otherAccount, {
      content: { text: `Later ${crypto.randomUUID()}` },
      scheduledAt: new Date(Date.now() + 86_400_000).toISOString(),
    })
    const canceled = await request(`/v1/posts/${later.id}/cancel`, {
      method: 'POST',
      token: other.apiKey,
    })
    expect(canceled.status).toBe(200)
    expect(await typesOf(other, later.id)).toEqual(['post.scheduled', 'post.canceled'])
    const draft = await createPost(other, otherAccount, { content: { text: 'Draft' }, draft: true })
    await request(`/v1/posts/${draft.id}/cancel`, { method: 'POST', token: other.apiKey })
    expect(await typesOf(other, draft.id)).toEqual(['post.canceled'])

    const disconnected = await request(`/v1/accounts/${otherAccount}`, {
      method: 'DELETE',
      token: other.apiKey,
    })
    expect(disconnected.status, await disconnected.clone().text()).toBe(200)
    const last = (await listEvents(other, '?limit=1')).data[0]
    expect(last).toMatchObject({
      type: 'account.disconnected',
      data: { accountId: otherAccount, status: 'revoked' },
    })
  })

  it('announces a reschedule and a draft getting a time, not a mere edit', async () => {
    const { tenant, accountId } = await setUp()
    const draft = await createPost(tenant, accountId, { content: { text: 'Draft' }, draft: true })
    const patch = (json: unknown) =>
      request(`/v1/posts/${draft.id}`, { method: 'PATCH', token: tenant.apiKey, json })
    const at = new Date(Date.now() + 86_400_000).toISOString()
    expect((await patch({ scheduledAt: at })).status).toBe(200)
    expect((await patch({ content: { text: 'Edited' } })).status).toBe(200)
    expect(
      (await patch({ scheduledAt: new Date(Date.now() + 2 * 86_400_000).toISOString() })).status,
    ).toBe(200)
    expect(await typesOf(tenant, draft.id)).toEqual(['post.scheduled', 'post.scheduled'])
  })

  it('filters by type, profile and time, pages with cursors, and keeps workspaces apart', async () => {
    const { tenant, accountId } = await setUp()
    const before = new Date().toISOString()
    for (let i = 0; i < 3; i++) {
      await createPost(tenant, accountId, {
        content: { text: `Page ${i} ${crypto.randomUUID()}` },
        scheduledAt: new Date(Date.now() + 86_400_000 + i * 60_000).toISOString(),
      })
    }
    const first = await listEvents(tenant, `?type=post.scheduled&from=${before}&limit=2`)
    expect(first.data).toHaveLength(2)
    expect(first.nextCursor).not.toBeNull()
    const second = await listEvents(
      tenant,
      `?type=post.scheduled&from=${before}&limit=2&cursor=${first.nextCursor}`,
    )
    expect(second.data).toHaveLength(1)
    expect(second.nextCursor).toBeNull()
    const ids = [...first.data, ...second.data].map((event) => event.id)
    expect(new Set(ids).size).toBe(3)
    // Newest first by default; ascending on request.
    const ascending = await listEvents(tenant, `?type=post.scheduled&from=${before}&order=asc`)
    expect(ascending.data.map((event) => event.id)).toEqual([...ids].reverse())

    const both = await listEvents(tenant, '?type=account.connected,post.scheduled')
    expect(new Set(both.data.map((event) => event.type))).toEqual(
      new Set(['account.connected', 'post.scheduled']),
    )
    expect((await listEvents(tenant, `?profileId=${tenant.profileId}`)).data.length).toBe(4)
    expect((await listEvents(tenant, '?profileId=prof_mzxw6ytboi2dkmzvgq3tqnrvhe')).data).toEqual(
      [],
    )
    expect((await listEvents(tenant, `?to=${before}&type=post.scheduled`)).data).toEqual([])

    const stranger = await tenantWithProfile()
    expect((await listEvents(stranger)).data).toEqual([])
    const one = await request(`/v1/events/${ids[0]}`, { token: tenant.apiKey })
    expect(await one.json()).toEqual(first.data[0])
    expect((await request(`/v1/events/${ids[0]}`, { token: stranger.apiKey })).status).toBe(404)

    const bad = await request('/v1/events?type=post.exploded', { token: tenant.apiKey })
    expect(bad.status).toBe(422)
    expect(await bad.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [{ location: 'query', path: ['type', 0] }],
    })
  })

  it('shows a profile token its own profile’s events only', async () => {
    const { tenant } = await setUp()
    const other = await request('/v1/profiles', {
      token: tenant.apiKey,
      json: { name: 'Other brand', externalId: `other-${crypto.randomUUID()}` },
    })
    const otherProfile = (await other.json()) as { id: string }
    const minted = await request(`/v1/profiles/${otherProfile.id}/tokens`, {
      token: tenant.apiKey,
      json: { scopes: ['read'] },
    })
    expect(minted.status, await minted.clone().text()).toBe(201)
    const { token } = (await minted.json()) as { token: string }
    expect((await listEvents(tenant, '', token)).data).toEqual([])
    expect((await listEvents(tenant)).data.length).toBeGreaterThan(0)
  })

  it('writes an event with its transaction only, and refuses data that breaks its schema', async () => {
    const { tenant } = await setUp()
    const data = {
      accountId: 'acct_x',
      profileId: tenant.profileId,
      platform: 'sandbox',
      platformAccountId: '1',
      displayName: 'Ada',
      username: null,
      status: 'revoked' as const,
      statusReason: 'disconnected',
    }
    let id = ''
    await expect(
      db.transaction(async (tx) => {
        id = await recordEvent(tx, {
          type: 'account.disconnected',
          workspaceId: tenant.workspaceId,
          profileId: tenant.profileId,
          data,
        })
        throw new Error('the change failed')
      }),
    ).rejects.toThrow('the change failed')
    expect(id).toMatch(/^evt_/)
    expect(await db.select().from(events).where(eq(events.id, id))).toEqual([])

    await expect(
      db.transaction((tx) =>
        recordEvent(tx, {
          type: 'account.disconnected',
          workspaceId: tenant.workspaceId,
          data: { ...data, status: 'exploded' } as never,
        }),
      ),
    ).rejects.toThrow(/status/)
  })
})
