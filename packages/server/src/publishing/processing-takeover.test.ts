import { eq, sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { spawnCLI } from '../../test/cli.ts'
import { connectionHelpers } from '../../test/connections.ts'
import { postHelpers, type TestPost } from '../../test/posts.ts'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { publications, sandboxPosts } from '../db/schema/index.ts'

// A worker killed while it checks on a publication the platform is processing: the check's claim
// waits out its deadline like any attempt's, then another worker checks again — and never
// publishes again.

const server = await startTestServer()
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { createPost, waitForPost } = postHelpers(server)
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)

const startWorker = (env: Record<string, string> = {}) =>
  spawnCLI(['worker'], {
    DATABASE_URL: server.databaseURL,
    PUBLIC_URL: 'http://post-scheduler.test',
    PUBLISH_DEADLINE_SECONDS: '6',
    SWEEP_INTERVAL_SECONDS: '1',
    LOG_LEVEL: 'warn',
    ...env,
  })

describe('a worker killed during a check', () => {
  it('is taken over after its deadline by a check that finds the post published, made once', {
    timeout: 90_000,
  }, async () => {
    const tenant = await tenantWithProfile()
    const { accountId } = await connectPersonalAccount(tenant)
    const text = `Takeover ${crypto.randomUUID()} #sandbox-processing:1`
    const created = await createPost(tenant, accountId, { content: { text }, publishNow: true })
    // Every sandbox call takes 1.5 s for this worker (within its 2 s call timeout), so a check is
    // in flight long enough to kill it there.
    const doomed = startWorker({ SANDBOX_LATENCY_MS: '1500' })
    let checking: typeof publications.$inferSelect | undefined
    try {
      for (let i = 0; i < 800 && !checking; i++) {
        const [row] = await db
          .select()
          .from(publications)
          .where(eq(publications.postId, created.id))
        if (row?.status === 'publishing' && row.processingUntil) checking = row
        else await new Promise((resolve) => setTimeout(resolve, 25))
      }
    } finally {
      doomed.child.kill('SIGKILL')
    }
    expect(checking).toBeDefined()

    const rescuer = startWorker()
    let post: TestPost
    try {
      post = await waitForPost(
        tenant,
        created.id,
        (candidate) => candidate.publications[0]?.status === 'published',
        40_000,
      )
    } finally {
      rescuer.child.kill('SIGKILL')
    }
    const [publication] = post.publications
    const outcomes = publication?.timeline.map((attempt) => attempt.outcome) ?? []
    // Published first, then at least the killed check (no outcome); the takeover checked (a
    // publish would have reconciled first: `reconciled`).
    expect(outcomes[0]).toBe('processing')
    expect(outcomes).toContain(null)
    expect(outcomes.at(-1)).toBe('published')
    expect(outcomes).not.toContain('reconciled')
    const copies = await db.select().from(sandboxPosts).where(sql`${sandboxPosts.text} = ${text}`)
    expect(copies).toHaveLength(1)
    expect(publication?.platformPostId).toBe(copies[0]?.id)
  })
})
