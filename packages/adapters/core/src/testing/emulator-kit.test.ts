import { HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { parseRateLimitHeaders } from '../http/rate-limit.ts'
import { createEmulatorKit, createRateLimitHeaders, hangUntilAborted } from './emulator-kit.ts'

const api = 'https://api.example.test'
let kit = createEmulatorKit({ platform: 'example' })
const server = setupServer()

beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
beforeEach(() => {
  kit = createEmulatorKit({ platform: 'example' })
  server.resetHandlers(
    kit.route('post', `${api}/oauth/token`, async ({ request }) => {
      const form = new URLSearchParams(await request.text())
      if (form.get('grant_type') === 'refresh_token') {
        const refreshed = kit.tokens.refresh(form.get('refresh_token') ?? '')
        return refreshed
          ? HttpResponse.json(refreshed)
          : HttpResponse.json({ error: 'invalid_grant' }, { status: 400 })
      }
      return HttpResponse.json(kit.tokens.issue({ subject: 'user-1', scopes: ['read'] }))
    }),
    kit.route('get', `${api}/me`, ({ request }) => {
      const grant = kit.tokens.authenticate(request)
      return grant
        ? HttpResponse.json({ id: grant.subject })
        : new HttpResponse(null, { status: 401 })
    }),
    kit.route('post', `${api}/hang`, ({ request }) => hangUntilAborted(request)),
  )
})
afterAll(() => server.close())

const token = async (body: Record<string, string> = { grant_type: 'authorization_code' }) =>
  (await (
    await fetch(`${api}/oauth/token`, { method: 'POST', body: new URLSearchParams(body) })
  ).json()) as Record<string, string>
const me = (accessToken: string) =>
  fetch(`${api}/me`, { headers: { authorization: `Bearer ${accessToken}` } })

describe('createEmulatorKit', () => {
  it('issues tokens that authenticate requests until revoked', async () => {
    const issued = await token()
    expect(issued).toMatchObject({ token_type: 'bearer', expires_in: 3600, scope: 'read' })
    expect(await (await me(issued.access_token ?? '')).json()).toEqual({ id: 'user-1' })
    kit.tokens.revoke(issued.access_token ?? '')
    expect((await me(issued.access_token ?? '')).status).toBe(401)
  })

  it('refuses an expired access token', async () => {
    const issued = await token()
    kit.tokens.expire(issued.access_token ?? '')
    expect((await me(issued.access_token ?? '')).status).toBe(401)
  })

  it('rotates refresh tokens: the old one works once', async () => {
    const issued = await token()
    const refreshed = await token({
      grant_type: 'refresh_token',
      refresh_token: issued.refresh_token ?? '',
    })
    expect(refreshed.refresh_token).not.toBe(issued.refresh_token)
    expect((await me(refreshed.access_token ?? '')).status).toBe(200)
    const again = await token({
      grant_type: 'refresh_token',
      refresh_token: issued.refresh_token ?? '',
    })
    expect(again).toEqual({ error: 'invalid_grant' })
  })

  it('logs every request with its body', async () => {
    await token({ grant_type: 'authorization_code', code: 'c1' })
    const [logged] = kit.requests.find('POST', '/oauth/token')
    expect(new URLSearchParams(logged?.bodyText).get('code')).toBe('c1')
    kit.requests.clear()
    expect(kit.requests.list()).toEqual([])
  })

  it('answers an injected fault once, then behaves again', async () => {
    kit.faults.inject(
      { method: 'GET', path: '/me' },
      { kind: 'response', status: 503, body: { error: 'down' } },
    )
    const { access_token } = await token()
    const faulty = await me(access_token ?? '')
    expect([faulty.status, await faulty.json()]).toEqual([503, { error: 'down' }])
    expect((await me(access_token ?? '')).status).toBe(200)
  })

  it('fails the connection for an injected network error', async () => {
    kit.faults.inject({ path: /^\/me$/ }, { kind: 'network_error' }, { times: 2 })
    await expect(me('any')).rejects.toThrow(TypeError)
    await expect(me('any')).rejects.toThrow(TypeError)
    expect((await me('any')).status).toBe(401)
  })

  it('holds a request until the client gives up', async () => {
    const controller = new AbortController()
    const pending = fetch(`${api}/hang`, { method: 'POST', signal: controller.signal })
    controller.abort(new Error('gave up'))
    await expect(pending).rejects.toThrow('gave up')
  })
})

describe('createRateLimitHeaders', () => {
  it('writes every dialect the adapters read, all saying the same wait', () => {
    const now = Date.UTC(2026, 9, 21)
    const headers = createRateLimitHeaders({ retryAfterSeconds: 30, limit: 50, now })
    expect(parseRateLimitHeaders(headers, new Date(now))).toEqual({
      retryAfterSeconds: 30,
      limit: 50,
      remaining: 0,
    })
    for (const only of ['retry-after', 'ratelimit', 'ratelimit-reset', 'x-rate-limit-reset']) {
      const single = new Headers({ [only]: headers.get(only) ?? '' })
      expect(parseRateLimitHeaders(single, new Date(now)).retryAfterSeconds).toBe(30)
    }
  })
})
