import { and, eq, sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { testPublishing } from '../../test/config.ts'
import { connectionHelpers, type Tenant } from '../../test/connections.ts'
import { finished, postHelpers, type TestPost, type TestPublication } from '../../test/posts.ts'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { auditLog, posts, publications, sandboxPosts } from '../db/schema/index.ts'
import { PUBLISH_QUEUE } from '../publishing/queue.ts'

const publishing = testPublishing()
const server = await startTestServer({ publishing }, { worker: true })
const { request } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { createPost: create, waitForPost } = postHelpers(server)
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)

type Post = TestPost
type Publication = TestPublication
type Problem = { code: string; issues?: { path: (string | number)[]; code: string }[] }

const inOneDay = () => new Date(Date.now() + 86_400_000).toISOString()
const unique = (label: string) => `${label} ${crypto.randomUUID()}`

async function setUp() {
  const tenant = await tenantWithProfile()
  const { accountId } = await connectPersonalAccount(tenant)
  return { tenant, accountId }
}

const call = (tenant: Tenant, path: string, method: string, json?: unknown) =>
  request(path, { token: tenant.apiKey, method, json })

const copiesOf = (text: string) => db.select().from(sandboxPosts).where(eq(sandboxPosts.text, text))

const waitingJobs = async (publicationId: string) => {
  const rows = await db.execute(
    sql`select count(*)::int as count from pgboss.job where name = ${PUBLISH_QUEUE} and singleton_key = ${publicationId} and state = 'created'`,
  )
  return (rows[0] as { count: number }).count
}

const postRow = async (postId: string) =>
  (await db.select().from(posts).where(eq(posts.id, postId)))[0]

describe('listing posts', () => {
  it('filters by status, account, platform and scheduled window, page by page', async () => {
    const { tenant, accountId } = await setUp()
    const later = new Date(Date.now() + 3 * 86_400_000).toISOString()
    const scheduled = await create(tenant, accountId, {
      content: { text: unique('one') },
      scheduledAt: later,
    })
    const draft = await create(tenant, accountId, { content: { text: unique('two') }, draft: true })
    const third = await create(tenant, accountId, {
      content: { text: unique('three') },
      scheduledAt: inOneDay(),
    })

    const list = async (query: string) => {
      const response = await request(`/v1/posts?${query}`, { token: tenant.apiKey })
      expect(response.status, await response.clone().text()).toBe(200)
      return (await response.json()) as { data: Post[]; nextCursor: string | null }
    }
    expect((await list('')).data.map((post) => post.id)).toEqual([third.id, draft.id, scheduled.id])
    expect((await list('status=draft')).data.map((post) => post.id)).toEqual([draft.id])
    expect((await list(`accountId=${accountId}`)).data).toHaveLength(3)
    expect((await list('accountId=acct_mzxw6ytboi2dkmzvgq3tqnrvhe')).data).toHaveLength(0)
    expect((await list('platform=sandbox')).data).toHaveLength(3)
    expect((await list('platform=x')).data).toHaveLength(0)
    const window = `from=${encodeURIComponent(new Date(Date.now() + 2 * 86_400_000).toISOString())}`
    expect((await list(window)).data.map((post) => post.id)).toEqual([scheduled.id])

    const first = await list('limit=2')
    expect(first.data).toHaveLength(2)
    expect(first.nextCursor).toBeTruthy()
    const second = await list(`limit=2&cursor=${first.nextCursor}`)
    expect(second.data.map((post) => post.id)).toEqual([scheduled.id])
    expect(second.nextCursor).toBeNull()
  })

  it('answers 422 for a malformed cursor or filter', async () => {
    const { tenant } = await setUp()
    for (const query of ['cursor=nonsense', 'status=lost', 'from=yesterday']) {
      const response = await request(`/v1/posts?${query}`, { token: tenant.apiKey })
      expect(response.status, query).toBe(422)
      expect(response.headers.get('content-type')).toContain('application/problem+json')
    }
  })
})

describe('profile tokens', () => {
  it('see and change only their own profile’s posts', async () => {
    const { tenant, accountId } = await setUp()
    const own = await create(tenant, accountId, {
      content: { text: unique('mine') },
      scheduledAt: inOneDay(),
    })
    const otherProfile = (await (
      await request('/v1/profiles', { token: tenant.apiKey, json: { name: 'Other brand' } })
    ).json()) as { id: string }
    const { accountId: otherAccount } = await connectPersonalAccount({
      ...tenant,
      profileId: otherProfile.id,
    })
    const foreign = await create(tenant, otherAccount, {
      profileId: otherProfile.id,
      content: { text: unique('theirs') },
      scheduledAt: inOneDay(),
    })
    const { token } = (await (
      await request(`/v1/profiles/${tenant.profileId}/tokens`, { token: tenant.apiKey, json: {} })
    ).json()) as { token: string }

    const list = (await (await request('/v1/posts', { token })).json()) as { data: Post[] }
    expect(list.data.map((post) => post.id)).toEqual([own.id])
    const patch = { content: { text: unique('edited by the widget') } }
    expect(
      (await request(`/v1/posts/${own.id}`, { token, method: 'PATCH', json: patch })).status,
    ).toBe(200)
    for (const [method, path, json] of [
      ['GET', `/v1/posts/${foreign.id}`, undefined],
      ['PATCH', `/v1/posts/${foreign.id}`, patch],
      ['POST', `/v1/posts/${foreign.id}/cancel`, undefined],
      ['DELETE', `/v1/posts/${foreign.id}`, undefined],
    ] as const) {
      expect((await request(path, { token, method, json })).status, `${method} ${path}`).toBe(404)
    }
    expect((await postRow(foreign.id))?.status).toBe('scheduled')
  })
})

describe('changing a post', () => {
  it('reschedules a queued post: the publication moves, its old job is withdrawn', async () => {
    const { tenant, accountId } = await setUp()
    const created = await create(tenant, accountId, {
      content: { text: unique('soon') },
      scheduledAt: new Date(Date.now() + 120_000).toISOString(),
    })
    const [publication] = created.publications
    expect(publication?.status).toBe('queued')
    expect(await waitingJobs(publication?.id as string)).toBe(1)

    const scheduledAt = inOneDay()
    const response = await call(tenant, `/v1/posts/${created.id}`, 'PATCH', {
      scheduledAt,
      timezone: 'Europe/Paris',
    })
    expect(response.status, await response.clone().text()).toBe(200)
    const post = (await response.json()) as Post
    expect(post.scheduledAt).toBe(scheduledAt)
    expect(post.publications[0]).toMatchObject({ status: 'scheduled', dueAt: scheduledAt })
    expect(await waitingJobs(publication?.id as string)).toBe(0)
  })

  it('turns a draft into a scheduled post with its own accounts, and back into a draft', async () => {
    const { tenant, accountId } = await setUp()
    const draft = await create(tenant, accountId, { content: { text: unique('d') }, draft: true })
    expect(draft).toMatchObject({ status: 'draft', accountIds: [accountId], publications: [] })

    const scheduledAt = inOneDay()
    const scheduled = (await (
      await call(tenant, `/v1/posts/${draft.id}`, 'PATCH', {
        scheduledAt,
        content: { text: unique('edited') },
      })
    ).json()) as Post
    expect(scheduled.status).toBe('scheduled')
    expect(scheduled.content.text).toMatch(/^edited/)
    expect(scheduled.publications).toMatchObject([{ accountId, status: 'scheduled' }])

    const back = (await (
      await call(tenant, `/v1/posts/${draft.id}`, 'PATCH', { scheduledAt: null })
    ).json()) as Post
    expect(back).toMatchObject({ status: 'draft', scheduledAt: null, publications: [] })
  })

  it('refuses a change with 409 once publishing has started, and changes nothing', async () => {
    const { tenant, accountId } = await setUp()
    const text = unique('done')
    const created = await create(tenant, accountId, { content: { text }, publishNow: true })
    await waitForPost(tenant, created.id, finished)
    const response = await call(tenant, `/v1/posts/${created.id}`, 'PATCH', {
      content: { text: 'changed' },
    })
    expect(response.status).toBe(409)
    expect(((await response.json()) as Problem).code).toBe('CONFLICT')
    expect((await postRow(created.id))?.content.text).toBe(text)
  })

  it('refuses an invalid change with every issue and no side effect', async () => {
    const { tenant, accountId } = await setUp()
    const created = await create(tenant, accountId, {
      content: { text: unique('keep') },
      scheduledAt: inOneDay(),
    })
    const before = await postRow(created.id)
    const invalid = await call(tenant, `/v1/posts/${created.id}`, 'PATCH', {
      scheduledAt: '2020-01-01T00:00:00Z',
      content: { text: 'x'.repeat(100_000) },
    })
    expect(invalid.status).toBe(422)
    const paths = ((await invalid.json()) as Problem).issues?.map((issue) => issue.path.join('.'))
    expect(paths).toContain('scheduledAt')
    expect(paths?.some((path) => path.startsWith('targets.sandbox'))).toBe(true)
    const unknown = await call(tenant, `/v1/posts/${created.id}`, 'PATCH', { status: 'published' })
    expect(unknown.status).toBe(422)
    expect(await postRow(created.id)).toEqual(before)
  })
})

describe('canceling, publishing now, deleting and retrying', () => {
  it('cancels pending publications; publish-now and changes then answer 409', async () => {
    const { tenant, accountId } = await setUp()
    const created = await create(tenant, accountId, {
      content: { text: unique('cancel') },
      scheduledAt: new Date(Date.now() + 120_000).toISOString(),
    })
    const response = await call(tenant, `/v1/posts/${created.id}/cancel`, 'POST')
    expect(response.status, await response.clone().text()).toBe(200)
    const post = (await response.json()) as Post
    expect(post.status).toBe('canceled')
    expect(post.publications.map((publication) => publication.status)).toEqual(['canceled'])
    expect(await waitingJobs(post.publications[0]?.id as string)).toBe(0)
    expect((await call(tenant, `/v1/posts/${created.id}/publish-now`, 'POST')).status).toBe(409)
    expect(
      (await call(tenant, `/v1/posts/${created.id}`, 'PATCH', { scheduledAt: inOneDay() })).status,
    ).toBe(409)
    const [audit] = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'post.canceled'), eq(auditLog.targetId, created.id)))
    expect(audit).toBeDefined()
  })

  it('publishes a scheduled post now, once', async () => {
    const { tenant, accountId } = await setUp()
    const text = unique('now')
    const created = await create(tenant, accountId, { content: { text }, scheduledAt: inOneDay() })
    const response = await call(tenant, `/v1/posts/${created.id}/publish-now`, 'POST')
    expect(response.status, await response.clone().text()).toBe(200)
    const post = await waitForPost(tenant, created.id, finished)
    expect(post.status).toBe('published')
    expect(await copiesOf(text)).toHaveLength(1)
  })

  it('deletes a published post from its platform too and reports how it went', async () => {
    const { tenant, accountId } = await setUp()
    const text = unique('delete me')
    const created = await create(tenant, accountId, { content: { text }, publishNow: true })
    const published = await waitForPost(tenant, created.id, finished)
    const response = await call(tenant, `/v1/posts/${created.id}?fromPlatforms=true`, 'DELETE')
    expect(response.status, await response.clone().text()).toBe(200)
    expect(await response.json()).toMatchObject({
      id: created.id,
      deleted: true,
      platformDeletions: [
        {
          publicationId: published.publications[0]?.id,
          platformPostId: published.publications[0]?.platformPostId,
          outcome: 'deleted',
          error: null,
        },
      ],
    })
    const [copy] = await copiesOf(text)
    expect(copy?.deletedAt).toBeTruthy()
    expect((await request(`/v1/posts/${created.id}`, { token: tenant.apiKey })).status).toBe(404)
  })

  it('deletes a post without touching the platform unless asked', async () => {
    const { tenant, accountId } = await setUp()
    const text = unique('keep on platform')
    const created = await create(tenant, accountId, { content: { text }, publishNow: true })
    await waitForPost(tenant, created.id, finished)
    const response = await call(tenant, `/v1/posts/${created.id}`, 'DELETE')
    expect(await response.json()).toMatchObject({ deleted: true, platformDeletions: [] })
    expect((await copiesOf(text))[0]?.deletedAt).toBeNull()
  })

  it('retries a failed publication with a new attempt in its timeline', async () => {
    const { tenant, accountId } = await setUp()
    const created = await create(tenant, accountId, {
      content: { text: `${unique('no')} #sandbox-fail:reject` },
      publishNow: true,
    })
    const failed = await waitForPost(tenant, created.id, finished)
    const publication = failed.publications[0] as Publication
    expect(publication.status).toBe('failed')
    const response = await call(
      tenant,
      `/v1/posts/${created.id}/publications/${publication.id}/retry`,
      'POST',
    )
    expect(response.status, await response.clone().text()).toBe(200)
    expect(((await response.json()) as Post).publications[0]?.status).toBe('queued')
    const retried = await waitForPost(
      tenant,
      created.id,
      (post) => finished(post) && (post.publications[0]?.timeline.length ?? 0) === 2,
    )
    expect(retried.publications[0]?.timeline.map((attempt) => attempt.outcome)).toEqual([
      'failed',
      'failed',
    ])
  })

  it('retries an unconfirmed publication by asking the platform first, never posting twice', async () => {
    const { tenant, accountId } = await setUp()
    const text = unique('unsure')
    const created = await create(tenant, accountId, { content: { text }, publishNow: true })
    const published = await waitForPost(tenant, created.id, finished)
    const publicationId = published.publications[0]?.id as string
    // As an attempt whose answer never came leaves it: the post made, the handles saved.
    await db
      .update(publications)
      .set({ status: 'unconfirmed', platformPostId: null, url: null, publishedAt: null })
      .where(eq(publications.id, publicationId))
    await db.update(posts).set({ status: 'failed' }).where(eq(posts.id, created.id))

    const response = await call(
      tenant,
      `/v1/posts/${created.id}/publications/${publicationId}/retry`,
      'POST',
    )
    expect(response.status, await response.clone().text()).toBe(200)
    const post = await waitForPost(
      tenant,
      created.id,
      (candidate) => candidate.publications[0]?.status === 'published',
    )
    expect(post.status).toBe('published')
    expect(post.publications[0]?.timeline.map((attempt) => attempt.outcome)).toEqual([
      'published',
      'reconciled',
    ])
    expect(await copiesOf(text)).toHaveLength(1)
  })

  it('refuses to retry a publication that did not fail, and one of another post', async () => {
    const { tenant, accountId } = await setUp()
    const created = await create(tenant, accountId, {
      content: { text: unique('fine') },
      scheduledAt: inOneDay(),
    })
    const other = await create(tenant, accountId, {
      content: { text: unique('other') },
      scheduledAt: inOneDay(),
    })
    const own = created.publications[0]?.id
    expect(
      (await call(tenant, `/v1/posts/${created.id}/publications/${own}/retry`, 'POST')).status,
    ).toBe(409)
    const foreign = other.publications[0]?.id
    expect(
      (await call(tenant, `/v1/posts/${created.id}/publications/${foreign}/retry`, 'POST')).status,
    ).toBe(404)
  })
})

describe('validating', () => {
  it('lists every issue per target without creating anything', async () => {
    const { tenant, accountId } = await setUp()
    const response = await call(tenant, '/v1/posts/validate', 'POST', {
      accountIds: [accountId, 'acct_unknown'],
      content: { text: 'x'.repeat(100_000) },
    })
    expect(response.status, await response.clone().text()).toBe(200)
    const result = (await response.json()) as {
      valid: boolean
      issues: Problem['issues']
      targets: { accountId: string; platform: string | null; valid: boolean; issues: unknown[] }[]
    }
    expect(result.valid).toBe(false)
    expect(result.targets).toMatchObject([
      { accountId, platform: 'sandbox', valid: false },
      { accountId: 'acct_unknown', platform: null, valid: false },
    ])
    expect(result.issues?.map((issue) => issue.path.join('.'))).toEqual(
      expect.arrayContaining(['accountIds.1', expect.stringMatching(/^targets\.sandbox/)]),
    )
    const list = (await (await request('/v1/posts', { token: tenant.apiKey })).json()) as {
      data: unknown[]
    }
    expect(list.data).toHaveLength(0)

    const valid = (await (
      await call(tenant, '/v1/posts/validate', 'POST', {
        accountIds: [accountId],
        content: { text: 'All good' },
      })
    ).json()) as { valid: boolean; issues: unknown[] }
    expect(valid).toMatchObject({ valid: true, issues: [] })
  })
})

describe('caps and the duplicate guard', () => {
  it('refuses a post over an account’s daily cap, as the workspace set it', async () => {
    const { tenant, accountId } = await setUp()
    const settingsPath = `/v1/workspaces/${tenant.workspaceId}/publishing-settings`
    const defaults = (await (await call(tenant, settingsPath, 'GET')).json()) as {
      dailyCaps: Record<string, number>
    }
    expect(defaults.dailyCaps).toMatchObject({ sandbox: 10_000, x: 2400, linkedin: 150 })
    const changed = await call(tenant, settingsPath, 'PATCH', { dailyCaps: { sandbox: 1 } })
    expect(changed.status, await changed.clone().text()).toBe(200)

    const day = new Date(Date.now() + 2 * 86_400_000)
    day.setUTCHours(9, 0, 0, 0)
    await create(tenant, accountId, { content: { text: unique('a') }, scheduledAt: day })
    const body = {
      accountIds: [accountId],
      content: { text: unique('b') },
      scheduledAt: new Date(day.getTime() + 3_600_000).toISOString(),
    }
    const refused = await call(tenant, '/v1/posts', 'POST', body)
    expect(refused.status).toBe(422)
    expect(((await refused.json()) as Problem).issues).toMatchObject([
      { path: ['accountIds', 0], code: 'daily_cap_reached' },
    ])
    const validation = (await (await call(tenant, '/v1/posts/validate', 'POST', body)).json()) as {
      issues: { code: string }[]
    }
    expect(validation.issues.map((issue) => issue.code)).toEqual(['daily_cap_reached'])
    // The next day has room.
    await create(tenant, accountId, {
      content: { text: unique('c') },
      scheduledAt: new Date(day.getTime() + 86_400_000).toISOString(),
    })

    await call(tenant, settingsPath, 'PATCH', { dailyCaps: { sandbox: null } })
    await create(tenant, accountId, body)
  })

  it('lets only one of two posts racing for an account’s last slot of the day through', async () => {
    const { tenant, accountId } = await setUp()
    await call(tenant, `/v1/workspaces/${tenant.workspaceId}/publishing-settings`, 'PATCH', {
      dailyCaps: { sandbox: 1 },
    })
    const at = new Date(Date.now() + 2 * 86_400_000).toISOString()
    const responses = await Promise.all(
      Array.from({ length: 4 }, (_, index) =>
        call(tenant, '/v1/posts', 'POST', {
          accountIds: [accountId],
          content: { text: unique(`racer ${index}`) },
          scheduledAt: at,
        }),
      ),
    )
    expect(responses.map((response) => response.status).sort()).toEqual([201, 422, 422, 422])
  })

  it('refuses the same text to the same account within the window, unless the guard is off', async () => {
    const { tenant, accountId } = await setUp()
    const text = unique('Same words')
    const at = new Date(Date.now() + 2 * 86_400_000)
    await create(tenant, accountId, { content: { text }, scheduledAt: at.toISOString() })
    const again = {
      accountIds: [accountId],
      content: { text: `  ${text.toUpperCase()}\n` },
      scheduledAt: new Date(at.getTime() + 3_600_000).toISOString(),
    }
    const refused = await call(tenant, '/v1/posts', 'POST', again)
    expect(refused.status).toBe(422)
    expect(((await refused.json()) as Problem).issues).toMatchObject([
      { path: ['accountIds', 0], code: 'duplicate_content' },
    ])
    // Two days later is outside the 24-hour window.
    await create(tenant, accountId, {
      ...again,
      scheduledAt: new Date(at.getTime() + 2 * 86_400_000).toISOString(),
    })
    await call(tenant, `/v1/workspaces/${tenant.workspaceId}/publishing-settings`, 'PATCH', {
      duplicateWindowSeconds: 0,
    })
    await create(tenant, accountId, again)
  })

  it('refuses invalid settings and settings of another workspace', async () => {
    const { tenant } = await setUp()
    const other = await tenantWithProfile()
    const path = `/v1/workspaces/${tenant.workspaceId}/publishing-settings`
    const invalid = await call(tenant, path, 'PATCH', { dailyCaps: { x: -1 } })
    expect(invalid.status).toBe(422)
    expect((await call(other, path, 'PATCH', { duplicateWindowSeconds: 0 })).status).toBe(404)
    const settings = (await (await call(tenant, path, 'GET')).json()) as {
      duplicateWindowSeconds: number
    }
    expect(settings.duplicateWindowSeconds).toBe(86_400)
  })
})
