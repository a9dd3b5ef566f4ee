import { eq, sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { connectionHelpers } from '../../test/connections.ts'
import { postHelpers, type TestPost } from '../../test/posts.ts'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { appRateLimits, sandboxPosts } from '../db/schema/index.ts'

// A platform's budgets across every account: how many publications to it are in flight at once,
// and the wait it asked of the whole app after an app-wide rate limit.

const publishing = {
  deadlineSeconds: 6,
  concurrency: 8,
  accountConcurrency: 4,
  platformConcurrency: 1,
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

describe('publishing budgets per platform', () => {
  it('keeps a platform to its concurrency across accounts: nothing overlaps at 1', async () => {
    const tenant = await tenantWithProfile()
    const accounts = [
      (await connectPersonalAccount(tenant)).accountId,
      (await connectPersonalAccount(tenant)).accountId,
    ]
    const created = await Promise.all(
      Array.from({ length: 4 }, (_, index) =>
        createPost(tenant, accounts[index % 2] as string, {
          content: { text: `Platform one at a time ${index} ${crypto.randomUUID()}` },
          publishNow: true,
        }),
      ),
    )
    const posts = await Promise.all(created.map((post) => waitForPost(tenant, post.id, published)))
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

  it("makes every account of an app wait after the app's own rate limit", async () => {
    const tenant = await tenantWithProfile()
    const first = (await connectPersonalAccount(tenant)).accountId
    const second = (await connectPersonalAccount(tenant)).accountId

    // An app-wide limit answered to one account's publication pauses the app, not the account.
    const limited = await createPost(tenant, first, {
      content: { text: `App limited ${crypto.randomUUID()} #sandbox-fail:app_rate_limit` },
      publishNow: true,
    })
    await waitForPost(
      tenant,
      limited.id,
      (post) => post.publications[0]?.error?.code === 'RATE_LIMITED',
    )
    const pauses = await db.select().from(appRateLimits)
    // The sandbox asks for 30 s, for the server's sandbox app.
    expect(pauses.map((pause) => pause.key)).toEqual(['sandbox:post-scheduler'])
    expect(pauses[0]?.rateLimitedUntil.getTime()).toBeGreaterThan(Date.now() + 20_000)
    const canceled = await request(`/v1/posts/${limited.id}/cancel`, {
      token: tenant.apiKey,
      method: 'POST',
    })
    expect(canceled.status, await canceled.clone().text()).toBe(200)

    // The other account's post waits until the app's pause is over (shortened here to 2 s), then
    // goes out with a single attempt.
    const until = await db
      .update(appRateLimits)
      .set({ rateLimitedUntil: sql`now() + interval '2 seconds'` })
      .returning({ until: appRateLimits.rateLimitedUntil })
    const text = `After the app's pause ${crypto.randomUUID()}`
    const waiting = await createPost(tenant, second, { content: { text }, publishNow: true })
    const post = await waitForPost(tenant, waiting.id, published)
    expect(post.publications[0]?.timeline).toHaveLength(1)
    const [copy] = await db.select().from(sandboxPosts).where(eq(sandboxPosts.text, text))
    expect(copy?.createdAt.getTime()).toBeGreaterThanOrEqual(until[0]?.until?.getTime() as number)
  })
})
