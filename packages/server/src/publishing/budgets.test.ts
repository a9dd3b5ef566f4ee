import { eq, sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { testPublishing } from '../../test/config.ts'
import { connectionHelpers } from '../../test/connections.ts'
import { expectOneAtATime, postHelpers, type TestPost } from '../../test/posts.ts'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { appRateLimits, connectedAccounts, sandboxPosts } from '../db/schema/index.ts'

// Budgets across publications: how many of an account's, or of a platform's, are in flight at
// once, and the wait a platform asked of an account or of a whole app after a rate limit.

/** A server whose workers keep to `budgets`, with what the tests use. */
async function budgetedServer(budgets: {
  concurrency: number
  accountConcurrency: number
  platformConcurrency: number
}) {
  const publishing = testPublishing({ maxAttempts: 3, ...budgets })
  // Slow enough for publications to overlap if nothing kept them apart.
  const server = await startTestServer({ publishing, sandboxLatencyMs: 300 }, { worker: true })
  const database = createDatabaseClient(server.databaseURL, { max: 2 })
  afterAll(database.close)
  return {
    request: server.request,
    db: database.db,
    ...connectionHelpers(server),
    ...postHelpers(server),
  }
}

const perAccount = await budgetedServer({
  concurrency: 4,
  accountConcurrency: 1,
  platformConcurrency: 100,
})
const perPlatform = await budgetedServer({
  concurrency: 8,
  accountConcurrency: 4,
  platformConcurrency: 1,
})

const published = (post: TestPost) => post.status === 'published'

describe('publishing budgets per account', () => {
  const { request, db, tenantWithProfile, connectPersonalAccount, createPost, waitForPost } =
    perAccount

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
    expectOneAtATime(posts, 4)
  })

  it('starts a waiting publication when the account frees a place, not after a fixed wait', async () => {
    const tenant = await tenantWithProfile()
    const { accountId } = await connectPersonalAccount(tenant)
    const created = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        createPost(tenant, accountId, {
          content: { text: `In turn ${index} ${crypto.randomUUID()}` },
          publishNow: true,
        }),
      ),
    )
    const posts = await Promise.all(
      created.map((post) => waitForPost(tenant, post.id, published, 40_000)),
    )
    expectOneAtATime(posts, 6)
    // Turned back publications wait at most 15–22 s (a fallback) but are woken as soon as an
    // attempt of their account ends: six 300 ms attempts in a row end well within one such wait.
    const attempts = posts.flatMap((post) => post.publications.flatMap((row) => row.timeline))
    const first = Math.min(...attempts.map((attempt) => Date.parse(attempt.startedAt)))
    const last = Math.max(...attempts.map((attempt) => Date.parse(attempt.finishedAt ?? '')))
    expect(last - first).toBeLessThan(12_000)
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

describe('publishing budgets per platform', () => {
  const { request, db, tenantWithProfile, connectPersonalAccount, createPost, waitForPost } =
    perPlatform

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
    expectOneAtATime(posts, 4)
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
    // The sandbox asks for 30 s; the pause is keyed by the app the publication went out through:
    // the sandbox gives each workspace a client of its own.
    expect(pauses.map((pause) => pause.key)).toEqual([
      `sandbox:post-scheduler.${tenant.workspaceId}`,
    ])
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
      .where(eq(appRateLimits.key, `sandbox:post-scheduler.${tenant.workspaceId}`))
      .returning({ until: appRateLimits.rateLimitedUntil })
    const text = `After the app's pause ${crypto.randomUUID()}`
    const waiting = await createPost(tenant, second, { content: { text }, publishNow: true })
    const post = await waitForPost(tenant, waiting.id, published)
    expect(post.publications[0]?.timeline).toHaveLength(1)
    const [copy] = await db.select().from(sandboxPosts).where(eq(sandboxPosts.text, text))
    expect(copy?.createdAt.getTime()).toBeGreaterThanOrEqual(until[0]?.until?.getTime() as number)
  })

  it("pauses one workspace's sandbox app without pausing another workspace's", async () => {
    const paused = await tenantWithProfile()
    const other = await tenantWithProfile()
    const pausedAccount = (await connectPersonalAccount(paused)).accountId
    const otherAccount = (await connectPersonalAccount(other)).accountId

    const limited = await createPost(paused, pausedAccount, {
      content: { text: `Own app limited ${crypto.randomUUID()} #sandbox-fail:app_rate_limit` },
      publishNow: true,
    })
    await waitForPost(
      paused,
      limited.id,
      (post) => post.publications[0]?.error?.code === 'RATE_LIMITED',
    )
    const [pause] = await db
      .select()
      .from(appRateLimits)
      .where(eq(appRateLimits.key, `sandbox:post-scheduler.${paused.workspaceId}`))
    const pausedUntil = pause?.rateLimitedUntil.getTime() as number
    expect(pausedUntil).toBeGreaterThan(Date.now() + 20_000)

    // The other workspace publishes through its own sandbox client: at once, in one attempt,
    // while the first workspace's app is still paused.
    const text = `Beside another workspace's pause ${crypto.randomUUID()}`
    const post = await waitForPost(
      other,
      (await createPost(other, otherAccount, { content: { text }, publishNow: true })).id,
      published,
    )
    expect(post.publications[0]?.timeline).toHaveLength(1)
    const [copy] = await db.select().from(sandboxPosts).where(eq(sandboxPosts.text, text))
    expect(copy?.createdAt.getTime()).toBeLessThan(pausedUntil)

    const canceled = await request(`/v1/posts/${limited.id}/cancel`, {
      token: paused.apiKey,
      method: 'POST',
    })
    expect(canceled.status, await canceled.clone().text()).toBe(200)
  })
})
