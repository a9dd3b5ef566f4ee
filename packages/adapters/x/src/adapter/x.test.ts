import {
  type AdapterErrorCode,
  type AnyAdapterError,
  generateCodeVerifier,
  generateState,
  isAdapterError,
  type PublicationHandles,
  type PublishMedia,
} from '@post-scheduler/adapter-core'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createXEmulator, type XEmulator } from '../testing/emulator.ts'
import { createSpecValidator } from '../testing/spec-validator.ts'
import { type XConfig, x } from './x.ts'

const validator = await createSpecValidator()
const server = setupServer()
const credentials = { clientId: 'test-client', clientSecret: 'test-secret' }
const redirectURI = 'https://app.test/v1/connections/x/callback'
const start = Math.floor(Date.parse('2026-11-29T12:00:00Z') / 1000) * 1000
let clock = start
let emulator: XEmulator

function adapterWith(config: Partial<XConfig> = {}) {
  return x({
    ...credentials,
    redirectURI,
    now: () => new Date(clock),
    media: {
      sleep: async (milliseconds) => {
        clock += milliseconds
      },
    },
    ...config,
  })
}

beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
beforeEach(() => {
  clock = start
  emulator = createXEmulator({ ...credentials, inspect: validator.inspect, now: () => clock })
  server.resetHandlers(...emulator.handlers)
})
afterEach(() => {
  expect(validator.takeMismatches(), 'requests that do not match the X API v2 document').toEqual([])
})
afterAll(() => server.close())

async function connect(adapter = adapterWith(), as?: { username: string }) {
  const codeVerifier = generateCodeVerifier()
  const url = adapter.createAuthorizationURL({ state: generateState(), codeVerifier })
  const { code } = await emulator.approve(url, as)
  const tokens = await adapter.validateAuthorizationCode({ code, codeVerifier })
  const [account] = await adapter.listAccounts({ accessToken: tokens.accessToken })
  if (!account) throw new Error('no account')
  return { tokens, call: { accessToken: tokens.accessToken, accountId: account.id }, account }
}

function attempt(handles: PublicationHandles = {}) {
  const saved: PublicationHandles[] = []
  return {
    attemptId: crypto.randomUUID(),
    handles,
    checkpoint: async (next: PublicationHandles) => {
      saved.push(next)
    },
    saved: () => Object.assign({}, ...saved) as PublicationHandles,
  }
}

async function failure<Code extends AdapterErrorCode>(
  promise: Promise<unknown>,
  code: Code,
): Promise<Extract<AnyAdapterError, { code: Code }>> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  )
  if (!isAdapterError(error, code)) throw new Error(`expected ${code}, got ${String(error)}`)
  return error
}

function media(kind: 'image' | 'gif' | 'video', index = 0, altText?: string): PublishMedia {
  const mimeType = { image: 'image/png', gif: 'image/gif', video: 'video/mp4' }[kind]
  const bytes = new Blob([new Uint8Array(kind === 'video' ? 5000 : 1500).fill(index)])
  return {
    id: `${kind}-${index}`,
    kind,
    mimeType,
    sizeBytes: bytes.size,
    width: 1280,
    height: 720,
    ...(kind === 'image' ? {} : { durationSeconds: 10 }),
    ...(altText ? { altText } : {}),
    open: async () => bytes,
  }
}

describe('OAuth', () => {
  it('sends people to x.com with S256 PKCE and the scopes posting needs', () => {
    const url = adapterWith().createAuthorizationURL({
      state: 'state-1',
      codeVerifier: generateCodeVerifier(),
    })
    expect(url.origin + url.pathname).toBe('https://x.com/i/oauth2/authorize')
    expect(url.searchParams.get('code_challenge_method')).toBe('S256')
    expect(url.searchParams.get('scope')).toBe(
      'tweet.read tweet.write users.read media.write offline.access',
    )
  })

  it('authenticates a confidential client with HTTP Basic, never the secret in the body', async () => {
    await connect()
    const [token] = emulator.requests.find('POST', '/2/oauth2/token')
    expect(token?.headers.get('authorization')).toMatch(/^Basic /)
    expect(new URLSearchParams(token?.bodyText).has('client_secret')).toBe(false)
  })

  it('sends client_id in the body for a public client', async () => {
    emulator = createXEmulator({ clientId: 'public-client', inspect: validator.inspect })
    server.resetHandlers(...emulator.handlers)
    await connect(adapterWith({ clientId: 'public-client', clientSecret: undefined }))
    const [token] = emulator.requests.find('POST', '/2/oauth2/token')
    expect(token?.headers.has('authorization')).toBe(false)
    expect(new URLSearchParams(token?.bodyText).get('client_id')).toBe('public-client')
  })

  it('stores the rotated refresh token: the old one needs a reconnect once used', async () => {
    const adapter = adapterWith()
    const { tokens } = await connect(adapter)
    const refreshed = await adapter.refreshAccessToken({ refreshToken: tokens.refreshToken ?? '' })
    expect(refreshed.refreshToken).toBeDefined()
    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken)
    const error = await failure(
      adapter.refreshAccessToken({ refreshToken: tokens.refreshToken ?? '' }),
      'RECONNECT_REQUIRED',
    )
    expect(error.reason).toBe('invalid_grant')
    await adapter.refreshAccessToken({ refreshToken: refreshed.refreshToken ?? '' })
  })

  it('gets no refresh token without offline.access', async () => {
    const adapter = adapterWith({ scopes: ['tweet.read', 'tweet.write', 'users.read'] })
    const { tokens } = await connect(adapter)
    expect(tokens.refreshToken).toBeUndefined()
    expect(tokens.scopes).not.toContain('offline.access')
  })

  it('refuses a code older than 30 seconds', async () => {
    const adapter = adapterWith()
    const codeVerifier = generateCodeVerifier()
    const url = adapter.createAuthorizationURL({ state: generateState(), codeVerifier })
    const { code } = await emulator.approve(url)
    clock += 31_000
    await failure(adapter.validateAuthorizationCode({ code, codeVerifier }), 'RECONNECT_REQUIRED')
  })
})

describe('publishing', () => {
  it('uploads four images in segments, sets their alt text and attaches them', async () => {
    const adapter = adapterWith({ media: { chunkSizeBytes: 1000 } })
    const { call } = await connect(adapter)
    const images = [0, 1, 2, 3].map((index) => media('image', index, `Picture ${index + 1}`))
    const published = await adapter.publish({
      ...call,
      ...attempt(),
      post: { text: 'Four', media: images },
    })
    const post = emulator.posts.find((candidate) => candidate.id === published.platformPostId)
    expect(post?.mediaIds).toHaveLength(4)
    expect(post?.mediaIds.map((id) => emulator.altTextOf(id))).toEqual([
      'Picture 1',
      'Picture 2',
      'Picture 3',
      'Picture 4',
    ])
    // 1,500 bytes in 1,000-byte segments: two appends per image.
    expect(
      emulator.requests.list().filter((entry) => entry.url.pathname.endsWith('/append')),
    ).toHaveLength(8)
    expect(published.url).toBe(`https://x.com/i/web/status/${published.platformPostId}`)
  })

  it('waits for a video to finish processing before posting it', async () => {
    emulator = createXEmulator({
      ...credentials,
      processingPolls: 3,
      checkAfterSeconds: 5,
      now: () => clock,
      inspect: validator.inspect,
    })
    server.resetHandlers(...emulator.handlers)
    const adapter = adapterWith()
    const { call } = await connect(adapter)
    const published = await adapter.publish({
      ...call,
      ...attempt(),
      post: { text: 'Clip', media: [media('video')] },
    })
    const statuses = emulator.requests.find('GET', '/2/media/upload')
    expect(statuses).toHaveLength(3)
    expect(clock - start).toBe(15_000)
    expect(
      emulator.posts.find((post) => post.id === published.platformPostId)?.mediaIds,
    ).toHaveLength(1)
  })

  it('reports a video X fails to process as rejected content at the media path', async () => {
    const adapter = adapterWith()
    const { call, account } = await connect(adapter)
    emulator.failNextProcessing()
    const error = await failure(
      adapter.publish({
        ...call,
        ...attempt(),
        post: { text: 'Bad clip', media: [media('video')] },
      }),
      'CONTENT_REJECTED',
    )
    expect(error.platformCode).toBe('InvalidMedia')
    expect(error.issues[0]?.path).toEqual(['media', 0])
    expect(await emulator.countPosts(account.id)).toBe(0)
  })

  it('gives up waiting on processing as retryable, without posting', async () => {
    emulator = createXEmulator({
      ...credentials,
      processingPolls: 100,
      checkAfterSeconds: 30,
      now: () => clock,
      inspect: validator.inspect,
    })
    server.resetHandlers(...emulator.handlers)
    const adapter = adapterWith({ media: { maxProcessingSeconds: 60, sleep: async () => {} } })
    const { call, account } = await connect(adapter)
    const error = await failure(
      adapter.publish({ ...call, ...attempt(), post: { text: 'Slow', media: [media('gif')] } }),
      'PLATFORM_UNAVAILABLE',
    )
    expect(error.retryable).toBe(true)
    expect(await emulator.countPosts(account.id)).toBe(0)
  })

  it('publishes media without text, and sends reply settings', async () => {
    const adapter = adapterWith()
    const { call } = await connect(adapter)
    const published = await adapter.publish({
      ...call,
      ...attempt(),
      post: { text: '', media: [media('gif')], options: { replySettings: 'following' } },
    })
    const post = emulator.posts.find((candidate) => candidate.id === published.platformPostId)
    expect(post).toMatchObject({ text: '', replySettings: 'following' })
  })

  it('chains a thread, each part replying to the one before', async () => {
    const adapter = adapterWith()
    const { call } = await connect(adapter)
    const published = await adapter.publish({
      ...call,
      ...attempt(),
      post: { text: 'One', thread: [{ text: 'Two' }, { text: 'Three' }] },
    })
    const [second, third] = published.threadPostIds ?? []
    const byId = (id: string | undefined) => emulator.posts.find((post) => post.id === id)
    expect(byId(second)?.replyTo).toBe(published.platformPostId)
    expect(byId(third)?.replyTo).toBe(second)
  })
})

describe('the 2026 reply restriction', () => {
  it('is a validation error up front when self-replies are configured as refused', () => {
    const post = { text: 'One', thread: [{ text: 'Two' }] }
    expect(adapterWith({ selfReplies: 'refused' }).validatePost({ post })).toContainEqual(
      expect.objectContaining({ path: ['thread'], code: 'REPLY_RESTRICTED' }),
    )
    expect(
      adapterWith({ selfReplies: 'refused', access: 'enterprise' }).validatePost({ post }),
    ).toEqual([])
  })

  it("surfaces X's refusal of a reply, naming the posts already live, and resumes on retry", async () => {
    emulator.setReplyPolicy('summoned_only')
    const adapter = adapterWith()
    const { call } = await connect(adapter)
    const post = { text: 'Head', thread: [{ text: 'Tail' }] }
    const first = attempt()
    const error = await failure(adapter.publish({ ...call, ...first, post }), 'CONTENT_REJECTED')
    expect(error.platformCode).toBe('reply-not-permitted')
    const head = emulator.posts[0]
    expect(error.message).toContain(head?.id)
    expect(error.action).toBe('fix_content')
    expect(first.saved()['part.0.id']).toBe(head?.id)

    emulator.setReplyPolicy('open')
    const retried = await adapter.publish({ ...call, ...attempt(first.saved()), post })
    expect(retried.platformPostId).toBe(head?.id)
    expect(emulator.posts.map((item) => item.text)).toEqual(['Head', 'Tail'])
  })
})

describe('errors and what the runner does next', () => {
  const problem = (status: number, detail: string, type = 'about:blank') => ({
    kind: 'response' as const,
    status,
    body: { title: 'Error', detail, type, status },
  })

  it('waits for the 24-hour user window when that is the one exhausted', async () => {
    const adapter = adapterWith()
    const { call } = await connect(adapter)
    const seconds = Math.floor(clock / 1000)
    emulator.faults.inject(
      { method: 'POST', path: '/2/tweets' },
      {
        kind: 'response',
        status: 429,
        headers: {
          'x-rate-limit-remaining': '80',
          'x-rate-limit-reset': String(seconds + 600),
          'x-user-limit-24hour-remaining': '0',
          'x-user-limit-24hour-reset': String(seconds + 7200),
        },
        body: {
          title: 'Too Many Requests',
          detail: 'Too Many Requests',
          type: 'about:blank',
          status: 429,
        },
      },
    )
    const error = await failure(
      adapter.publish({ ...call, ...attempt(), post: { text: 'Hi' } }),
      'RATE_LIMITED',
    )
    expect(error.retryAfterSeconds).toBe(7200)
    expect(error.action).toBe('retry_later')
    // The account's own window: only this account waits.
    expect(error.scope).toBe('account')
  })

  it("makes every account wait when the app's 24-hour window is exhausted", async () => {
    const adapter = adapterWith()
    const { call } = await connect(adapter)
    const seconds = Math.floor(clock / 1000)
    emulator.faults.inject(
      { method: 'POST', path: '/2/tweets' },
      {
        kind: 'response',
        status: 429,
        headers: {
          'x-app-limit-24hour-remaining': '0',
          'x-app-limit-24hour-reset': String(seconds + 3600),
          'x-user-limit-24hour-remaining': '40',
        },
        body: {
          title: 'Too Many Requests',
          detail: 'Too Many Requests',
          type: 'about:blank',
          status: 429,
        },
      },
    )
    const error = await failure(
      adapter.publish({ ...call, ...attempt(), post: { text: 'Hi' } }),
      'RATE_LIMITED',
    )
    expect(error.scope).toBe('app')
    expect(error.retryAfterSeconds).toBe(3600)
  })

  it("treats the app's usage cap as a rate limit", async () => {
    const adapter = adapterWith()
    const { call } = await connect(adapter)
    emulator.faults.inject(
      { method: 'POST', path: '/2/tweets' },
      problem(
        429,
        'Usage cap exceeded: Monthly product cap',
        'https://api.twitter.com/2/problems/usage-capped',
      ),
    )
    const error = await failure(
      adapter.publish({ ...call, ...attempt(), post: { text: 'Hi' } }),
      'RATE_LIMITED',
    )
    expect(error.message).toContain('usage cap')
    expect(error.scope).toBe('app')
  })

  it('asks for a fix, not a reconnect, when X refuses a duplicate', async () => {
    const adapter = adapterWith()
    const { call } = await connect(adapter)
    await adapter.publish({ ...call, ...attempt(), post: { text: 'Same words' } })
    const error = await failure(
      adapter.publish({ ...call, ...attempt(), post: { text: 'Same words' } }),
      'CONTENT_REJECTED',
    )
    expect(error.platformCode).toBe('duplicate-content')
    expect(error.action).toBe('fix_content')
  })

  it.each([
    { detail: 'Unauthorized', status: 401, type: 'about:blank', code: 'RECONNECT_REQUIRED' },
    {
      detail: 'Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.',
      status: 403,
      type: 'https://api.twitter.com/2/problems/unsupported-authentication',
      code: 'RECONNECT_REQUIRED',
    },
    {
      detail:
        'When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project.',
      status: 403,
      type: 'https://api.twitter.com/2/problems/client-forbidden',
      code: 'UNEXPECTED_RESPONSE',
    },
    {
      detail: 'You are not permitted to perform this action.',
      status: 403,
      type: 'about:blank',
      code: 'CONTENT_REJECTED',
    },
    {
      detail: 'The Tweet contains an invalid URL.',
      status: 400,
      type: 'https://api.twitter.com/2/problems/invalid-request',
      code: 'CONTENT_REJECTED',
    },
    {
      detail: 'Service Unavailable',
      status: 503,
      type: 'about:blank',
      code: 'PLATFORM_UNAVAILABLE',
    },
    { detail: 'Internal Error', status: 500, type: 'about:blank', code: 'OUTCOME_UNKNOWN' },
  ] as const)(
    'maps a $status "$detail" on publish to $code',
    async ({ detail, status, type, code }) => {
      const adapter = adapterWith()
      const { call } = await connect(adapter)
      emulator.faults.inject({ method: 'POST', path: '/2/tweets' }, problem(status, detail, type))
      await failure(adapter.publish({ ...call, ...attempt(), post: { text: 'Hi' } }), code)
    },
  )

  it('retries a lost media segment on its own, then posts once', async () => {
    const adapter = adapterWith({ media: { chunkSizeBytes: 1000 } })
    const { call, account } = await connect(adapter)
    emulator.faults.inject({ method: 'POST', path: /\/append$/ }, { kind: 'network_error' })
    await adapter.publish({ ...call, ...attempt(), post: { text: 'Pic', media: [media('image')] } })
    expect(await emulator.countPosts(account.id)).toBe(1)
  })
})

describe('exactly once', () => {
  async function lostAnswer(
    adapter: ReturnType<typeof adapterWith>,
    call: { accessToken: string; accountId: string },
    post: Parameters<ReturnType<typeof adapterWith>['publish']>[0]['post'],
  ) {
    const first = attempt()
    // The connection drops on the way: X never saw the post.
    emulator.faults.inject({ method: 'POST', path: '/2/tweets' }, { kind: 'network_error' })
    await failure(adapter.publish({ ...call, ...first, post }), 'OUTCOME_UNKNOWN')
    return first
  }

  it('answers unknown while the timeline may lag, then not_found once it has settled', async () => {
    const adapter = adapterWith({ reconciliation: { settleSeconds: 60 } })
    const { call } = await connect(adapter)
    const first = await lostAnswer(adapter, call, { text: 'Never arrived' })
    const early = await adapter.lookUpPublication({
      ...call,
      attemptId: first.attemptId,
      handles: first.saved(),
    })
    expect(early).toMatchObject({ status: 'unknown', retryAfterSeconds: 60 })
    clock += 61_000
    const later = await adapter.lookUpPublication({
      ...call,
      attemptId: first.attemptId,
      handles: first.saved(),
    })
    expect(later).toEqual({ status: 'not_found' })
  })

  it('refuses to post again while an earlier attempt cannot be ruled out', async () => {
    const adapter = adapterWith({ reconciliation: { settleSeconds: 60 } })
    const { call, account } = await connect(adapter)
    const first = await lostAnswer(adapter, call, { text: 'Maybe' })
    await failure(
      adapter.publish({ ...call, ...attempt(first.saved()), post: { text: 'Maybe' } }),
      'OUTCOME_UNKNOWN',
    )
    expect(await emulator.countPosts(account.id)).toBe(0)
  })

  it('finds a post whose text X rewrote (t.co links, escaped &<>) and does not post it again', async () => {
    const adapter = adapterWith()
    const { call, account } = await connect(adapter)
    const post = { text: 'Tom & Jerry <3 example.com and https://example.org/a?b=c' }
    const first = attempt()
    emulator.injectFault('publish', { kind: 'outcome_unknown' })
    await failure(
      adapter.publish({ ...call, ...first, post }, { timeoutMs: 50 }),
      'OUTCOME_UNKNOWN',
    )
    const found = await adapter.lookUpPublication({
      ...call,
      attemptId: first.attemptId,
      handles: first.saved(),
    })
    expect(found).toMatchObject({ status: 'published', platformPostId: emulator.posts[0]?.id })
    const retried = await adapter.publish({ ...call, ...attempt(first.saved()), post })
    expect(retried.platformPostId).toBe(emulator.posts[0]?.id)
    expect(await emulator.countPosts(account.id)).toBe(1)
  })

  it('reuses the uploaded media when retrying a post X refused', async () => {
    const adapter = adapterWith({ reconciliation: { settleSeconds: 0 } })
    const { call } = await connect(adapter)
    emulator.faults.inject({ method: 'POST', path: '/2/tweets' }, { kind: 'response', status: 503 })
    const post = { text: '', media: [media('image')] }
    const first = attempt()
    await failure(adapter.publish({ ...call, ...first, post }), 'PLATFORM_UNAVAILABLE')
    const uploads = emulator.requests.find('POST', '/2/media/upload/initialize').length
    const retried = await adapter.publish({ ...call, ...attempt(first.saved()), post })
    expect(emulator.requests.find('POST', '/2/media/upload/initialize')).toHaveLength(uploads)
    expect(emulator.posts.find((item) => item.id === retried.platformPostId)?.mediaIds).toEqual(
      first.saved().mediaIds?.split(','),
    )
  })

  it('does not take an older post with the same text for the attempt', async () => {
    const adapter = adapterWith({ reconciliation: { settleSeconds: 0 } })
    const { call } = await connect(adapter)
    emulator.createPost({
      authorId: call.accountId,
      text: 'Again',
      createdAt: new Date(start - 3_600_000),
    })
    emulator.faults.inject({ method: 'POST', path: '/2/tweets' }, { kind: 'response', status: 503 })
    const first = attempt()
    await failure(
      adapter.publish({ ...call, ...first, post: { text: 'Again' } }),
      'PLATFORM_UNAVAILABLE',
    )
    expect(
      await adapter.lookUpPublication({
        ...call,
        attemptId: first.attemptId,
        handles: first.saved(),
      }),
    ).toEqual({ status: 'not_found' })
  })

  it('reconciles, rather than fails, when a retry is refused as a duplicate of itself', async () => {
    const adapter = adapterWith({ reconciliation: { settleSeconds: 0 } })
    const { call } = await connect(adapter)
    const first = attempt()
    emulator.injectFault('publish', { kind: 'outcome_unknown' })
    await failure(
      adapter.publish({ ...call, ...first, post: { text: 'Lagging' } }, { timeoutMs: 50 }),
      'OUTCOME_UNKNOWN',
    )
    // The timeline does not show the post yet.
    emulator.faults.inject(
      { method: 'GET', path: /\/tweets$/ },
      { kind: 'response', status: 200, body: { meta: { result_count: 0 } } },
    )
    await failure(
      adapter.publish({ ...call, ...attempt(first.saved()), post: { text: 'Lagging' } }),
      'OUTCOME_UNKNOWN',
    )
    expect(emulator.posts).toHaveLength(1)
  })

  it('resumes a thread after the part whose answer was lost, without repeating a part', async () => {
    const adapter = adapterWith({ reconciliation: { settleSeconds: 0 } })
    const { call } = await connect(adapter)
    const post = { text: 'A', thread: [{ text: 'B' }, { text: 'C' }] }
    const first = attempt()
    let injected = false
    // X makes the second post and its answer is lost.
    const checkpoint = async (handles: PublicationHandles) => {
      await first.checkpoint(handles)
      if (handles['part.1.sentAt'] && !injected) {
        injected = true
        emulator.injectFault('publish', { kind: 'outcome_unknown' })
      }
    }
    await failure(
      adapter.publish({ ...call, ...first, checkpoint, post }, { timeoutMs: 50 }),
      'OUTCOME_UNKNOWN',
    )
    // B is live, C was never sent: publishing again resumes after B.
    expect(
      await adapter.lookUpPublication({
        ...call,
        attemptId: first.attemptId,
        handles: first.saved(),
      }),
    ).toEqual({ status: 'not_found' })
    const second = attempt(first.saved())
    const published = await adapter.publish({ ...call, ...second, post })
    expect(emulator.posts.map((item) => item.text)).toEqual(['A', 'B', 'C'])
    expect(
      await adapter.lookUpPublication({
        ...call,
        attemptId: second.attemptId,
        handles: second.saved(),
      }),
    ).toEqual({
      status: 'published',
      platformPostId: published.platformPostId,
      url: published.url,
      threadPostIds: published.threadPostIds,
    })
  })

  it('finds a media-only post by its media ids', async () => {
    const adapter = adapterWith()
    const { call } = await connect(adapter)
    const first = attempt()
    emulator.injectFault('publish', { kind: 'outcome_unknown' })
    await failure(
      adapter.publish(
        { ...call, ...first, post: { text: '', media: [media('image')] } },
        { timeoutMs: 50 },
      ),
      'OUTCOME_UNKNOWN',
    )
    expect(
      await adapter.lookUpPublication({
        ...call,
        attemptId: first.attemptId,
        handles: first.saved(),
      }),
    ).toMatchObject({ status: 'published', platformPostId: emulator.posts[0]?.id })
  })
})

describe('delete and metrics', () => {
  it('reads likes, replies, shares, impressions and video views', async () => {
    const adapter = adapterWith()
    const { call } = await connect(adapter)
    const published = await adapter.publish({
      ...call,
      ...attempt(),
      post: { text: 'Watch', media: [media('video')] },
    })
    const [metrics] = await adapter.getMetrics({
      ...call,
      platformPostIds: [published.platformPostId],
    })
    expect(metrics).toMatchObject({
      platformPostId: published.platformPostId,
      likes: expect.any(Number),
      comments: expect.any(Number),
      shares: expect.any(Number),
      impressions: expect.any(Number),
      views: expect.any(Number),
    })
  })

  it('leaves out posts X no longer has', async () => {
    const adapter = adapterWith()
    const { call } = await connect(adapter)
    const published = await adapter.publish({ ...call, ...attempt(), post: { text: 'Gone soon' } })
    await adapter.deletePost({ ...call, platformPostId: published.platformPostId })
    expect(
      await adapter.getMetrics({ ...call, platformPostIds: [published.platformPostId] }),
    ).toEqual([])
  })
})

describe('the spec validator', () => {
  it('fails a request that does not match the X API v2 document', async () => {
    await validator.inspect(
      new Request('https://api.x.com/2/tweets', {
        method: 'POST',
        headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'hi', made_up: true }),
      }),
    )
    await validator.inspect(
      new Request('https://api.x.com/2/users/me/timeline', {
        headers: { authorization: 'Bearer t' },
      }),
    )
    expect(validator.takeMismatches()).toEqual([
      expect.stringContaining('additional properties'),
      expect.stringContaining('no such operation'),
    ])
  })

  it('has seen every X operation the adapter uses', () => {
    expect([...validator.operations].sort()).toEqual(
      [
        '/2/oauth2/token',
        'appendMediaUpload',
        'createMediaMetadata',
        'createPosts',
        'deletePosts',
        'finalizeMediaUpload',
        'getMediaUploadStatus',
        'getPostsByIds',
        'getUsersMe',
        'getUsersPosts',
        'initializeMediaUpload',
      ].sort(),
    )
  })
})
