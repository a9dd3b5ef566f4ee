import { eq, sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { connectionHelpers } from '../../test/connections.ts'
import { postHelpers, type TestPost } from '../../test/posts.ts'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { connectedAccounts, sandboxPosts } from '../db/schema/index.ts'

// An account's budgets across its publications: how many are in flight at once, and the wait a
// platform asked for after a rate limit.

const publishing = {
  deadlineSeconds: 6,
  concurrency: 4,
  accountConcurrency: 1,
  platformConcurrency: 100,
  maxAttempts: 3,
  sweepIntervalSeconds: 1,
}
// Slow enough for publications to overlap if nothing kept them apart.
const server = await startTestServer({ publishing, sandboxLatencyMs: 300 }, { worker: true })
const { request } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { createPost, waitForPost } = postHelpers(server)
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)

const published = (post: TestPost) => post.status === 'published'

describe('publishing budgets per account', () => {
  it('keeps an account to its concurrency: its publications never overlap at 1', async () => {
    const tenant = await tenantWithProfile()
    const { accountId } = await connectPersonalAccount(tenant)
    const created = await Promise.all(
      Array.from({ length: 4 }, (_, index) =>
        createPost(tenant, accountId, {
          content: { text: `One at a time ${index} ${crypto.randomUUID()}` },
          publishNow: true,
        }),
      ),
    )
    const posts = await Promise.all(created.map((post) => waitForPost(tenant, post.id, published)))
    // Every attempt that called the platform, in order: each ends before the next starts.
    const attempts = posts
      .flatMap((post) => post.publications.flatMap((publication) => publication.timeline))
      .map((attempt) => ({
        start: Date.parse(attempt.startedAt),
        end: Date.parse(attempt.finishedAt ?? ''),
      }))
      .sort((a, b) => a.start - b.start)
    expect(attempts).toHaveLength(4)
    for (let i = 1; i < attempts.length; i++) {
      expect(attempts[i]?.start).toBeGreaterThanOrEqual(attempts[i - 1]?.end as number)
    }
  })

  it('makes the whole account wait after a rate limit, without calling the platform before', async () => {
    const tenant = await tenantWithProfile()
    const { accountId } = await connectPersonalAccount(tenant)

    // A rate limit answered to one publication pauses the account for the platform's Retry-After.
    const limited = await createPost(tenant, accountId, {
      content: { text: `Limited ${crypto.randomUUID()} #sandbox-fail:rate_limit` },
      publishNow: true,
    })
    await waitForPost(
      tenant,
      limited.id,
      (post) => post.publications[0]?.error?.code === 'RATE_LIMITED',
    )
    const [paused] = await db
      .select({ until: connectedAccounts.rateLimitedUntil })
      .from(connectedAccounts)
      .where(eq(connectedAccounts.id, accountId))
    // The sandbox asks for 30 s.
    expect(paused?.until?.getTime()).toBeGreaterThan(Date.now() + 20_000)
    const canceled = await request(`/v1/posts/${limited.id}/cancel`, {
      token: tenant.apiKey,
      method: 'POST',
    })
    expect(canceled.status, await canceled.clone().text()).toBe(200)

    // Another post for the account waits until the pause is over (shortened here to 2 s), then
    // goes out with a single attempt: nothing was sent to be refused meanwhile.
    const until = await db
      .update(connectedAccounts)
      .set({ rateLimitedUntil: sql`now() + interval '2 seconds'` })
      .where(eq(connectedAccounts.id, accountId))
      .returning({ until: connectedAccounts.rateLimitedUntil })
    const text = `After the pause ${crypto.randomUUID()}`
    const waiting = await createPost(tenant, accountId, { content: { text }, publishNow: true })
    const post = await waitForPost(tenant, waiting.id, published)
    const [publication] = post.publications
    expect(publication?.timeline).toHaveLength(1)
    const [copy] = await db.select().from(sandboxPosts).where(eq(sandboxPosts.text, text))
    expect(copy?.createdAt.getTime()).toBeGreaterThanOrEqual(until[0]?.until?.getTime() as number)
  })
})
