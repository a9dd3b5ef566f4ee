import { sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { testConfig } from '../../test/config.ts'
import { MailRecorder, startTestServer } from '../../test/server.ts'
import { hashSecret } from '../auth/secrets.ts'
import { createDatabaseClient } from '../db/client.ts'
import { createPostScheduler } from '../post-scheduler.ts'
import { pruneRateLimits } from './limiter.ts'

const server = await startTestServer({ rateLimitPerMinute: 5 })

// A second API process on the same database: limits must hold across both.
const second = createPostScheduler({
  config: testConfig(server.databaseURL, { rateLimitPerMinute: 5, trustProxy: true }),
  mailTransport: new MailRecorder(),
})
await second.start({ listen: false, worker: false, migrate: false })
afterAll(() => second.stop())
const { db, close } = createDatabaseClient(server.databaseURL, { max: 1 })
afterAll(close)
const keys = async () =>
  (await db.execute<{ key: string }>(sql`select key from post_scheduler.rate_limits`)).map(
    (row) => row.key,
  )

describe('rate limits', () => {
  it('announce the policy and what is left with RateLimit headers', async () => {
    const response = await server.request('/v1/me', { ip: '192.0.2.10' })
    expect(response.headers.get('ratelimit-policy')).toBe('"api";q=5;w=60')
    expect(response.headers.get('ratelimit')).toMatch(/^"api";r=4;t=\d+$/)
  })

  it('hold across API processes and answer 429 with Retry-After', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) {
      const app = i % 2 === 0 ? server.scheduler.app : second.app
      const response = await app.request('/v1/me', { headers: { 'x-forwarded-for': '192.0.2.20' } })
      statuses.push(response.status)
      if (response.status === 429) {
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0)
        expect(await response.json()).toMatchObject({
          code: 'RATE_LIMITED',
          retryAfterSeconds: expect.any(Number),
        })
      }
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429])
  })

  it('count each caller separately', async () => {
    for (let i = 0; i < 5; i++) await server.request('/v1/me', { ip: '192.0.2.30' })
    expect((await server.request('/v1/me', { ip: '192.0.2.30' })).status).toBe(429)
    expect((await server.request('/v1/me', { ip: '192.0.2.31' })).status).toBe(401)
  })

  it('count concurrent requests of one caller one by one, each with what is left after it', async () => {
    const responses = await Promise.all(
      Array.from({ length: 7 }, () => server.request('/v1/me', { ip: '192.0.2.40' })),
    )
    expect(responses.map((response) => response.status).sort()).toEqual([
      401, 401, 401, 401, 401, 429, 429,
    ])
    const remaining = responses
      .filter((response) => response.status === 401)
      .map((response) => response.headers.get('ratelimit')?.match(/r=(\d+)/)?.[1])
    expect(remaining.sort()).toEqual(['0', '1', '2', '3', '4'])
  })

  it('count a signed-in person by a hash of their session, so no counter names the session', async () => {
    const person = await server.signUp()
    await server.request('/v1/me', { token: person.token })
    const all = await keys()
    expect(all).toContain(`api:session:${hashSecret(person.sessionId)}`)
    expect(all.filter((key) => key.includes(person.sessionId))).toEqual([])
  })

  it('forget counters a day after their window started, unless they still block', async () => {
    await db.execute(sql`
      insert into post_scheduler.rate_limits (key, window_started_at, hits, blocked_until) values
        ('test:ip:192.0.2.50', now() - interval '25 hours', 3, null),
        ('test:ip:192.0.2.51', now() - interval '25 hours', 0, now() + interval '1 hour'),
        ('test:ip:192.0.2.52', now() - interval '25 hours', 0, now() - interval '1 hour'),
        ('test:ip:192.0.2.53', now() - interval '23 hours', 3, null)`)
    expect(await pruneRateLimits(db)).toBeGreaterThanOrEqual(2)
    expect((await keys()).filter((key) => key.startsWith('test:')).sort()).toEqual([
      'test:ip:192.0.2.51',
      'test:ip:192.0.2.53',
    ])
  })
})
