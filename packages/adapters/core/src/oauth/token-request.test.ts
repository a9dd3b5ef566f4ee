import { describe, expect, it, vi } from 'vitest'
import { requestTokens } from './token-request.ts'

const request = {
  platform: 'example',
  url: 'https://api.example.test/oauth/token',
  clientId: 'client:one',
  clientSecret: 's3cret/+',
  body: { grant_type: 'authorization_code', code: 'abc', code_verifier: 'v' },
}

function answering(status: number, body: unknown) {
  const sent: { request: Request; body: string }[] = []
  const fetch = vi.fn<typeof globalThis.fetch>(async (input) => {
    const request = input as Request
    sent.push({ request, body: await request.text() })
    return new Response(JSON.stringify(body), { status })
  })
  return Object.assign(fetch, { sent })
}

describe('requestTokens', () => {
  it('authenticates with HTTP Basic, form-encoding each part, and posts the grant as a form', async () => {
    const fetch = answering(200, { access_token: 'at', token_type: 'bearer' })
    await requestTokens(request, { fetch })
    const sent = fetch.sent[0]?.request
    const [id, secret] = atob(sent?.headers.get('authorization')?.replace('Basic ', '') ?? '')
      .split(':')
      .map(decodeURIComponent)
    expect([id, secret]).toEqual(['client:one', 's3cret/+'])
    expect(sent?.headers.get('content-type')).toContain('application/x-www-form-urlencoded')
    expect(Object.fromEntries(new URLSearchParams(fetch.sent[0]?.body))).toEqual(request.body)
  })

  it('puts the client credentials in the body when the platform wants them there', async () => {
    const fetch = answering(200, { access_token: 'at' })
    await requestTokens({ ...request, authentication: 'body' }, { fetch })
    expect(fetch.sent[0]?.request.headers.get('authorization')).toBeNull()
    const form = new URLSearchParams(fetch.sent[0]?.body)
    expect([form.get('client_id'), form.get('client_secret')]).toEqual(['client:one', 's3cret/+'])
  })

  it('normalises the answer, with expiry instants and granted scopes', async () => {
    const before = Date.now()
    const tokens = await requestTokens(request, {
      fetch: answering(200, {
        access_token: 'at',
        token_type: 'bearer',
        expires_in: 3600,
        refresh_token: 'rt',
        refresh_token_expires_in: '7200',
        scope: 'read write',
      }),
    })
    expect(tokens).toMatchObject({
      accessToken: 'at',
      refreshToken: 'rt',
      scopes: ['read', 'write'],
    })
    expect(tokens.accessTokenExpiresAt?.getTime()).toBeGreaterThanOrEqual(before + 3600_000)
    expect(tokens.refreshTokenExpiresAt?.getTime()).toBeGreaterThanOrEqual(before + 7200_000)
  })

  it('splits scopes on the separator the platform uses', async () => {
    const tokens = await requestTokens(
      { ...request, scopeSeparator: ',' },
      { fetch: answering(200, { access_token: 'at', scope: 'openid,profile' }) },
    )
    expect(tokens.scopes).toEqual(['openid', 'profile'])
  })

  it('asks for a reconnect when the grant is dead', async () => {
    const fetch = answering(400, { error: 'invalid_grant', error_description: 'Code expired' })
    await expect(requestTokens(request, { fetch })).rejects.toMatchObject({
      code: 'RECONNECT_REQUIRED',
      reason: 'invalid_grant',
    })
  })

  it('blames the configuration, not the content, for other refusals', async () => {
    const fetch = answering(400, {
      error: 'invalid_request',
      error_description: 'redirect_uri mismatch',
    })
    await expect(requestTokens(request, { fetch })).rejects.toMatchObject({
      code: 'UNEXPECTED_RESPONSE',
      message: expect.stringContaining('redirect_uri mismatch'),
    })
  })
})
