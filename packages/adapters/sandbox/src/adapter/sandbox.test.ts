import { createS256CodeChallenge, type PublishMedia } from '@post-scheduler/adapter-core'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { synchronous } from '../test/synchronous.ts'
import { createSandboxEmulator } from '../testing/emulator.ts'
import { sandbox } from './sandbox.ts'

const baseURL = 'https://sandbox.test'
const adapter = sandbox({
  clientId: 'app',
  clientSecret: 'secret',
  baseURL,
  redirectURI: 'https://app.test/callback',
})
const server = setupServer()
let emulator = createSandboxEmulator({ baseURL })

beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
beforeEach(() => {
  emulator = createSandboxEmulator({ baseURL, uploadPartSizeBytes: 1024 })
  server.resetHandlers(...emulator.handlers)
})
afterAll(() => server.close())

async function connect() {
  const codeVerifier = 'v'.repeat(43)
  const { code } = await emulator.approve(
    adapter.createAuthorizationURL({ state: 's', codeVerifier }),
  )
  const { accessToken } = await adapter.validateAuthorizationCode({ code, codeVerifier })
  const [personal] = await adapter.listAccounts({ accessToken })
  return { accessToken, accountId: personal?.id ?? '' }
}

function image(sizeBytes: number): PublishMedia {
  const blob = new Blob([new Uint8Array(sizeBytes)])
  return {
    id: 'm1',
    kind: 'image',
    mimeType: 'image/png',
    sizeBytes,
    width: 800,
    height: 600,
    open: async () => blob,
  }
}

describe('sandbox()', () => {
  it('asks for consent with an S256 challenge of the verifier, the state and the redirect URI', () => {
    const url = adapter.createAuthorizationURL({ state: 'state-1', codeVerifier: 'v'.repeat(43) })
    expect(url.origin + url.pathname).toBe(`${baseURL}/oauth/authorize`)
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'app',
      redirect_uri: 'https://app.test/callback',
      state: 'state-1',
      code_challenge: createS256CodeChallenge('v'.repeat(43)),
      code_challenge_method: 'S256',
      scope: 'accounts.read posts.read posts.write',
    })
  })

  it('reports invalid options at their path', () => {
    expect(
      adapter.validatePost({ post: { text: 'hi', options: { visibility: 'everyone' } } }),
    ).toEqual([
      expect.objectContaining({ path: ['options', 'visibility'], code: 'OPTIONS_INVALID' }),
    ])
  })

  it('refuses content that does not fit before sending anything', async () => {
    const call = await connect()
    const error = await adapter
      .publish({
        ...call,
        attemptId: 'a1',
        post: { text: 'x'.repeat(501) },
        checkpoint: async () => {},
      })
      .catch((thrown: unknown) => thrown)
    expect(error).toMatchObject({
      code: 'CONTENT_REJECTED',
      issues: [expect.objectContaining({ path: ['text'] })],
    })
    expect(emulator.requests.find('POST', '/v1/posts')).toEqual([])
  })

  it('uploads media in parts, sending a failed part again on its own', async () => {
    const call = await connect()
    emulator.faults.push('upload_part', { kind: 'unavailable' })
    const published = synchronous(
      await adapter.publish({
        ...call,
        attemptId: 'a1',
        post: { text: 'with a picture', media: [image(2500)] },
        checkpoint: async () => {},
      }),
    )
    const parts = emulator.requests
      .list()
      .filter((entry) => entry.method === 'PUT')
      .map((entry) => entry.url.pathname.split('/').at(-1))
    expect(parts).toEqual(['0', '0', '1', '2'])
    const { posts } = await emulator.store.listPosts()
    expect(posts).toMatchObject([
      { id: published.platformPostId, media: [{ mimeType: 'image/png', sizeBytes: 2500 }] },
    ])
  })

  it('checkpoints its idempotency key before posting, and records the attempt on the platform', async () => {
    const call = await connect()
    const events: string[] = []
    server.events.on('request:start', ({ request }) => {
      if (request.method === 'POST' && new URL(request.url).pathname === '/v1/posts')
        events.push('post sent')
    })
    await adapter.publish({
      ...call,
      attemptId: 'attempt-7',
      post: { text: 'hello' },
      checkpoint: async (handles) => void events.push(`checkpoint ${handles.idempotencyKey}`),
    })
    server.events.removeAllListeners()
    expect(events).toEqual(['checkpoint attempt-7', 'post sent'])
    expect((await emulator.store.listPosts()).posts).toMatchObject([
      { attemptId: 'attempt-7', idempotencyKey: 'attempt-7' },
    ])
  })

  it.each([
    ['rate_limit', 'account'],
    ['app_rate_limit', 'app'],
  ])('tells whose limit a #sandbox-fail:%s is: the %s’s', async (kind, scope) => {
    const call = await connect()
    const failed = await adapter
      .publish({
        ...call,
        attemptId: `attempt-${kind}`,
        post: { text: `busy #sandbox-fail:${kind}` },
        checkpoint: async () => {},
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      )
    expect(failed).toMatchObject({ code: 'RATE_LIMITED', scope, retryAfterSeconds: 30 })
  })

  it('knows without asking that an attempt with no saved key never posted', async () => {
    const call = await connect()
    emulator.requests.clear()
    expect(await adapter.lookUpPublication({ ...call, attemptId: 'a1', handles: {} })).toEqual({
      status: 'not_found',
    })
    expect(emulator.requests.list()).toEqual([])
  })

  it('publishes to the page of the same login', async () => {
    const { accessToken } = await connect()
    const accounts = await adapter.listAccounts({ accessToken })
    const page = accounts.find((account) => account.kind === 'page')
    await adapter.publish({
      accessToken,
      accountId: page?.id ?? '',
      attemptId: 'a1',
      post: { text: 'from the page' },
      checkpoint: async () => {},
    })
    expect(await emulator.countPosts(page?.id ?? '')).toBe(1)
  })
})
