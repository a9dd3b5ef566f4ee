import { eq, sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { connectionHelpers } from '../../test/connections.ts'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { idempotencyKeys, posts } from '../db/schema/index.ts'
import { purgeIdempotencyKeys } from './idempotency.ts'

const server = await startTestServer()
const { request } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)

async function setUp() {
  const tenant = await tenantWithProfile()
  const { accountId } = await connectPersonalAccount(tenant)
  const body = {
    accountIds: [accountId],
    content: { text: `Once ${crypto.randomUUID()}` },
    scheduledAt: new Date(Date.now() + 86_400_000).toISOString(),
  }
  return { tenant, accountId, body }
}

const postsOf = (workspaceId: string) =>
  db.select({ id: posts.id }).from(posts).where(eq(posts.workspaceId, workspaceId))

const createWithKey = (token: string, key: string, json: unknown) =>
  request('/v1/posts', { token, json, headers: { 'idempotency-key': key } })

describe('idempotency', () => {
  it('replays the first response for the same key and body, creating one post', async () => {
    const { tenant, body } = await setUp()
    const key = crypto.randomUUID()
    const first = await createWithKey(tenant.apiKey, key, body)
    expect(first.status, await first.clone().text()).toBe(201)
    expect(first.headers.get('idempotent-replayed')).toBeNull()
    // Key order and spacing do not make another request.
    const reordered = Object.fromEntries(Object.entries(body).reverse())
    const second = await createWithKey(tenant.apiKey, key, reordered)
    expect(second.status).toBe(201)
    expect(second.headers.get('idempotent-replayed')).toBe('true')
    expect(second.headers.get('content-type')).toContain('application/json')
    expect(await second.json()).toEqual(await first.json())
    expect(await postsOf(tenant.workspaceId)).toHaveLength(1)
  })

  it('refuses the same key with another body with 422 IDEMPOTENCY_KEY_REUSED', async () => {
    const { tenant, body } = await setUp()
    const key = crypto.randomUUID()
    expect((await createWithKey(tenant.apiKey, key, body)).status).toBe(201)
    const other = await createWithKey(tenant.apiKey, key, {
      ...body,
      content: { text: 'Something else' },
    })
    expect(other.status).toBe(422)
    expect(other.headers.get('content-type')).toContain('application/problem+json')
    expect(((await other.json()) as { code: string }).code).toBe('IDEMPOTENCY_KEY_REUSED')
    const elsewhere = await request('/v1/posts/validate', {
      token: tenant.apiKey,
      json: body,
      headers: { 'idempotency-key': key },
    })
    expect(elsewhere.status).toBe(422)
    expect(await postsOf(tenant.workspaceId)).toHaveLength(1)
  })

  it('creates exactly one post when the same request races with itself', async () => {
    const { tenant, body } = await setUp()
    const key = crypto.randomUUID()
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => createWithKey(tenant.apiKey, key, body)),
    )
    const statuses = responses.map((response) => response.status)
    expect(
      statuses.every((status) => status === 201 || status === 409),
      `${statuses}`,
    ).toBe(true)
    expect(statuses).toContain(201)
    const ids = new Set(
      await Promise.all(
        responses
          .filter((response) => response.status === 201)
          .map(async (response) => ((await response.json()) as { id: string }).id),
      ),
    )
    expect(ids.size).toBe(1)
    expect(await postsOf(tenant.workspaceId)).toHaveLength(1)
  })

  it('keeps keys per caller: another API key with the same key gets its own response', async () => {
    const { tenant, body } = await setUp()
    const key = crypto.randomUUID()
    expect((await createWithKey(tenant.apiKey, key, body)).status).toBe(201)
    const second = (await (
      await request('/v1/api-keys', {
        token: tenant.person.token,
        json: { name: 'second', scopes: ['read', 'write'] },
      })
    ).json()) as { secret: string }
    const other = await createWithKey(second.secret, key, {
      ...body,
      content: { text: 'From the other key' },
    })
    expect(other.status, await other.clone().text()).toBe(201)
    expect(other.headers.get('idempotent-replayed')).toBeNull()
    expect(await postsOf(tenant.workspaceId)).toHaveLength(2)
  })

  it('replays a validation failure, and runs again once the key is gone', async () => {
    const { tenant, body } = await setUp()
    const key = crypto.randomUUID()
    const invalid = { ...body, scheduledAt: '2020-01-01T00:00:00Z' }
    expect((await createWithKey(tenant.apiKey, key, invalid)).status).toBe(422)
    const replayed = await createWithKey(tenant.apiKey, key, invalid)
    expect(replayed.status).toBe(422)
    expect(replayed.headers.get('idempotent-replayed')).toBe('true')
    await db
      .update(idempotencyKeys)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(idempotencyKeys.key, key))
    expect(await purgeIdempotencyKeys(db)).toBeGreaterThanOrEqual(1)
    expect(await db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, key))).toEqual([])
    expect((await createWithKey(tenant.apiKey, key, body)).status).toBe(201)
  })

  it('answers 409 while the first request with the key is still in flight', async () => {
    const { tenant, body } = await setUp()
    const key = crypto.randomUUID()
    expect((await createWithKey(tenant.apiKey, key, body)).status).toBe(201)
    // As a request still running leaves its row: no response yet.
    await db
      .update(idempotencyKeys)
      .set({ responseStatus: null, responseBody: null })
      .where(eq(idempotencyKeys.key, key))
    const busy = await createWithKey(tenant.apiKey, key, body)
    expect(busy.status).toBe(409)
    expect(((await busy.json()) as { code: string }).code).toBe('CONFLICT')
    expect(busy.headers.get('retry-after')).toBe('1')
    expect(await postsOf(tenant.workspaceId)).toHaveLength(1)
  })

  it('refuses a malformed key with 422 and creates nothing', async () => {
    const { tenant, body } = await setUp()
    for (const key of ['with space', 'x'.repeat(256), 'tab\tinside']) {
      const response = await createWithKey(tenant.apiKey, key, body)
      expect(response.status, key).toBe(422)
      const problem = (await response.json()) as { issues: { location: string }[] }
      expect(problem.issues[0]?.location).toBe('header')
    }
    expect(await postsOf(tenant.workspaceId)).toHaveLength(0)
  })

  it('keeps stored responses sealed, since some carry secrets', async () => {
    const { tenant } = await setUp()
    const key = crypto.randomUUID()
    const created = await request('/v1/api-keys', {
      token: tenant.person.token,
      json: { name: 'sealed', scopes: ['read'] },
      headers: { 'idempotency-key': key },
    })
    const { secret } = (await created.json()) as { secret: string }
    const [row] = await db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, key))
    expect(row?.responseStatus).toBe(201)
    expect(row?.responseBody).not.toContain(secret)
    const replayed = await request('/v1/api-keys', {
      token: tenant.person.token,
      json: { name: 'sealed', scopes: ['read'] },
      headers: { 'idempotency-key': key },
    })
    expect(((await replayed.json()) as { secret: string }).secret).toBe(secret)
  })
})
