import { isAdapterError } from '@post-scheduler/adapter-core'
import { describe, expect, it } from 'vitest'
import { sandbox } from '../adapter/sandbox.ts'
import { synchronous } from '../test/synchronous.ts'
import { createSandboxFaultQueue } from './faults.ts'
import { createSandboxPlatform, type SandboxPlatformOptions } from './platform.ts'
import { createMemorySandboxStore, groupDuplicatePosts } from './store.ts'

const baseURL = 'http://127.0.0.1:3000/sandbox'
const redirectURI = 'http://127.0.0.1:3000/callback'
// The fields of the sandbox's JSON answers these tests read.
type Answer = { id: string; error: { code: string } }
const read = async (response: Response) => (await response.json()) as Answer

const client = { clientId: 'app', clientSecret: 'secret', redirectURIs: [redirectURI] }

// The adapter talks to the handler in-process through its injectable fetch: no server, no msw.
function setUp(options: Partial<SandboxPlatformOptions> = {}) {
  const store = options.store ?? createMemorySandboxStore()
  const platform = createSandboxPlatform({ baseURL, clients: [client], ...options, store })
  const fetch: typeof globalThis.fetch = (input, init) => platform(new Request(input, init))
  const adapter = sandbox({ clientId: 'app', clientSecret: 'secret', baseURL, redirectURI })
  async function authorize(overrides: Record<string, string> = {}) {
    const url = adapter.createAuthorizationURL({ state: 's1', codeVerifier: 'v'.repeat(43) })
    const form = new URLSearchParams({
      ...Object.fromEntries(url.searchParams),
      decision: 'allow',
      name: 'Ada',
      ...overrides,
    })
    return platform(new Request(`${baseURL}/oauth/authorize`, { method: 'POST', body: form }))
  }
  async function connect() {
    const location = new URL((await authorize()).headers.get('location') ?? '')
    const tokens = await adapter.validateAuthorizationCode(
      { code: location.searchParams.get('code') ?? '', codeVerifier: 'v'.repeat(43) },
      { fetch },
    )
    const [personal] = await adapter.listAccounts({ accessToken: tokens.accessToken }, { fetch })
    return { tokens, accessToken: tokens.accessToken, accountId: personal?.id ?? '' }
  }
  async function post(accessToken: string, body: unknown, key: string) {
    return platform(
      new Request(`${baseURL}/v1/posts`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${accessToken}`,
          'idempotency-key': key,
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      }),
    )
  }
  return { store, platform, fetch, adapter, authorize, connect, post }
}

describe('the sandbox consent step', () => {
  it('shows what the client asks for, escaping everything it echoes', async () => {
    const { platform } = setUp()
    const url = new URL(`${baseURL}/oauth/authorize`)
    url.search = new URLSearchParams({
      client_id: 'app',
      redirect_uri: redirectURI,
      state: '"><script>alert(1)</script>',
      response_type: 'code',
    }).toString()
    const page = await platform(new Request(url))
    const html = await page.text()
    expect(page.headers.get('x-frame-options')).toBe('DENY')
    expect(html).toContain('&quot;&gt;&lt;script&gt;')
    expect(html).not.toContain('<script>')
  })

  it('never redirects to a redirect URI the client did not register', async () => {
    const { authorize } = setUp()
    const answer = await authorize({ redirect_uri: 'https://attacker.test/steal' })
    expect(answer.status).toBe(400)
    expect(answer.headers.get('location')).toBeNull()
  })

  it('sends the person back with access_denied and the state when they deny', async () => {
    const { authorize } = setUp()
    const location = new URL((await authorize({ decision: 'deny' })).headers.get('location') ?? '')
    expect(Object.fromEntries(location.searchParams)).toEqual({
      state: 's1',
      error: 'access_denied',
    })
  })

  it('gives one login a personal account and a page to choose from', async () => {
    const { adapter, connect, fetch } = setUp()
    const { accessToken } = await connect()
    expect(await adapter.listAccounts({ accessToken }, { fetch })).toEqual([
      {
        id: expect.stringMatching(/^sbx_user_[0-9a-f]{12}_ada$/),
        kind: 'personal',
        name: 'Ada',
        username: 'ada',
      },
      {
        id: expect.stringMatching(/^sbx_page_[0-9a-f]{12}_ada$/),
        kind: 'page',
        name: "Ada's Page",
        username: 'ada-page',
      },
    ])
  })

  it('keeps people of different clients apart, however alike the names they type', async () => {
    const other = { clientId: 'other-app', clientSecret: 'other', redirectURIs: [redirectURI] }
    const store = createMemorySandboxStore()
    const clients = (clientId: string) => [client, other].find((c) => c.clientId === clientId)
    const ours = setUp({ store, clients })
    const theirs = setUp({ store, clients })
    const theirAdapter = sandbox({ ...other, baseURL, redirectURI })
    const mine = await ours.connect()
    expect(
      (await ours.post(mine.accessToken, { accountId: mine.accountId, text: 'mine' }, 'k1')).status,
    ).toBe(201)

    const url = theirAdapter.createAuthorizationURL({ state: 's', codeVerifier: 'w'.repeat(43) })
    const form = new URLSearchParams({
      ...Object.fromEntries(url.searchParams),
      decision: 'allow',
      name: 'Ada',
    })
    const consent = await theirs.platform(
      new Request(`${baseURL}/oauth/authorize`, { method: 'POST', body: form }),
    )
    const code = new URL(consent.headers.get('location') ?? '').searchParams.get('code') ?? ''
    const tokens = await theirAdapter.validateAuthorizationCode(
      { code, codeVerifier: 'w'.repeat(43) },
      { fetch: theirs.fetch },
    )
    const [personal] = await theirAdapter.listAccounts(tokens, { fetch: theirs.fetch })
    expect(personal?.name).toBe('Ada')
    expect(personal?.id).not.toBe(mine.accountId)
    // Their token can neither post as our Ada nor read what she posted.
    expect(
      (await theirs.post(tokens.accessToken, { accountId: mine.accountId, text: 'x' }, 'k2'))
        .status,
    ).toBe(403)
    const lookUp = await theirs.platform(
      new Request(`${baseURL}/v1/posts?accountId=${mine.accountId}&idempotencyKey=k1`, {
        headers: { authorization: `Bearer ${tokens.accessToken}` },
      }),
    )
    expect(lookUp.status).toBe(403)
  })
})

describe('the sandbox token endpoint', () => {
  it('refuses a client with the wrong secret', async () => {
    const { platform } = setUp()
    const answer = await platform(
      new Request(`${baseURL}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: 'x',
          client_id: 'app',
          client_secret: 'wrong',
        }),
      }),
    )
    expect([answer.status, ((await answer.json()) as { error: string }).error]).toEqual([
      401,
      'invalid_client',
    ])
  })

  it('refuses a code redeemed for another redirect URI', async () => {
    const { authorize, fetch } = setUp()
    const code =
      new URL((await authorize()).headers.get('location') ?? '').searchParams.get('code') ?? ''
    const other = sandbox({
      clientId: 'app',
      clientSecret: 'secret',
      baseURL,
      redirectURI: 'http://127.0.0.1:3000/other',
    })
    await expect(
      other.validateAuthorizationCode({ code, codeVerifier: 'v'.repeat(43) }, { fetch }),
    ).rejects.toMatchObject({ code: 'RECONNECT_REQUIRED', reason: 'invalid_grant' })
  })

  it('revokes the whole grant when either token is revoked', async () => {
    const { adapter, connect, fetch } = setUp()
    const { tokens, accessToken } = await connect()
    await adapter.revokeToken({ token: tokens.refreshToken ?? '' }, { fetch })
    const error = await adapter
      .listAccounts({ accessToken }, { fetch })
      .catch((thrown: unknown) => thrown)
    expect(isAdapterError(error, 'RECONNECT_REQUIRED')).toBe(true)
  })
})

describe('publishing to the sandbox', () => {
  it('replays the first answer for a repeated idempotency key instead of posting twice', async () => {
    const { connect, post, store } = setUp()
    const { accessToken, accountId } = await connect()
    const first = await post(accessToken, { accountId, text: 'once' }, 'key-1')
    const second = await post(accessToken, { accountId, text: 'once' }, 'key-1')
    expect([first.status, second.status]).toEqual([201, 200])
    expect(second.headers.get('idempotent-replayed')).toBe('true')
    expect((await read(second)).id).toBe((await read(first)).id)
    expect((await store.listPosts()).posts).toHaveLength(1)
  })

  it('records what reached it, so duplicates can be counted', async () => {
    const { connect, post, store } = setUp()
    const { accessToken, accountId } = await connect()
    await post(accessToken, { accountId, text: 'twice', attemptId: 'a1' }, 'key-1')
    await post(accessToken, { accountId, text: 'twice', attemptId: 'a2' }, 'key-2')
    const { posts } = await store.listPosts()
    expect(posts.map((entry) => [entry.idempotencyKey, entry.attemptId, entry.clientId])).toEqual(
      expect.arrayContaining([
        ['key-1', 'a1', 'app'],
        ['key-2', 'a2', 'app'],
      ]),
    )
    expect(groupDuplicatePosts(posts)).toHaveLength(1)
  })

  it('enforces its own limits, as a real platform does', async () => {
    const { connect, post } = setUp()
    const { accessToken, accountId } = await connect()
    const answer = await post(accessToken, { accountId, text: 'x'.repeat(501) }, 'key-1')
    expect([answer.status, (await read(answer)).error.code]).toEqual([422, 'TEXT_TOO_LONG'])
  })

  it('refuses to post as an account the token was not granted', async () => {
    const { connect, post } = setUp()
    const { accessToken } = await connect()
    expect(
      (await post(accessToken, { accountId: 'sbx_user_someone', text: 'hi' }, 'k')).status,
    ).toBe(403)
  })

  it.each([
    ['rate_limit', 429, 'RATE_LIMITED'],
    ['app_rate_limit', 429, 'APP_RATE_LIMITED'],
    ['reject', 422, 'CONTENT_POLICY'],
    ['unavailable', 503, 'UNAVAILABLE'],
    ['invalid_token', 401, 'invalid_token'],
  ])(
    'fails a post marked #sandbox-fail:%s with %i and records nothing',
    async (kind, status, code) => {
      const { connect, post, store } = setUp()
      const { accessToken, accountId } = await connect()
      const answer = await post(accessToken, { accountId, text: `demo #sandbox-fail:${kind}` }, 'k')
      expect([answer.status, (await read(answer)).error.code]).toEqual([status, code])
      expect((await store.listPosts()).posts).toEqual([])
    },
  )

  it('announces the wait of a rate limit in standard headers', async () => {
    const faults = createSandboxFaultQueue()
    faults.push('publish', { kind: 'rate_limit', retryAfterSeconds: 12 })
    const { connect, post } = setUp({ faults: faults.source })
    const { accessToken, accountId } = await connect()
    const answer = await post(accessToken, { accountId, text: 'hi' }, 'k')
    expect([answer.headers.get('retry-after'), answer.headers.get('ratelimit')]).toEqual([
      '12',
      '"default";r=0;t=12',
    ])
  })

  it('records a post, then answers 504 when the client never gives up', async () => {
    const faults = createSandboxFaultQueue()
    faults.push('publish', { kind: 'timeout_after_commit', holdMs: 0 })
    const { connect, post, store } = setUp({ faults: faults.source })
    const { accessToken, accountId } = await connect()
    expect((await post(accessToken, { accountId, text: 'lost answer' }, 'k')).status).toBe(504)
    expect((await store.listPosts()).posts.map((entry) => entry.text)).toEqual(['lost answer'])
  })

  it('serves a public page per post, gone once deleted', async () => {
    const { adapter, connect, fetch, platform } = setUp()
    const call = await connect()
    const published = synchronous(
      await adapter.publish(
        {
          ...call,
          attemptId: 'a1',
          post: { text: 'Hello <b>world</b>' },
          checkpoint: async () => {},
        },
        { fetch },
      ),
    )
    const page = await platform(new Request(published.url ?? ''))
    expect(await page.text()).toContain('Hello &lt;b&gt;world&lt;/b&gt;')
    await adapter.deletePost({ ...call, platformPostId: published.platformPostId }, { fetch })
    expect((await platform(new Request(published.url ?? ''))).status).toBe(404)
  })

  it('still finds a deleted post by its idempotency key: it was made', async () => {
    const { adapter, connect, fetch } = setUp()
    const call = await connect()
    let handles = {}
    const published = synchronous(
      await adapter.publish(
        {
          ...call,
          attemptId: 'a1',
          post: { text: 'made' },
          checkpoint: async (saved) => {
            handles = saved
          },
        },
        { fetch },
      ),
    )
    await adapter.deletePost({ ...call, platformPostId: published.platformPostId }, { fetch })
    expect(
      await adapter.lookUpPublication({ ...call, attemptId: 'a2', handles }, { fetch }),
    ).toMatchObject({
      status: 'published',
      platformPostId: published.platformPostId,
    })
  })

  it('answers under a mount that strips its path prefix', async () => {
    const { platform } = setUp()
    const stripped = await platform(new Request('http://127.0.0.1:3000/v1/accounts'))
    expect(stripped.status).toBe(401)
    const unknown = await platform(new Request('http://127.0.0.1:3000/sandbox/nowhere'))
    expect([unknown.status, (await read(unknown)).error.code]).toEqual([404, 'NOT_FOUND'])
  })
})

describe('sandbox uploads', () => {
  it('refuses a part of the wrong size and a completion with bytes missing', async () => {
    const { connect, platform } = setUp({ uploadPartSizeBytes: 4 })
    const { accessToken } = await connect()
    const call = (method: string, path: string, body?: string | Uint8Array<ArrayBuffer>) =>
      platform(
        new Request(`${baseURL}${path}`, {
          method,
          headers: { authorization: `Bearer ${accessToken}` },
          body,
        }),
      )
    const started = await call(
      'POST',
      '/v1/media/uploads',
      JSON.stringify({ kind: 'image', mimeType: 'image/png', sizeBytes: 6 }),
    )
    const { id } = await read(started)
    expect((await call('PUT', `/v1/media/uploads/${id}/parts/0`, new Uint8Array(3))).status).toBe(
      400,
    )
    expect((await call('PUT', `/v1/media/uploads/${id}/parts/0`, new Uint8Array(4))).status).toBe(
      200,
    )
    const incomplete = await call('POST', `/v1/media/uploads/${id}/complete`)
    expect((await read(incomplete)).error.code).toBe('UPLOAD_INCOMPLETE')
    expect((await call('PUT', `/v1/media/uploads/${id}/parts/1`, new Uint8Array(2))).status).toBe(
      200,
    )
    expect(await (await call('POST', `/v1/media/uploads/${id}/complete`)).json()).toEqual({
      mediaId: id,
    })
  })
})
