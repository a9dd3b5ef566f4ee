import { eq } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { testPublishing } from '../../test/config.ts'
import { connectionHelpers, type Tenant } from '../../test/connections.ts'
import { finished, postHelpers, type TestPost } from '../../test/posts.ts'
import { startTestServer } from '../../test/server.ts'
import { startReceiver } from '../../test/webhooks.ts'
import { createDatabaseClient } from '../db/client.ts'
import { sandboxPosts } from '../db/schema/index.ts'

// Platforms that finish posts minutes after accepting them (video processing, moderation), played
// by the sandbox's `#sandbox-processing` marker: the publication waits in `processing` holding no
// worker slot, and is checked until it ends.

// One publication of an account in flight at a time: a processing one must not hold that place.
const server = await startTestServer(
  {
    publishing: testPublishing({ accountConcurrency: 1 }),
    // Receivers listen on loopback, which the operator allows here (self-hosted setup).
    webhooks: { allowedNetworks: ['127.0.0.0/8', '::1/128'], timeoutSeconds: 5, concurrency: 4 },
  },
  { worker: true },
)
const { request } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { createPost, waitForPost } = postHelpers(server)
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)

async function setUp() {
  const tenant = await tenantWithProfile()
  const { accountId } = await connectPersonalAccount(tenant)
  return { tenant, accountId }
}

const statusOf = (post: TestPost) => post.publications[0]?.status
const outcomesOf = (post: TestPost) =>
  post.publications[0]?.timeline.map((attempt) => attempt.outcome)

async function subscribe(tenant: Tenant, eventTypes: string[]) {
  const receiver = await startReceiver()
  const response = await request('/v1/webhook-endpoints', {
    token: tenant.apiKey,
    json: { url: receiver.url, eventTypes },
  })
  expect(response.status, await response.clone().text()).toBe(201)
  return receiver
}

describe('publications the platform finishes later', () => {
  it('goes from publishing to processing to published, freeing its place for the account’s next post, with a publication.processing webhook', {
    timeout: 60_000,
  }, async () => {
    const { tenant, accountId } = await setUp()
    const receiver = await subscribe(tenant, ['publication.processing', 'publication.published'])
    const text = `A reel ${crypto.randomUUID()} #sandbox-processing:4`
    const slow = await createPost(tenant, accountId, { content: { text }, publishNow: true })

    const processing = await waitForPost(tenant, slow.id, (post) => statusOf(post) === 'processing')
    expect(processing.status).toBe('publishing')
    expect(processing.publications[0]?.url).toBeNull()
    expect(outcomesOf(processing)).toEqual(['processing'])

    // The account's only place is free: its next post publishes while the first is processing.
    const quick = await createPost(tenant, accountId, {
      content: { text: `Quick ${crypto.randomUUID()}` },
      publishNow: true,
    })
    const quickDone = await waitForPost(tenant, quick.id, finished)
    expect(quickDone.status).toBe('published')
    const meanwhile = await waitForPost(tenant, slow.id, () => true)
    expect(statusOf(meanwhile)).toBe('processing')

    const done = await waitForPost(tenant, slow.id, finished)
    expect(done.status).toBe('published')
    const [publication] = done.publications
    const [copy] = await db.select().from(sandboxPosts).where(eq(sandboxPosts.text, text))
    expect(publication).toMatchObject({ platformPostId: copy?.id, attempts: 1 })
    expect(publication?.url).toMatch(/^http:\/\/post-scheduler\.test\/sandbox\/p\//)
    // Checked on the platform's cadence until it was done; never published again.
    const outcomes = outcomesOf(done) ?? []
    expect(outcomes[0]).toBe('processing')
    expect(outcomes.at(-1)).toBe('published')
    expect(outcomes.slice(1, -1).every((outcome) => outcome === 'processing')).toBe(true)
    expect(await db.select().from(sandboxPosts).where(eq(sandboxPosts.text, text))).toHaveLength(1)

    const received = (await receiver.waitFor(3)).map(
      (delivery) => JSON.parse(delivery.body) as { type: string; data: Record<string, unknown> },
    )
    const ofSlow = received.filter((event) => event.data.postId === slow.id)
    expect(ofSlow.map((event) => event.type)).toEqual([
      'publication.processing',
      'publication.published',
    ])
    expect(ofSlow[0]?.data).toMatchObject({ status: 'processing', platformPostId: null })
  })

  it('fails a processing publication the platform gives up on, with its classified reason', {
    timeout: 30_000,
  }, async () => {
    const { tenant, accountId } = await setUp()
    const created = await createPost(tenant, accountId, {
      content: { text: `Broken video #sandbox-processing:1 #sandbox-fail:processing` },
      publishNow: true,
    })
    const post = await waitForPost(tenant, created.id, finished)
    expect(post.status).toBe('failed')
    expect(post.publications[0]?.error).toMatchObject({
      code: 'CONTENT_REJECTED',
      platformCode: 'PROCESSING_FAILED',
      action: 'fix_content',
      retryable: false,
    })
    expect(outcomesOf(post)?.[0]).toBe('processing')
    expect(outcomesOf(post)?.at(-1)).toBe('failed')
  })
})
