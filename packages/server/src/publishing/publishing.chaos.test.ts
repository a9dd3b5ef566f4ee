import type { ChildProcess } from 'node:child_process'
import { eq, sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { spawnCLI } from '../../test/cli.ts'
import { connectionHelpers } from '../../test/connections.ts'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { publications, sandboxPosts } from '../db/schema/index.ts'

// Publishing under failure, with real worker processes on one database: workers killed mid-flight,
// a worker frozen past its deadline. The outcome must hold whatever the timing: no post twice,
// none lost, every publication ending published, failed or unconfirmed — a share of them going
// through `processing` (the platform finishing them a second later), checked by whichever worker
// is alive.

const server = await startTestServer({ rateLimitPerMinute: 1_000_000 })
const { request } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)

const workers = new Set<ChildProcess>()
const failures: string[] = []
afterAll(() => {
  for (const worker of workers) worker.kill('SIGKILL')
})

function startWorker(env: Record<string, string> = {}) {
  const worker = spawnCLI(['worker'], {
    DATABASE_URL: server.databaseURL,
    PUBLIC_URL: 'http://post-scheduler.test',
    PUBLISH_DEADLINE_SECONDS: '5',
    PUBLISH_CONCURRENCY: '10',
    SWEEP_INTERVAL_SECONDS: '1',
    // Each platform call takes a while, as a real one does: attempts are in flight when a worker
    // is killed, and the run lasts long enough for many kills.
    SANDBOX_LATENCY_MS: '300',
    LOG_LEVEL: 'warn',
    ...env,
  })
  workers.add(worker.child)
  worker.child.once('exit', (code) => {
    workers.delete(worker.child)
    // Killed on purpose (code null) is the test; exiting on its own is a broken worker.
    if (code !== null) failures.push(`a worker exited with ${code}: ${worker.output().stderr}`)
  })
  return worker
}

/**
 * `count` posts to publish now, spread over `accounts` connected accounts (each in its tenant);
 * every `processingEvery`-th one the sandbox finishes a second after accepting it.
 */
async function createPosts(
  count: number,
  prefix: string,
  accounts = 1,
  processingEvery = Number.POSITIVE_INFINITY,
) {
  const targets: { apiKey: string; accountId: string }[] = []
  for (let i = 0; i < accounts; i++) {
    const tenant = await tenantWithProfile()
    const { accountId } = await connectPersonalAccount(tenant)
    targets.push({ apiKey: tenant.apiKey, accountId })
  }
  const ids: string[] = []
  for (let i = 0; i < count; i++) {
    const target = targets[i % targets.length] as (typeof targets)[number]
    const response = await request('/v1/posts', {
      token: target.apiKey,
      json: {
        accountIds: [target.accountId],
        content: {
          text:
            i % processingEvery === 0 ? `${prefix} ${i} #sandbox-processing:1` : `${prefix} ${i}`,
        },
        publishNow: true,
      },
    })
    expect(response.status).toBe(201)
    ids.push(((await response.json()) as { id: string }).id)
  }
  return { postIds: ids }
}

const statusCounts = async (prefix: string) => {
  const rows = await db.execute<{ status: string; count: number }>(sql`
    select p.status, count(*)::int as count from post_scheduler.publications p
    join post_scheduler.posts post on post.id = p.post_id
    where post.content->>'text' like ${`${prefix} %`} group by p.status`)
  return Object.fromEntries(rows.map((row) => [row.status, row.count])) as Record<string, number>
}

const duplicates = (prefix: string) =>
  db.execute<{ text: string; copies: number }>(sql`
    select text, count(*)::int as copies from post_scheduler.sandbox_posts
    where text like ${`${prefix} %`} group by text having count(*) > 1`)

describe('publishing under failure', () => {
  it('publishes 1,000 posts to 10 accounts exactly once, a fifth of them processed by the platform, while a worker is SIGKILLed every 2 s', {
    timeout: 600_000,
  }, async () => {
    const prefix = `chaos-${crypto.randomUUID().slice(0, 8)}`
    const total = 1000
    // Ten accounts, so each account's concurrency budget (4 by default) is not the bottleneck.
    await createPosts(total, prefix, 10, 5)

    const startedAt = Date.now()
    const running = [startWorker(), startWorker(), startWorker()]
    let kills = 0
    const chaos = setInterval(() => {
      const victim = running[kills % running.length]
      victim?.child.kill('SIGKILL')
      running[kills % running.length] = startWorker()
      kills += 1
    }, 2000)
    let counts: Record<string, number> = {}
    try {
      for (;;) {
        counts = await statusCounts(prefix)
        const finished = (counts.published ?? 0) + (counts.failed ?? 0) + (counts.unconfirmed ?? 0)
        if (finished === total) break
        if (Date.now() - startedAt > 480_000) break
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
    } finally {
      clearInterval(chaos)
      // The next test needs the database to itself.
      for (const worker of running) worker.child.kill('SIGKILL')
    }
    const seconds = (Date.now() - startedAt) / 1000
    const copies = await db.execute<{ count: number }>(
      sql`select count(*)::int as count from post_scheduler.sandbox_posts where text like ${`${prefix} %`}`,
    )
    const publishedWithoutCopy = await db.execute<{ count: number }>(sql`
      select count(*)::int as count from post_scheduler.publications p
      where p.status = 'published' and p.post_id in (select id from post_scheduler.posts where content->>'text' like ${`${prefix} %`})
      and not exists (select 1 from post_scheduler.sandbox_posts s where s.id = p.platform_post_id)`)
    const dupes = await duplicates(prefix)
    console.log(
      `chaos: ${total} posts, 3 workers, ${kills} SIGKILLs in ${seconds.toFixed(1)} s → ${JSON.stringify(counts)}; sandbox copies ${copies[0]?.count}; duplicates ${dupes.length}; published without a copy ${publishedWithoutCopy[0]?.count}`,
    )
    expect(kills).toBeGreaterThan(0)
    expect(dupes).toEqual([])
    expect(publishedWithoutCopy[0]?.count).toBe(0)
    // Every copy on the platform is accounted for by a published publication: none lost, none hidden.
    expect(copies[0]?.count).toBe(counts.published)
    expect((counts.published ?? 0) + (counts.failed ?? 0) + (counts.unconfirmed ?? 0)).toBe(total)
    // The processing share went through `processing` (those whose worker died before it finished
    // their first attempt may be found already published by the reconciliation instead).
    const processed = await db.execute<{ count: number }>(sql`
      select count(distinct a.publication_id)::int as count from post_scheduler.publication_attempts a
      join post_scheduler.publications p on p.id = a.publication_id
      join post_scheduler.posts post on post.id = p.post_id
      where post.content->>'text' like ${`${prefix} %`} and a.outcome = 'processing'`)
    console.log(`chaos: ${processed[0]?.count} publications went through processing`)
    expect(processed[0]?.count).toBeGreaterThan(0)
  })

  it('stays exactly once when a frozen worker resumes after another took over', {
    timeout: 120_000,
  }, async () => {
    const prefix = `zombie-${crypto.randomUUID().slice(0, 8)}`
    const {
      postIds: [postId],
    } = await createPosts(1, prefix)
    // The sandbox answers slowly for this worker, so it can be frozen mid-publish.
    // Slow enough to freeze it mid-request, shorter than its call timeout (a third of the deadline).
    const zombie = startWorker({ SANDBOX_LATENCY_MS: '1200', PUBLISH_DEADLINE_SECONDS: '6' })
    let claimed: typeof publications.$inferSelect | undefined
    for (let i = 0; i < 200 && !claimed; i++) {
      const [row] = await db
        .select()
        .from(publications)
        .where(eq(publications.postId, String(postId)))
      if (row?.status === 'publishing' && Object.keys(row.handles).length > 0) claimed = row
      else await new Promise((resolve) => setTimeout(resolve, 25))
    }
    expect(claimed).toBeDefined()
    zombie.child.kill('SIGSTOP')
    // Past the frozen worker's deadline, another worker takes over, reconciles and publishes.
    await new Promise((resolve) => setTimeout(resolve, 6500))
    const rescuer = startWorker()
    let finished: typeof publications.$inferSelect | undefined
    for (let i = 0; i < 400 && !finished; i++) {
      const [row] = await db
        .select()
        .from(publications)
        .where(eq(publications.postId, String(postId)))
      if (row?.status === 'published') finished = row
      else await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(finished?.attemptId).not.toBe(claimed?.attemptId)
    // The frozen worker wakes up and completes its request to the platform.
    zombie.child.kill('SIGCONT')
    await new Promise((resolve) => setTimeout(resolve, 4000))
    zombie.child.kill('SIGKILL')
    rescuer.child.kill('SIGKILL')

    const copies = await db
      .select()
      .from(sandboxPosts)
      .where(sql`${sandboxPosts.text} like ${`${prefix} %`}`)
    const [after] = await db
      .select()
      .from(publications)
      .where(eq(publications.postId, String(postId)))
    console.log(
      `zombie: copies on the platform ${copies.length}; publication ${after?.status} by attempt ${after?.attemptId}`,
    )
    expect(copies).toHaveLength(1)
    expect(after).toMatchObject({
      status: 'published',
      attemptId: finished?.attemptId,
      platformPostId: copies[0]?.id,
    })
  })
})
