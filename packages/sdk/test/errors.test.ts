import { makeImage } from '@post-scheduler/server/testing'
import { describe, expect, it } from 'vitest'
import {
  AuthenticationError,
  ConflictError,
  ConnectionError,
  NotFoundError,
  PermissionError,
  PostSchedulerError,
  RateLimitError,
  ServerError,
  ValidationError,
} from '../src/index.ts'
import { startGateway } from './gateway.ts'
import { startSDKTestServer } from './server.ts'

const server = await startSDKTestServer()

const failure = (promise: PromiseLike<unknown>) =>
  Promise.resolve(promise).then(
    () => {
      throw new Error('expected the call to fail')
    },
    (error: unknown) => error,
  )

describe('errors by status, against the real server', () => {
  it('401: a wrong API key is an AuthenticationError with the code and request id', async () => {
    const client = server.clientFor({ apiKey: 'psk_live_not_a_real_key' })
    const error = await failure(client.posts.list())
    expect(error).toBeInstanceOf(AuthenticationError)
    expect(error).toBeInstanceOf(PostSchedulerError)
    expect(error).not.toBeInstanceOf(NotFoundError)
    expect(error).toMatchObject({
      status: 401,
      kind: 'authentication',
      code: expect.stringMatching(/^[A-Z_]+$/),
      requestId: expect.any(String),
      problem: { status: 401, type: 'about:blank' },
    })
  })

  it('403: a read-only key that tries to write is a PermissionError', async () => {
    const { client } = await server.createTenant()
    const { secret } = await client.apiKeys.create({ name: 'read only', scopes: ['read'] })
    const readOnly = server.clientFor({ apiKey: secret })
    const error = await failure(readOnly.profiles.create({ name: 'Nope' }))
    expect(error).toBeInstanceOf(PermissionError)
    expect(error).toMatchObject({ status: 403, code: 'FORBIDDEN' })
  })

  it('404: an unknown post is a NotFoundError', async () => {
    const { client } = await server.createTenant()
    const error = await failure(client.posts.get('post_mzxw6ytboi2dkmzvgq3tqnrvhe'))
    expect(error).toBeInstanceOf(NotFoundError)
    expect(error).toMatchObject({ status: 404, code: 'NOT_FOUND' })
  })

  it('422: an invalid post is a ValidationError whose issues name each invalid value', async () => {
    const { client } = await server.createTenant()
    const error = await failure(client.posts.create({ accountIds: [], content: { text: 'Hi' } }))
    expect(error).toBeInstanceOf(ValidationError)
    expect(error).toMatchObject({ status: 422, code: 'VALIDATION_FAILED' })
    expect((error as ValidationError).issues).toContainEqual(
      expect.objectContaining({ location: 'body', path: ['accountIds'] }),
    )
  })

  it('409: deleting media a post uses is a ConflictError', async () => {
    const { client, apiKey } = await server.createTenant()
    const profile = await client.profiles.create({ name: 'Conflicts' })
    const account = await server.connectSandboxAccount(client, profile.id)
    const media = await client.media.upload(new Blob([new Uint8Array(await makeImage('png'))]), {
      profileId: profile.id,
    })
    await client.posts.create({
      profileId: profile.id,
      accountIds: [account.id],
      content: { text: 'Later', mediaIds: [media.id] },
      scheduledAt: new Date(Date.now() + 86_400_000).toISOString(),
    })
    // Through a gateway that counts: a conflict of state is final, not retried.
    const gateway = await startGateway(server.url)
    const counted = server.clientFor({ apiKey }, { baseURL: gateway.url })
    const error = await failure(counted.media.delete(media.id))
    expect(error).toBeInstanceOf(ConflictError)
    expect(error).toMatchObject({ status: 409, code: 'MEDIA_IN_USE' })
    expect(gateway.seen).toHaveLength(1)
    await client.media.delete(media.id, { force: 'true' })
  })

  it('429: waits as Retry-After asks, with the same Idempotency-Key, then a RateLimitError', async () => {
    const limited = await startSDKTestServer({ rateLimitPerMinute: 3 })
    const { apiKey } = await limited.createTenant()
    const gateway = await startGateway(limited.url)
    const client = limited.clientFor(
      { apiKey },
      { baseURL: gateway.url, retry: { limit: 1, maxRetryAfterSeconds: 0.05 } },
    )
    let error: unknown
    for (let attempt = 0; attempt < 6 && !error; attempt++) {
      error = await client.profiles.create({ name: `P${attempt}` }).then(
        () => undefined,
        (caught: unknown) => caught,
      )
    }
    expect(error).toBeInstanceOf(RateLimitError)
    expect(error).toMatchObject({ status: 429, code: 'RATE_LIMITED' })
    expect((error as RateLimitError).retryAfterSeconds).toBeGreaterThan(0)
    const [retried, last] = gateway.seen.slice(-2)
    expect(last?.headers['idempotency-key']).toEqual(expect.any(String))
    expect(last?.headers['idempotency-key']).toBe(retried?.headers['idempotency-key'])
  })

  it('5xx: retries a create through a failing gateway with one key, and creates it once', async () => {
    const { client: direct, apiKey } = await server.createTenant()
    const gateway = await startGateway(server.url, ({ method, index }) =>
      method === 'POST' && index < 2 ? { status: 503, retryAfter: 0 } : 'forward',
    )
    const client = server.clientFor({ apiKey }, { baseURL: gateway.url })
    const profile = await client.profiles.create({ name: 'Once' })
    expect(gateway.seen.map((request) => request.headers['idempotency-key'])).toEqual([
      expect.any(String),
      gateway.seen[0]?.headers['idempotency-key'],
      gateway.seen[0]?.headers['idempotency-key'],
    ])
    const named = await direct.profiles.list().toArray()
    expect(named.filter((candidate) => candidate.name === 'Once')).toEqual([
      expect.objectContaining({ id: profile.id }),
    ])

    const failing = await startGateway(server.url, () => ({ status: 502 }))
    const error = await failure(
      server.clientFor({ apiKey }, { baseURL: failing.url, retry: 1 }).profiles.list(),
    )
    expect(error).toBeInstanceOf(ServerError)
    expect(error).toMatchObject({ status: 502, code: 'HTTP_502' })
    expect(failing.seen).toHaveLength(2)
  })

  it('retries a 409 that says when (the same key still in flight), with the same key', async () => {
    const { apiKey } = await server.createTenant()
    const gateway = await startGateway(server.url, ({ index }) =>
      index === 0 ? { status: 409, retryAfter: 0 } : 'forward',
    )
    const client = server.clientFor({ apiKey }, { baseURL: gateway.url })
    expect((await client.profiles.create({ name: 'After the conflict' })).name).toBe(
      'After the conflict',
    )
    expect(gateway.seen).toHaveLength(2)
    expect(gateway.seen[1]?.headers['idempotency-key']).toBe(
      gateway.seen[0]?.headers['idempotency-key'],
    )
  })

  it('the same idempotencyKey replays the first answer instead of creating twice', async () => {
    const { client } = await server.createTenant()
    const idempotencyKey = crypto.randomUUID()
    const first = await client.profiles.create({ name: 'Replayed' }, { idempotencyKey })
    const again = await client.profiles.create({ name: 'Replayed' }, { idempotencyKey })
    expect(again.id).toBe(first.id)
    const error = await failure(client.profiles.create({ name: 'Other' }, { idempotencyKey }))
    expect(error).toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' })
  })

  it('no answer: a dropped connection is retried, then a ConnectionError; so is a timeout', async () => {
    const { apiKey } = await server.createTenant()
    const dropping = await startGateway(server.url, ({ index }) =>
      index === 0 ? 'drop' : 'forward',
    )
    const client = server.clientFor({ apiKey }, { baseURL: dropping.url })
    expect((await client.profiles.list()).data.length).toBeGreaterThan(0)
    expect(dropping.seen).toHaveLength(2)

    const dead = await startGateway(server.url, () => 'drop')
    const error = await failure(
      server.clientFor({ apiKey }, { baseURL: dead.url, retry: 0 }).profiles.list(),
    )
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error).toMatchObject({ code: 'CONNECTION_FAILED', status: undefined })

    const hanging = await startGateway(server.url, () => 'hang')
    const slow = server.clientFor({ apiKey }, { baseURL: hanging.url, retry: 0 })
    const timedOut = await failure(slow.profiles.list(undefined, { timeout: 200 }))
    expect(timedOut).toBeInstanceOf(ConnectionError)
    expect(timedOut).toMatchObject({ code: 'TIMEOUT' })

    const controller = new AbortController()
    const pending = failure(slow.profiles.list(undefined, { signal: controller.signal }))
    controller.abort(new Error('the person left the page'))
    expect(await pending).toMatchObject({ message: 'the person left the page' })
  })

  it('sends per-call headers, and no Idempotency-Key on reads', async () => {
    const { apiKey } = await server.createTenant()
    const gateway = await startGateway(server.url)
    const client = server.clientFor(
      { apiKey },
      { baseURL: gateway.url, headers: { 'x-app': 'test' } },
    )
    await client.profiles.list(undefined, { headers: { 'x-trace': 'abc' } })
    expect(gateway.seen[0]?.headers).toMatchObject({
      'x-app': 'test',
      'x-trace': 'abc',
      authorization: `Bearer ${apiKey}`,
    })
    expect(gateway.seen[0]?.headers['idempotency-key']).toBeUndefined()
  })

  it('instanceof works across copies of the package (other realms, duplicate installs)', async () => {
    // @ts-expect-error a second instance of the module, as a duplicate install would load
    const copy = (await import('../src/errors.ts?copy')) as typeof import('../src/errors.ts')
    expect(copy.NotFoundError).not.toBe(NotFoundError)
    const foreign = new copy.NotFoundError('gone', { status: 404 })
    expect(foreign).toBeInstanceOf(NotFoundError)
    expect(foreign).toBeInstanceOf(PostSchedulerError)
    expect(foreign).not.toBeInstanceOf(ValidationError)
    expect({ kind: 'not_found' }).not.toBeInstanceOf(NotFoundError)
  })
})
