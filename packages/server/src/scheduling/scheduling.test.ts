import { asc, eq } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { connectionHelpers, type Tenant } from '../../test/connections.ts'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { postingSchedules, posts, publications } from '../db/schema/index.ts'
import { startQueue } from '../jobs/queue.ts'
import { createLogger } from '../logging/logger.ts'
import { materialiseSeries } from './series.ts'

const server = await startTestServer()
const { request } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)
// The sweeper's materialisation, called directly with a chosen "now" (no clock waits in tests).
const queue = await startQueue({
  databaseURL: server.databaseURL,
  schema: 'pgboss',
  role: 'api',
  heartbeatSeconds: 10,
  logger: createLogger({ logLevel: 'silent', logFormat: 'json' }),
})
afterAll(() => queue.stop({ graceful: false }))
const materialise = (now: string) =>
  materialiseSeries({ db, queue }, { expireInSeconds: 60, now: new Date(now) })

type Problem = { code: string; issues?: { path: (string | number)[]; code: string }[] }
type Schedule = { timezone: string; slots: { weekday: number; time: string }[] }
type Post = {
  id: string
  status: string
  scheduledAt: string | null
  timezone: string
  seriesId: string | null
  recurrence?: { seriesId: string; rule: string; status: string; nextOccurrenceAt: string } | null
  publications: { status: string }[]
}
type Series = {
  id: string
  status: string
  occurrences: number
  upcoming: string[]
  canceledPosts?: number
}

const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7].flatMap((weekday) =>
  ['09:00', '13:00', '18:30'].map((time) => ({ weekday, time })),
)

async function setUp() {
  const tenant = await tenantWithProfile()
  const { accountId } = await connectPersonalAccount(tenant)
  return { tenant, accountId }
}

const putSchedule = (tenant: Tenant, body: unknown, token = tenant.apiKey) =>
  request(`/v1/profiles/${tenant.profileId}/schedule`, { method: 'PUT', token, json: body })

const freeSlots = async (tenant: Tenant, count: number, token = tenant.apiKey) => {
  const response = await request(`/v1/profiles/${tenant.profileId}/schedule/slots?count=${count}`, {
    token,
  })
  expect(response.status, await response.clone().text()).toBe(200)
  return ((await response.json()) as { data: { at: string }[] }).data.map((slot) => slot.at)
}

const createPost = (tenant: Tenant, body: Record<string, unknown>, token = tenant.apiKey) =>
  request('/v1/posts', { token, json: body })

const created = async (response: Response) => {
  expect(response.status, await response.clone().text()).toBe(201)
  return (await response.json()) as Post
}

const postsOf = (profileId: string) =>
  db.select().from(posts).where(eq(posts.profileId, profileId)).orderBy(asc(posts.scheduledAt))

const instant = (iso: string) => new Date(iso).getTime()

describe('posting schedules', () => {
  it('sets, reads and previews a schedule, slots in its timezone at their wall time', async () => {
    const { tenant } = await setUp()
    const empty = await request(`/v1/profiles/${tenant.profileId}/schedule`, {
      token: tenant.apiKey,
    })
    expect(await empty.json()).toMatchObject({ timezone: 'UTC', slots: [], updatedAt: null })
    expect(await freeSlots(tenant, 3)).toEqual([])

    const response = await putSchedule(tenant, {
      timezone: 'Europe/Berlin',
      slots: [
        { weekday: 5, time: '17:30' },
        { weekday: 1, time: '09:00' },
      ],
    })
    expect(response.status, await response.clone().text()).toBe(200)
    const schedule = (await (
      await request(`/v1/profiles/${tenant.profileId}/schedule`, { token: tenant.apiKey })
    ).json()) as Schedule
    expect(schedule).toMatchObject({
      timezone: 'Europe/Berlin',
      slots: [
        { weekday: 1, time: '09:00' },
        { weekday: 5, time: '17:30' },
      ],
    })
    const slots = await freeSlots(tenant, 6)
    expect(slots).toHaveLength(6)
    for (const slot of slots) expect(slot).toMatch(/T(09:00|17:30):00\+0[12]:00$/)
    expect([...slots].sort((a, b) => instant(a) - instant(b))).toEqual(slots)
  })

  it('refuses an invalid schedule with every issue and its path, changing nothing', async () => {
    const { tenant } = await setUp()
    await putSchedule(tenant, {
      timezone: 'America/New_York',
      slots: [{ weekday: 2, time: '08:00' }],
    })
    const malformed = await putSchedule(tenant, {
      timezone: 'Europe/Berlin',
      slots: [
        { weekday: 8, time: '09:00' },
        { weekday: 1, time: '24:00' },
      ],
    })
    expect(malformed.status).toBe(422)
    expect(((await malformed.json()) as Problem).issues?.map((issue) => issue.path)).toEqual([
      ['slots', 0, 'weekday'],
      ['slots', 1, 'time'],
    ])
    const wrong = await putSchedule(tenant, {
      timezone: 'Mars/Olympus_Mons',
      slots: [
        { weekday: 1, time: '09:00' },
        { weekday: 1, time: '09:00' },
      ],
    })
    expect(wrong.status).toBe(422)
    expect(wrong.headers.get('content-type')).toBe('application/problem+json')
    expect(
      ((await wrong.json()) as Problem).issues?.map((issue) => [issue.path.join('.'), issue.code]),
    ).toEqual([
      ['timezone', 'unknown_timezone'],
      ['slots.1', 'duplicate_slot'],
    ])
    const [stored] = await db
      .select()
      .from(postingSchedules)
      .where(eq(postingSchedules.profileId, tenant.profileId))
    expect(stored).toMatchObject({
      timezone: 'America/New_York',
      slots: [{ weekday: 2, time: '08:00' }],
    })
  })

  it('lets a profile token read and use its own profile’s schedule, but not set it', async () => {
    const { tenant, accountId } = await setUp()
    await putSchedule(tenant, { timezone: 'Europe/Berlin', slots: EVERY_DAY })
    const minted = (await (
      await request(`/v1/profiles/${tenant.profileId}/tokens`, { token: tenant.apiKey, json: {} })
    ).json()) as { token: string }
    const read = await request(`/v1/profiles/${tenant.profileId}/schedule`, {
      token: minted.token,
    })
    expect(read.status).toBe(200)
    const [first] = await freeSlots(tenant, 1, minted.token)
    const post = await created(
      await createPost(
        tenant,
        { accountIds: [accountId], content: { text: 'From the widget' }, queue: true },
        minted.token,
      ),
    )
    expect(instant(post.scheduledAt as string)).toBe(instant(first as string))
    expect((await putSchedule(tenant, { timezone: 'UTC', slots: [] }, minted.token)).status).toBe(
      403,
    )
    const other = await tenantWithProfile()
    const foreign = await request(`/v1/profiles/${other.profileId}/schedule`, {
      token: minted.token,
    })
    expect(foreign.status).toBe(404)
  })
})

describe('queue slots', () => {
  it('queues posts into the next free slots, in the schedule’s timezone', async () => {
    const { tenant, accountId } = await setUp()
    await putSchedule(tenant, { timezone: 'Europe/Berlin', slots: EVERY_DAY })
    const [first, second] = await freeSlots(tenant, 2)
    const post = await created(
      await createPost(tenant, { accountIds: [accountId], content: { text: 'One' }, queue: true }),
    )
    expect(instant(post.scheduledAt as string)).toBe(instant(first as string))
    expect(post).toMatchObject({ status: 'scheduled', timezone: 'Europe/Berlin' })
    expect(instant((await freeSlots(tenant, 1))[0] as string)).toBe(instant(second as string))
  })

  it('skips slots taken by posts scheduled at them directly', async () => {
    const { tenant, accountId } = await setUp()
    await putSchedule(tenant, { timezone: 'America/New_York', slots: EVERY_DAY })
    const [first, second] = await freeSlots(tenant, 2)
    await created(
      await createPost(tenant, {
        accountIds: [accountId],
        content: { text: 'At the first slot' },
        scheduledAt: first,
      }),
    )
    const queued = await created(
      await createPost(tenant, {
        accountIds: [accountId],
        content: { text: 'Queued' },
        queue: true,
      }),
    )
    expect(instant(queued.scheduledAt as string)).toBe(instant(second as string))
  })

  it('gives two queued posts created at once different slots', async () => {
    const { tenant, accountId } = await setUp()
    await putSchedule(tenant, { timezone: 'Europe/Berlin', slots: EVERY_DAY })
    const expected = (await freeSlots(tenant, 2)).map(instant)
    const both = await Promise.all(
      ['Racing A', 'Racing B'].map(async (text) =>
        created(
          await createPost(tenant, { accountIds: [accountId], content: { text }, queue: true }),
        ),
      ),
    )
    expect(both.map((post) => instant(post.scheduledAt as string)).sort()).toEqual(expected)
  })

  it('refuses to queue without a schedule or together with a time, creating nothing', async () => {
    const { tenant, accountId } = await setUp()
    const noSchedule = await createPost(tenant, {
      accountIds: [accountId],
      content: { text: 'Nowhere to go' },
      queue: true,
    })
    expect(noSchedule.status).toBe(422)
    expect((await noSchedule.json()) as Problem).toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [{ path: ['queue'], code: 'no_posting_schedule' }],
    })
    await putSchedule(tenant, { timezone: 'UTC', slots: EVERY_DAY })
    const both = await createPost(tenant, {
      accountIds: [accountId],
      content: { text: 'Both' },
      queue: true,
      scheduledAt: new Date(Date.now() + 86_400_000).toISOString(),
    })
    expect(both.status).toBe(422)
    expect(((await both.json()) as Problem).issues).toEqual([
      expect.objectContaining({ path: ['queue'], code: 'conflicting_timing' }),
    ])
    expect(await postsOf(tenant.profileId)).toEqual([])
  })
})

describe('recurring posts', () => {
  it('keeps 09:00 Europe/Berlin at 09:00 local across the spring change, shown on the post and series', async () => {
    const { tenant, accountId } = await setUp()
    // 2030-03-31 is the spring change in Europe/Berlin.
    const post = await created(
      await createPost(tenant, {
        accountIds: [accountId],
        content: { text: 'Good morning' },
        scheduledAt: '2030-03-29T09:00:00+01:00',
        timezone: 'Europe/Berlin',
        recurrence: { rule: 'FREQ=DAILY;COUNT=10' },
      }),
    )
    expect(post.scheduledAt).toBe('2030-03-29T08:00:00.000Z')
    expect(post.recurrence).toMatchObject({
      seriesId: post.seriesId,
      rule: 'FREQ=DAILY;COUNT=10',
      status: 'active',
      nextOccurrenceAt: '2030-03-30T09:00:00+01:00',
    })
    const fetched = (await (
      await request(`/v1/posts/${post.id}`, { token: tenant.apiKey })
    ).json()) as Post
    expect(fetched.recurrence?.seriesId).toBe(post.seriesId)
    const series = (await (
      await request(`/v1/series/${post.seriesId}`, { token: tenant.apiKey })
    ).json()) as Series
    expect(series).toMatchObject({ status: 'active', occurrences: 1 })
    expect(series.upcoming).toEqual([
      '2030-03-30T09:00:00+01:00',
      '2030-03-31T09:00:00+02:00',
      '2030-04-01T09:00:00+02:00',
      '2030-04-02T09:00:00+02:00',
      '2030-04-03T09:00:00+02:00',
    ])
  })

  it('keeps a weekly Monday 08:30 America/New_York at 08:30 across the autumn change', async () => {
    const { tenant, accountId } = await setUp()
    // 2030-11-03 is the autumn change in America/New_York; 2030-10-23 is a Wednesday.
    const post = await created(
      await createPost(tenant, {
        accountIds: [accountId],
        content: { text: 'Weekly digest' },
        scheduledAt: '2030-10-23T08:30:00-04:00',
        timezone: 'America/New_York',
        recurrence: { rule: 'FREQ=WEEKLY;BYDAY=MO;UNTIL=20301118' },
      }),
    )
    // The rule first matches on the Monday after scheduledAt.
    expect(post.scheduledAt).toBe('2030-10-28T12:30:00.000Z')
    const series = (await (
      await request(`/v1/series/${post.seriesId}`, { token: tenant.apiKey })
    ).json()) as Series
    expect(series.upcoming).toEqual([
      '2030-11-04T08:30:00-05:00',
      '2030-11-11T08:30:00-05:00',
      '2030-11-18T08:30:00-05:00',
    ])
  })

  it('refuses sub-hourly, unbounded or malformed rules and recurrence without a time, creating nothing', async () => {
    const { tenant, accountId } = await setUp()
    const scheduledAt = '2030-06-03T10:00:00Z'
    const cases: [Record<string, unknown>, string, string][] = [
      [
        { scheduledAt, recurrence: { rule: 'FREQ=MINUTELY;COUNT=5' } },
        'recurrence.rule',
        'frequency_too_high',
      ],
      [
        { scheduledAt, recurrence: { rule: 'FREQ=HOURLY;BYMINUTE=0,20,40;COUNT=9' } },
        'recurrence.rule',
        'frequency_too_high',
      ],
      [{ scheduledAt, recurrence: { rule: 'FREQ=HOURLY' } }, 'recurrence.rule', 'unbounded'],
      [
        { scheduledAt, recurrence: { rule: 'FREQ=DAILY;COUNT=100000' } },
        'recurrence.rule',
        'count_out_of_range',
      ],
      [
        { scheduledAt, recurrence: { rule: 'FREQ=DAILY;DTSTART=20300101T000000Z' } },
        'recurrence.rule',
        'dtstart_not_allowed',
      ],
      [
        { publishNow: true, recurrence: { rule: 'FREQ=DAILY;COUNT=2' } },
        'recurrence',
        'recurrence_needs_scheduled_at',
      ],
    ]
    for (const [timing, path, code] of cases) {
      const response = await createPost(tenant, {
        accountIds: [accountId],
        content: { text: 'Too much' },
        ...timing,
      })
      expect(response.status, JSON.stringify(timing)).toBe(422)
      const problem = (await response.json()) as Problem
      expect(problem.issues?.map((issue) => [issue.path.join('.'), issue.code])).toContainEqual([
        path,
        code,
      ])
    }
    expect(await postsOf(tenant.profileId)).toEqual([])
  })

  it('cancels a series: its scheduled posts are canceled and no occurrence follows', async () => {
    const { tenant, accountId } = await setUp()
    const post = await created(
      await createPost(tenant, {
        accountIds: [accountId],
        content: { text: 'Cancel me' },
        scheduledAt: '2031-01-06T10:00:00Z',
        recurrence: { rule: 'FREQ=DAILY' },
      }),
    )
    const canceled = await request(`/v1/series/${post.seriesId}/cancel`, {
      method: 'POST',
      token: tenant.apiKey,
    })
    expect(canceled.status, await canceled.clone().text()).toBe(200)
    expect(await canceled.json()).toMatchObject({
      status: 'canceled',
      canceledPosts: 1,
      upcoming: [],
    })
    const fetched = (await (
      await request(`/v1/posts/${post.id}`, { token: tenant.apiKey })
    ).json()) as Post
    expect(fetched.status).toBe('canceled')
    expect(fetched.publications.map((publication) => publication.status)).toEqual(['canceled'])
    expect(fetched.recurrence?.status).toBe('canceled')

    await materialise('2031-01-20T00:00:00Z')
    expect(await postsOf(tenant.profileId)).toHaveLength(1)
    const again = await request(`/v1/series/${post.seriesId}/cancel`, {
      method: 'POST',
      token: tenant.apiKey,
    })
    expect(await again.json()).toMatchObject({ status: 'canceled', canceledPosts: 0 })
  })

  it('materialises the next occurrence once the latest one’s time has come, until COUNT', async () => {
    const { tenant, accountId } = await setUp()
    const post = await created(
      await createPost(tenant, {
        accountIds: [accountId],
        content: { text: 'Daily tip' },
        scheduledAt: '2032-03-27T09:00:00+01:00',
        timezone: 'Europe/Berlin',
        recurrence: { rule: 'FREQ=DAILY;COUNT=3' },
      }),
    )
    const sweep = materialise
    // Before the first occurrence's time nothing more is needed.
    await sweep('2032-03-26T12:00:00Z')
    expect(await postsOf(tenant.profileId)).toHaveLength(1)
    // 2032-03-28 is the spring change in Europe/Berlin.
    await sweep('2032-03-27T08:00:30Z')
    await sweep('2032-03-28T07:00:30Z')
    await sweep('2032-03-29T07:00:30Z')
    const occurrences = await postsOf(tenant.profileId)
    expect(occurrences.map((row) => row.scheduledAt?.toISOString())).toEqual([
      '2032-03-27T08:00:00.000Z',
      '2032-03-28T07:00:00.000Z',
      '2032-03-29T07:00:00.000Z',
    ])
    expect(occurrences.every((row) => row.seriesId === post.seriesId)).toBe(true)
    const [publication] = await db
      .select()
      .from(publications)
      .where(eq(publications.postId, occurrences[2]?.id as string))
    expect(publication).toMatchObject({ status: 'scheduled', accountId })
    const series = (await (
      await request(`/v1/series/${post.seriesId}`, { token: tenant.apiKey })
    ).json()) as Series
    expect(series).toMatchObject({ status: 'ended', occurrences: 3, upcoming: [] })
  })

  it('skips occurrences missed while no worker ran instead of publishing them late', async () => {
    const { tenant, accountId } = await setUp()
    const post = await created(
      await createPost(tenant, {
        accountIds: [accountId],
        content: { text: 'Catch up' },
        scheduledAt: '2033-05-02T10:00:00Z',
        recurrence: { rule: 'FREQ=DAILY;COUNT=30' },
      }),
    )
    await materialise('2033-05-12T10:01:00Z')
    expect((await postsOf(tenant.profileId)).map((row) => row.scheduledAt?.toISOString())).toEqual([
      '2033-05-02T10:00:00.000Z',
      '2033-05-12T10:00:00.000Z',
      '2033-05-13T10:00:00.000Z',
    ])
    const series = (await (
      await request(`/v1/series/${post.seriesId}`, { token: tenant.apiKey })
    ).json()) as Series
    expect(series.occurrences).toBe(12)
  })
})
