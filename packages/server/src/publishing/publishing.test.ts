import { eq } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { testPublishing } from '../../test/config.ts'
import { connectionHelpers } from '../../test/connections.ts'
import { fileForm, makeImage, mediaTestConfig } from '../../test/media.ts'
import { finished, postHelpers, type TestPost } from '../../test/posts.ts'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { connectedAccounts, sandboxPosts } from '../db/schema/index.ts'

const publishing = testPublishing({ maxAttempts: 3 })
const server = await startTestServer(
  { publishing, media: await mediaTestConfig() },
  { worker: true },
)
const { request } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { createPost, waitForPost } = postHelpers(server)
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)

type Post = TestPost

async function setUp() {
  const tenant = await tenantWithProfile()
  const { accountId } = await connectPersonalAccount(tenant)
  return { tenant, accountId }
}

const sandboxCopies = (text: string) =>
  db.select().from(sandboxPosts).where(eq(sandboxPosts.text, text))

describe('publishing', () => {
  it('publishes a post now, once, with the platform id, URL and timeline', async () => {
    const { tenant, accountId } = await setUp()
    const text = `Hello sandbox ${crypto.randomUUID()}`
    const created = await createPost(tenant, accountId, { content: { text }, publishNow: true })
    expect(created.publications[0]?.status).toBe('queued')
    const post = await waitForPost(tenant, created.id, finished)
    expect(post.status).toBe('published')
    const [publication] = post.publications
    expect(publication?.platformPostId).toBeTruthy()
    expect(publication?.url).toMatch(/^http:\/\/post-scheduler\.test\/sandbox\//)
    expect(publication?.timeline.map((attempt) => attempt.outcome)).toEqual(['published'])
    expect(await sandboxCopies(text)).toHaveLength(1)
  })

  it('publishes a scheduled post when its time comes', async () => {
    const { tenant, accountId } = await setUp()
    const text = `Later ${crypto.randomUUID()}`
    const scheduledAt = new Date(Date.now() + 2000)
    const created = await createPost(tenant, accountId, {
      content: { text },
      scheduledAt: scheduledAt.toISOString(),
      timezone: 'Europe/Berlin',
    })
    expect(created.status).toBe('scheduled')
    const post = await waitForPost(tenant, created.id, finished)
    expect(post.status).toBe('published')
    const [copy] = await sandboxCopies(text)
    expect(copy?.createdAt.getTime()).toBeGreaterThanOrEqual(scheduledAt.getTime() - 1000)
  })

  it('reconciles a publish whose answer was lost, without posting again', async () => {
    const { tenant, accountId } = await setUp()
    const text = `Lost answer ${crypto.randomUUID()} #sandbox-fail:timeout_after_commit`
    const created = await createPost(tenant, accountId, { content: { text }, publishNow: true })
    // The first attempt waits out its call timeout before it knows the answer is lost, then the
    // retry waits its backoff: 20 s was too tight once on a loaded machine.
    const post = await waitForPost(tenant, created.id, finished, 45_000)
    expect(post.status).toBe('published')
    expect(post.publications[0]?.timeline.map((attempt) => attempt.outcome)).toEqual([
      'unknown',
      'reconciled',
    ])
    expect(await sandboxCopies(text)).toHaveLength(1)
  }, 60_000)

  it('fails a rejected post with the platform’s reason and asks to fix the content', async () => {
    const { tenant, accountId } = await setUp()
    const created = await createPost(tenant, accountId, {
      content: { text: 'Nope #sandbox-fail:reject' },
      publishNow: true,
    })
    const post = await waitForPost(tenant, created.id, finished)
    expect(post.status).toBe('failed')
    expect(post.publications[0]?.error).toMatchObject({
      code: 'CONTENT_REJECTED',
      action: 'fix_content',
    })
  })

  it('fails with action reconnect and flags the account when its access was withdrawn', async () => {
    const { tenant, accountId } = await setUp()
    const created = await createPost(tenant, accountId, {
      content: { text: 'Gone #sandbox-fail:invalid_token' },
      publishNow: true,
    })
    const post = await waitForPost(tenant, created.id, finished)
    expect(post.publications[0]?.error).toMatchObject({
      code: 'RECONNECT_REQUIRED',
      action: 'reconnect',
    })
    const [account] = await db
      .select()
      .from(connectedAccounts)
      .where(eq(connectedAccounts.id, accountId))
    expect(account?.status).toBe('reauth_required')
  })

  it('refuses a post with an unknown account, a past time or content the platform cannot take, creating nothing', async () => {
    const { tenant, accountId } = await setUp()
    const response = await request('/v1/posts', {
      token: tenant.apiKey,
      json: {
        accountIds: [accountId, 'acct_unknown'],
        content: { text: 'x'.repeat(100_000) },
        scheduledAt: '2020-01-01T00:00:00Z',
      },
    })
    expect(response.status).toBe(422)
    const problem = (await response.json()) as { issues: { path: (string | number)[] }[] }
    const paths = problem.issues.map((issue) => issue.path.join('.'))
    expect(paths).toContain('accountIds.1')
    expect(paths).toContain('scheduledAt')
    expect(paths.some((path) => path.startsWith('targets.sandbox'))).toBe(true)
  })
})

describe('publishing with media', () => {
  it('sends the post’s image to the platform, keeps it in use until published, then releases it', async () => {
    const { tenant, accountId } = await setUp()
    const uploaded = await server.scheduler.app.request('/v1/media', {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.apiKey}` },
      body: fileForm(await makeImage('png', 320, 240), 'square.png'),
    })
    expect(uploaded.status).toBe(201)
    const image = (await uploaded.json()) as { id: string }
    const text = `With an image ${crypto.randomUUID()}`
    const created = await createPost(tenant, accountId, {
      content: { text, mediaIds: [image.id] },
      scheduledAt: new Date(Date.now() + 1500).toISOString(),
    })
    const inUse = await request(`/v1/media/${image.id}`, { method: 'DELETE', token: tenant.apiKey })
    expect(inUse.status).toBe(409)
    expect(await waitForPost(tenant, created.id, finished)).toMatchObject({ status: 'published' })
    const [copy] = await sandboxCopies(text)
    expect(copy?.media).toEqual([expect.objectContaining({ kind: 'image', mimeType: 'image/png' })])
    const released = await request(`/v1/media/${image.id}`, {
      method: 'DELETE',
      token: tenant.apiKey,
    })
    expect(released.status).toBe(204)
  })

  it('refuses media a platform cannot take, saying which and why', async () => {
    const { tenant, accountId } = await setUp()
    const response = await request('/v1/posts', {
      token: tenant.apiKey,
      json: {
        accountIds: [accountId],
        content: { text: 'x', mediaIds: ['med_missing'] },
        publishNow: true,
      },
    })
    expect(response.status).toBe(422)
    expect(await response.json()).toMatchObject({
      issues: [
        expect.objectContaining({
          path: ['targets', 'sandbox', 'media', 0],
          code: 'MEDIA_NOT_FOUND',
        }),
      ],
    })
  })
})

describe('the sandbox and disconnected accounts', () => {
  it('lists what reached the sandbox for the caller’s accounts, with no duplicates', async () => {
    const { tenant, accountId } = await setUp()
    const text = `Listed ${crypto.randomUUID()}`
    const created = await createPost(tenant, accountId, { content: { text }, publishNow: true })
    const post = await waitForPost(tenant, created.id, finished)
    const listed = (await (
      await request('/v1/sandbox/posts', { token: tenant.apiKey })
    ).json()) as {
      data: { id: string; text: string }[]
      duplicates: number
    }
    expect(listed.data).toEqual([
      expect.objectContaining({ id: post.publications[0]?.platformPostId, text }),
    ])
    expect(listed.duplicates).toBe(0)
    const other = await tenantWithProfile()
    const theirs = (await (await request('/v1/sandbox/posts', { token: other.apiKey })).json()) as {
      data: unknown[]
    }
    expect(theirs.data).toEqual([])
  })

  it('cancels what was waiting for an account when it is disconnected', async () => {
    const { tenant, accountId } = await setUp()
    const created = await createPost(tenant, accountId, {
      content: { text: `Never ${crypto.randomUUID()}` },
      scheduledAt: new Date(Date.now() + 3600_000).toISOString(),
    })
    expect(
      (await request(`/v1/accounts/${accountId}`, { method: 'DELETE', token: tenant.apiKey }))
        .status,
    ).toBe(200)
    const post = (await (
      await request(`/v1/posts/${created.id}`, { token: tenant.apiKey })
    ).json()) as Post
    expect(post.status).toBe('canceled')
    expect(post.publications[0]?.status).toBe('canceled')
  })
})
