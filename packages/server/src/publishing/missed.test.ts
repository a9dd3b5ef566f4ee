import { sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { spawnCLI } from '../../test/cli.ts'
import { connectionHelpers } from '../../test/connections.ts'
import { postHelpers, type TestPost } from '../../test/posts.ts'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'

// Posts that fall due while no worker runs: published when one starts, or marked missed when the
// workspace's policy says so — never silently dropped.

const server = await startTestServer()
const { request } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { waitForPost } = postHelpers(server)
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)

async function schedulePost(missedAfterSeconds: number | null) {
  const tenant = await tenantWithProfile()
  const { accountId } = await connectPersonalAccount(tenant)
  const settings = await request(`/v1/workspaces/${tenant.workspaceId}/publishing-settings`, {
    token: tenant.apiKey,
    method: 'PATCH',
    json: { missedAfterSeconds },
  })
  expect(settings.status, await settings.clone().text()).toBe(200)
  expect(
    ((await settings.json()) as { missedAfterSeconds: number | null }).missedAfterSeconds,
  ).toBe(missedAfterSeconds)
  const response = await request('/v1/posts', {
    token: tenant.apiKey,
    json: {
      accountIds: [accountId],
      content: { text: `While down ${crypto.randomUUID()}` },
      scheduledAt: new Date(Date.now() + 60 * 60_000).toISOString(),
    },
  })
  expect(response.status, await response.clone().text()).toBe(201)
  return { tenant, post: (await response.json()) as TestPost }
}

/** Every publication of the post is in one of `statuses`. */
const allIn =
  (...statuses: string[]) =>
  (post: TestPost) =>
    post.publications.every((publication) => statuses.includes(publication.status))

const startWorker = () =>
  spawnCLI(['worker'], {
    DATABASE_URL: server.databaseURL,
    PUBLIC_URL: 'http://post-scheduler.test',
    SWEEP_INTERVAL_SECONDS: '1',
    LOG_LEVEL: 'warn',
  })

describe('posts missed while everything was down', () => {
  it('publishes them late by default, and marks them missed under a workspace policy', {
    timeout: 60_000,
  }, async () => {
    const late = await schedulePost(null)
    const strict = await schedulePost(3600)
    // Two hours of downtime: both were due an hour and a half ago, and no worker ran.
    await db.execute(sql`
      update post_scheduler.publications set due_at = now() - interval '90 minutes'
      where post_id in (${late.post.id}, ${strict.post.id})`)
    await db.execute(sql`
      update post_scheduler.posts set scheduled_at = now() - interval '90 minutes'
      where id in (${late.post.id}, ${strict.post.id})`)

    const worker = startWorker()
    try {
      const published = await waitForPost(late.tenant, late.post.id, allIn('published'))
      expect(published.status).toBe('published')

      const missed = await waitForPost(strict.tenant, strict.post.id, allIn('failed'))
      expect(missed.status).toBe('failed')
      const [publication] = missed.publications
      expect(publication?.error?.code).toBe('MISSED')
      expect(publication?.error?.message).toMatch(/90 min after its time.*limit of 60 min/)
      expect(publication?.timeline.map((attempt) => attempt.outcome)).toEqual(['failed'])

      // Still wanted: a retry publishes it now.
      const retried = await request(
        `/v1/posts/${strict.post.id}/publications/${publication?.id}/retry`,
        { token: strict.tenant.apiKey, method: 'POST' },
      )
      expect(retried.status, await retried.clone().text()).toBe(200)
      const after = await waitForPost(strict.tenant, strict.post.id, allIn('published'))
      expect(after.publications[0]?.timeline.map((attempt) => attempt.outcome)).toEqual([
        'failed',
        'published',
      ])
    } finally {
      worker.child.kill('SIGKILL')
    }
  })

  it('gives a publication whose job was lost from the queue a new one', {
    timeout: 60_000,
  }, async () => {
    const { tenant, post } = await schedulePost(null)
    // Due now: the create enqueued its job; then the queue loses it (retention, an operator).
    await db.execute(sql`
      update post_scheduler.publications set status = 'queued', due_at = now() - interval '1 minute',
        updated_at = now() - interval '1 minute'
      where post_id = ${post.id}`)
    await db.execute(sql`
      delete from pgboss.job where singleton_key in (
        select id from post_scheduler.publications where post_id = ${post.id})`)
    const worker = startWorker()
    try {
      const published = await waitForPost(tenant, post.id, allIn('published'))
      expect(published.publications[0]?.timeline.map((attempt) => attempt.outcome)).toEqual([
        'published',
      ])
    } finally {
      worker.child.kill('SIGKILL')
    }
  })
})
