import { sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { testPublishing } from '../../test/config.ts'
import { connectionHelpers } from '../../test/connections.ts'
import { startOwnPostgres } from '../../test/own-postgres.ts'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'

// Faults of our own database: PostgreSQL restarted immediately (`pg_ctl restart -m immediate`)
// under a burst of publications, and stopped while requests arrive. A live worker keeps what its
// attempts learned and records it when the database answers again; requests get 503 with
// Retry-After meanwhile. The PostgreSQL is this test's own process, never the shared server.

const own = await startOwnPostgres()
afterAll(() => own.destroy())
// Production settings where they matter: the 10-minute deadline, 4 publications per account.
const server = await startTestServer(
  {
    rateLimitPerMinute: 1_000_000,
    logLevel: (process.env.FAULT_LOG_LEVEL ?? 'silent') as 'silent',
    // Each platform call takes a while, so attempts are in flight when the database goes away.
    sandboxLatencyMs: 300,
    publishing: testPublishing({
      deadlineSeconds: 600,
      concurrency: 50,
      accountConcurrency: 4,
      maxAttempts: 5,
      sweepIntervalSeconds: 10,
    }),
  },
  { worker: true, databaseURL: own.url },
)
const { request } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { db, close } = createDatabaseClient(own.url, { max: 2 })
afterAll(close)

/** Requests every `intervalMs` until stopped; what they were answered. */
function pollRequests(apiKey: string, intervalMs: number) {
  const answers: { status: number; code?: string; retryAfter: string | null }[] = []
  let running = true
  const loop = (async () => {
    while (running) {
      const response = await request('/v1/accounts', { token: apiKey })
      const body = (await response.json()) as { code?: string }
      answers.push({
        status: response.status,
        code: body.code,
        retryAfter: response.headers.get('retry-after'),
      })
      await new Promise((resolve) => setTimeout(resolve, intervalMs))
    }
  })()
  return {
    answers,
    stop: async () => {
      running = false
      await loop
    },
  }
}

const tally = (answers: { status: number; code?: string }[]) => {
  const counts: Record<string, number> = {}
  for (const { status, code } of answers) {
    const key = status >= 400 ? `${status} ${code}` : String(status)
    counts[key] = (counts[key] ?? 0) + 1
  }
  return counts
}

describe('a PostgreSQL restart', () => {
  it('publishes a burst of 100 posts within 30 s of their time, exactly once, through two immediate restarts', {
    timeout: 180_000,
  }, async () => {
    const tenant = await tenantWithProfile()
    const { accountId } = await connectPersonalAccount(tenant)
    const prefix = `restart-${crypto.randomUUID().slice(0, 8)}`
    const total = 100
    // Due over 10 s from 8 s from now (enough to create them all first).
    const firstDueAt = Date.now() + 8000
    for (let batch = 0; batch < total; batch += 10) {
      await Promise.all(
        Array.from({ length: 10 }, async (_, offset) => {
          const i = batch + offset
          const response = await request('/v1/posts', {
            token: tenant.apiKey,
            json: {
              accountIds: [accountId],
              content: { text: `${prefix} ${i}` },
              scheduledAt: new Date(firstDueAt + i * 100).toISOString(),
              timezone: 'UTC',
            },
          })
          expect(response.status).toBe(201)
        }),
      )
    }
    expect(Date.now()).toBeLessThan(firstDueAt)
    const requests = pollRequests(tenant.apiKey, 20)

    // Two immediate restarts, 5 s apart, around the due time.
    const restarts: { at: number; downMs: number }[] = []
    for (const at of [firstDueAt + 2000, firstDueAt + 7000]) {
      await new Promise((resolve) => setTimeout(resolve, at - Date.now()))
      restarts.push({ at: Date.now(), downMs: await own.restartImmediately() })
    }

    const counts = async () => {
      const rows = await db.execute<{ status: string; count: number }>(sql`
        select p.status, count(*)::int as count from post_scheduler.publications p
        join post_scheduler.posts post on post.id = p.post_id
        where post.content->>'text' like ${`${prefix} %`} group by p.status`)
      return Object.fromEntries(rows.map((row) => [row.status, row.count])) as Record<
        string,
        number
      >
    }
    let statuses: Record<string, number> = {}
    const lastDueAt = firstDueAt + (total - 1) * 100
    while (Date.now() < lastDueAt + 60_000) {
      statuses = await counts().catch(() => statuses)
      if (
        (statuses.published ?? 0) + (statuses.failed ?? 0) + (statuses.unconfirmed ?? 0) ===
        total
      )
        break
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    await requests.stop()

    const [lateness] = await db.execute<{ max: number; p50: number; attempts: number }>(sql`
      select max(extract(epoch from p.published_at - post.scheduled_at))::float8 as max,
        percentile_cont(0.5) within group (order by extract(epoch from p.published_at - post.scheduled_at))::float8 as p50,
        sum(p.attempts)::int as attempts
      from post_scheduler.publications p join post_scheduler.posts post on post.id = p.post_id
      where post.content->>'text' like ${`${prefix} %`} and p.status = 'published'`)
    // After each restart: when the next publication was recorded.
    const resumed = await Promise.all(
      restarts.map(async ({ at, downMs }) => {
        const [row] = await db.execute<{ seconds: number | null }>(sql`
          select extract(epoch from min(p.published_at) - ${new Date(at + downMs).toISOString()}::timestamptz)::float8 as seconds
          from post_scheduler.publications p join post_scheduler.posts post on post.id = p.post_id
          where post.content->>'text' like ${`${prefix} %`}
            and p.published_at > ${new Date(at + downMs).toISOString()}::timestamptz`)
        return row?.seconds ?? null
      }),
    )
    const copies = await db.execute<{ text: string; copies: number }>(sql`
      select text, count(*)::int as copies from post_scheduler.sandbox_posts
      where text like ${`${prefix} %`} group by text`)
    const [queue] = await db.execute<{ active: number; waiting: number }>(sql`
      select count(*) filter (where state = 'active')::int as active,
        count(*) filter (where state = 'created')::int as waiting
      from pgboss.job where name = 'publishing.attempts'`)
    // pg-boss's heartbeat came back too: readiness sees a live worker again.
    let ready = 0
    for (let i = 0; i < 60 && ready !== 200; i++) {
      ready = (await request('/readyz')).status
      if (ready !== 200) await new Promise((resolve) => setTimeout(resolve, 500))
    }
    const received = copies.reduce((sum, row) => sum + row.copies, 0)
    const duplicates = copies.filter((row) => row.copies > 1).length
    const lost = total - copies.length
    console.log(
      `database restart: ${total} posts due over 10 s, restarts at +2 s and +7 s (down ${restarts.map((r) => r.downMs).join(' ms, ')} ms) → ${JSON.stringify(statuses)}; sandbox received ${received}, duplicates ${duplicates}, lost ${lost}; lateness p50 ${lateness?.p50?.toFixed(1)} s, max ${lateness?.max?.toFixed(1)} s; ${lateness?.attempts} attempts; first publication after each restart +${resumed.map((s) => s?.toFixed(2)).join(' s, +')} s; requests during the burst ${JSON.stringify(tally(requests.answers))}; publish jobs left active ${queue?.active}, waiting ${queue?.waiting}; /readyz ${ready}`,
    )
    expect(statuses).toEqual({ published: total })
    expect(duplicates).toBe(0)
    expect(lost).toBe(0)
    expect(received).toBe(total)
    expect(lateness?.max).toBeLessThan(30)
    expect(ready).toBe(200)
    // Alone, publishing resumes within a fraction of a second of each restart (printed above); on
    // a 2-core machine shared with other test runs it has taken up to 10 s. Half the lateness
    // budget is the bound: a stall waiting out a claim's deadline (600 s here) still fails.
    for (const seconds of resumed) expect(seconds).toBeLessThan(15)
    // Never a 500: a database that does not answer is a 503 with Retry-After.
    for (const answer of requests.answers) {
      if (answer.status === 200) continue
      expect(answer).toMatchObject({ status: 503, code: 'DATABASE_UNAVAILABLE', retryAfter: '2' })
    }
  })

  it('answers 503 DATABASE_UNAVAILABLE with Retry-After while PostgreSQL is down, and 200 once it is back', {
    timeout: 60_000,
  }, async () => {
    const tenant = await tenantWithProfile()
    expect((await request('/v1/accounts', { token: tenant.apiKey })).status).toBe(200)
    await own.kill()
    const answers: { status: number; code?: string; retryAfter: string | null }[] = []
    try {
      for (let i = 0; i < 20; i++) {
        const response = await request('/v1/accounts', { token: tenant.apiKey })
        const body = (await response.json()) as { code?: string }
        answers.push({
          status: response.status,
          code: body.code,
          retryAfter: response.headers.get('retry-after'),
        })
      }
    } finally {
      await own.start()
    }
    let back = 0
    for (let i = 0; i < 100 && back !== 200; i++) {
      back = (await request('/v1/accounts', { token: tenant.apiKey })).status
      if (back !== 200) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    console.log(
      `requests during an outage: ${JSON.stringify(tally(answers))}; after the restart ${back}`,
    )
    expect(answers).toEqual(
      Array.from({ length: 20 }, () => ({
        status: 503,
        code: 'DATABASE_UNAVAILABLE',
        retryAfter: '2',
      })),
    )
    expect(back).toBe(200)
  })
})
