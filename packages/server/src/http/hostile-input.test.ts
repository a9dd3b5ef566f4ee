import { describe, expect, it } from 'vitest'
import { connectionHelpers } from '../../test/connections.ts'
import { fileForm, makeImage, mediaTestConfig } from '../../test/media.ts'
import { startTestServer } from '../../test/server.ts'

const server = await startTestServer({ media: await mediaTestConfig() })
const { request } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)

type Problem = {
  status: number
  code: string
  issues?: { location: string; path: (string | number)[]; code: string }[]
}

const problemOf = async (response: Response) => {
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/)
  return (await response.json()) as Problem
}

const cursorOf = (position: unknown[]) => Buffer.from(JSON.stringify(position)).toString('base64')

describe('text PostgreSQL cannot store', () => {
  it.each([
    ['a NUL in a profile name', '/v1/profiles', { name: 'a\u0000b' }, ['name']],
    [
      'an unpaired surrogate in post text',
      '/v1/posts',
      { content: { text: 'x\ud800' } },
      ['content', 'text'],
    ],
    [
      'a NUL in a first comment',
      '/v1/posts',
      { content: { text: 'ok', firstComment: 'a\u0000' } },
      ['content', 'firstComment'],
    ],
    [
      'a NUL in a webhook description',
      '/v1/webhook-endpoints',
      { url: 'https://hooks.example.com/', description: '\u0000' },
      ['description'],
    ],
    [
      'a NUL in a platform option’s key',
      '/v1/posts',
      { content: { text: 'ok' }, overrides: { sandbox: { options: { 'a\u0000': 1 } } } },
      ['overrides', 'sandbox', 'options', 'a\u0000'],
    ],
  ])('is refused with 422 naming the field: %s', async (_, path, body, field) => {
    const tenant = await tenantWithProfile()
    const { accountId } = await connectPersonalAccount(tenant)
    const json = path === '/v1/posts' ? { accountIds: [accountId], draft: true, ...body } : body
    const response = await request(path, { token: tenant.apiKey, json })
    expect(response.status).toBe(422)
    expect((await problemOf(response)).issues).toEqual([
      expect.objectContaining({ location: 'body', path: field, code: 'invalid_characters' }),
    ])
  })

  it('is refused in the client id of an OAuth app, naming it', async () => {
    const tenant = await server.createTenant()
    const response = await request('/v1/oauth-apps/sandbox', {
      method: 'PUT',
      token: tenant.apiKey,
      json: { clientId: '\ud800x', clientSecret: 'secret' },
    })
    expect(response.status).toBe(422)
    expect((await problemOf(response)).issues).toEqual([
      expect.objectContaining({ location: 'body', path: ['clientId'], code: 'invalid_characters' }),
    ])
  })

  it('is refused in a multipart alt text, naming it', async () => {
    const tenant = await server.createTenant()
    const response = await server.scheduler.app.request('/v1/media', {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.apiKey}` },
      body: fileForm(await makeImage('png'), 'a.png', { altText: 'a\u0000b' }),
    })
    expect(response.status).toBe(422)
    expect((await problemOf(response)).issues).toEqual([
      expect.objectContaining({ location: 'body', path: ['altText'], code: 'invalid_characters' }),
    ])
  })
})

describe('ids in paths and filters', () => {
  it.each([
    ['/v1/posts/%00', 'path', ['postId']],
    ['/v1/posts/post_unknown', 'path', ['postId']],
    ['/v1/profiles/prof_MZXW6YTBOI2DKMZVGQ3TQNRVHE', 'path', ['profileId']],
    ['/v1/posts?profileId=%00', 'query', ['profileId']],
    ['/v1/posts?accountId=acct_other', 'query', ['accountId']],
    ['/v1/audit-log?actorId=%00', 'query', ['actorId']],
  ])('are checked by their format before any query: %s', async (path, location, field) => {
    const tenant = await server.createTenant()
    const response = await request(path, { token: tenant.apiKey })
    expect(response.status).toBe(422)
    expect((await problemOf(response)).issues).toEqual([
      expect.objectContaining({ location, path: field }),
    ])
  })

  it('still answer 404 for a well-formed id that names nothing', async () => {
    const tenant = await server.createTenant()
    const response = await request('/v1/posts/post_mzxw6ytboi2dkmzvgq3tqnrvhe', {
      token: tenant.apiKey,
    })
    expect(response.status).toBe(404)
  })
})

describe('cursors', () => {
  it.each([
    ['/v1/accounts', ['not a date', 'id']],
    ['/v1/audit-log', ['not a date', 'id']],
    ['/v1/sandbox/posts', ['not a date', 'id']],
    ['/v1/posts', ['not a date', 'id']],
    ['/v1/profiles', ['2024-02-30T00:00:00.000000Z', 'prof_mzxw6ytboi2dkmzvgq3tqnrvhe']],
    ['/v1/media', ['2024-01-01T00:00:00.000000Z', '\u0000']],
  ])('that decode but hold no position of %s answer 422 invalid_cursor', async (path, position) => {
    const tenant = await server.createTenant()
    const response = await request(`${path}?cursor=${encodeURIComponent(cursorOf(position))}`, {
      token: tenant.apiKey,
    })
    expect(response.status).toBe(422)
    expect((await problemOf(response)).issues).toEqual([
      expect.objectContaining({ location: 'query', path: ['cursor'], code: 'invalid_cursor' }),
    ])
  })

  it('given out by the accounts and audit lists lead to their next pages', async () => {
    const tenant = await tenantWithProfile()
    await connectPersonalAccount(tenant)
    await connectPersonalAccount(tenant)
    const pages = async (path: string) => {
      const ids: string[] = []
      let cursor: string | null = null
      do {
        const query: string = cursor ? `&cursor=${cursor}` : ''
        const response = await request(`${path}?limit=1${query}`, { token: tenant.apiKey })
        expect(response.status).toBe(200)
        const page = (await response.json()) as {
          data: { id: string }[]
          nextCursor: string | null
        }
        ids.push(...page.data.map((item) => item.id))
        cursor = page.nextCursor
      } while (cursor)
      return ids
    }
    const accounts = await pages('/v1/accounts')
    expect(accounts).toHaveLength(2)
    expect(new Set(accounts).size).toBe(2)
    const entries = await pages('/v1/audit-log')
    expect(entries.length).toBeGreaterThan(2)
    expect(new Set(entries).size).toBe(entries.length)
  })
})

describe('an empty patch', () => {
  it('answers 200 with the resource unchanged on every PATCH operation that has no required field', async () => {
    const tenant = await tenantWithProfile()
    const { accountId } = await connectPersonalAccount(tenant)
    const created = async (path: string, json: unknown) =>
      ((await (await request(path, { token: tenant.apiKey, json })).json()) as { id: string }).id
    const media = (await (
      await server.scheduler.app.request('/v1/media', {
        method: 'POST',
        headers: { authorization: `Bearer ${tenant.apiKey}` },
        body: fileForm(await makeImage('png'), 'a.png', { altText: 'kept' }),
      })
    ).json()) as { id: string }
    const ids: Record<string, string> = {
      workspaceId: tenant.workspaceId,
      profileId: tenant.profileId,
      mediaId: media.id,
      postId: await created('/v1/posts', {
        accountIds: [accountId],
        content: { text: 'kept' },
        draft: true,
      }),
      endpointId: await created('/v1/webhook-endpoints', { url: 'https://hooks.example.com/' }),
    }
    type Schema = { $ref?: string; required?: string[] }
    const document = (await (await server.scheduler.app.request('/openapi.json')).json()) as {
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: Schema }> } }>
      >
      components: { schemas: Record<string, Schema> }
    }
    const patches = Object.entries(document.paths).flatMap(([path, item]) => {
      const schema = item.patch?.requestBody?.content['application/json']?.schema
      if (!schema) return []
      const resolved = schema.$ref
        ? document.components.schemas[schema.$ref.split('/').at(-1) as string]
        : schema
      return (resolved?.required ?? []).length === 0 ? [path] : []
    })
    expect(patches.length).toBeGreaterThanOrEqual(7)
    // What can change without a patch changing anything: signed URLs and update times.
    const stable = (body: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(body).filter(
          ([key, value]) =>
            !/URL|At$/.test(key) && !(typeof value === 'string' && /^https?:/.test(value)),
        ),
      )
    for (const template of patches) {
      const path = template.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? name)
      const token = path === '/v1/me' ? tenant.person.token : tenant.apiKey
      const before = (await (await request(path, { token })).json()) as Record<string, unknown>
      const patched = await request(path, { method: 'PATCH', token, json: {} })
      expect(patched.status, `PATCH ${template}: ${await patched.clone().text()}`).toBe(200)
      // The PATCH answers the resource as a GET does (a GET may add what uses it, as media does).
      const answered = stable((await patched.json()) as Record<string, unknown>)
      expect(stable(before), template).toEqual(expect.objectContaining(answered))
    }
  })
})
