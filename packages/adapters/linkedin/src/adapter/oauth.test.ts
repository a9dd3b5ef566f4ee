import { describe, expect, it } from 'vitest'
import { redirectURI, rejection, useLinkedIn } from '../test/harness.ts'
import { calculateReauthorizationAt, linkedinDefaultScopes } from './linkedin.ts'

const DAY_MS = 24 * 60 * 60 * 1000

describe('linkedin() OAuth', () => {
  const linkedIn = useLinkedIn()

  it('sends the member to LinkedIn with the member and organization scopes and no PKCE by default', () => {
    const url = linkedIn
      .adapter()
      .createAuthorizationURL({ state: 'st', codeVerifier: 'v'.repeat(43) })
    expect(url.origin + url.pathname).toBe('https://www.linkedin.com/oauth/v2/authorization')
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'app-id',
      redirect_uri: redirectURI,
      state: 'st',
      scope:
        'openid profile w_member_social w_organization_social r_organization_social rw_organization_admin r_member_postAnalytics',
    })
  })

  it('asks only for member scopes when the app has no Community Management API', () => {
    const url = linkedIn
      .adapter({ organizations: false })
      .createAuthorizationURL({ state: 'st', codeVerifier: 'v'.repeat(43) })
    expect(url.searchParams.get('scope')).toBe(
      linkedinDefaultScopes({ organizations: false }).join(' '),
    )
    expect(url.searchParams.get('scope')).toBe('openid profile w_member_social')
  })

  it('exchanges the code with the secret in the body and reads 60-day tokens and comma-separated scopes', async () => {
    const before = Date.now()
    const { tokens } = await linkedIn.connect()
    const after = Date.now()
    const [exchange] = linkedIn.emulator.requests.find('POST', '/oauth/v2/accessToken')
    const form = new URLSearchParams(exchange?.bodyText)
    expect(exchange?.headers.get('authorization')).toBeNull()
    expect(form.get('client_secret')).toBe('app-secret')
    expect(form.get('code_verifier')).toBeNull()
    expect(tokens.scopes).toContain('w_member_social')
    expect(tokens.scopes).toContain('rw_organization_admin')
    const expiresAt = tokens.accessTokenExpiresAt?.getTime() ?? 0
    expect(expiresAt).toBeGreaterThanOrEqual(before + 60 * DAY_MS)
    expect(expiresAt).toBeLessThanOrEqual(after + 60 * DAY_MS)
  })

  it('needs a new consent when the code was already exchanged', async () => {
    const adapter = linkedIn.adapter()
    const { code } = await linkedIn.emulator.approve(
      adapter.createAuthorizationURL({ state: 's', codeVerifier: 'v'.repeat(43) }),
    )
    await adapter.validateAuthorizationCode({ code, codeVerifier: 'v'.repeat(43) })
    const error = await rejection(
      adapter.validateAuthorizationCode({ code, codeVerifier: 'v'.repeat(43) }),
    )
    expect(error).toMatchObject({ code: 'RECONNECT_REQUIRED', reason: 'invalid_grant' })
  })

  it('says the app configuration is wrong, not the member, when the client secret is refused', async () => {
    const adapter = linkedIn.adapter({ clientSecret: 'wrong' })
    const { code } = await linkedIn.emulator.approve(
      adapter.createAuthorizationURL({ state: 's', codeVerifier: 'v'.repeat(43) }),
    )
    const error = await rejection(adapter.validateAuthorizationCode({ code, codeVerifier: 'x' }))
    expect(error.code).not.toBe('RECONNECT_REQUIRED')
    expect(error.retryable).toBe(false)
  })

  describe('for an app without refresh tokens (the default)', () => {
    it('gets no refresh token, and refreshing asks for a reconnect without calling LinkedIn', async () => {
      const { adapter, tokens } = await linkedIn.connect()
      expect(tokens.refreshToken).toBeUndefined()
      linkedIn.emulator.requests.clear()
      const error = await rejection(adapter.refreshAccessToken({ refreshToken: 'anything' }))
      expect(error).toMatchObject({
        code: 'RECONNECT_REQUIRED',
        action: 'reconnect',
        reason: 'refresh_unavailable',
      })
      expect(linkedIn.emulator.requests.list()).toEqual([])
    })

    it('is due for reauthorization a week before the access token expires', async () => {
      const { tokens } = await linkedIn.connect()
      const expiresAt = tokens.accessTokenExpiresAt?.getTime() ?? Number.NaN
      expect(calculateReauthorizationAt(tokens)?.getTime()).toBe(expiresAt - 7 * DAY_MS)
      expect(calculateReauthorizationAt(tokens, { leadSeconds: 3600 })?.getTime()).toBe(
        expiresAt - 3600 * 1000,
      )
    })
  })
})

describe('linkedin() OAuth for an app approved for refresh tokens', () => {
  const linkedIn = useLinkedIn({ refreshTokens: true })

  it('refreshes without extending the refresh token past a year from the first consent', async () => {
    const { adapter, tokens } = await linkedIn.connect({ refreshTokens: true })
    linkedIn.emulator.clock.advance(59 * 24 * 60 * 60)
    const refreshed = await adapter.refreshAccessToken({ refreshToken: tokens.refreshToken ?? '' })
    expect(refreshed.accessToken).not.toBe(tokens.accessToken)
    expect(refreshed.refreshToken).toBe(tokens.refreshToken)
    const first = tokens.refreshTokenExpiresAt?.getTime() ?? 0
    const second = refreshed.refreshTokenExpiresAt?.getTime() ?? Number.POSITIVE_INFINITY
    // 306 days left from "now" instead of 365: within a few seconds of 59 days less.
    expect(first - second).toBeGreaterThan(59 * DAY_MS - 60_000)
    expect(await adapter.listAccounts({ accessToken: refreshed.accessToken })).not.toEqual([])
  })

  it('is due for reauthorization a week before the refresh token expires', async () => {
    const { tokens } = await linkedIn.connect({ refreshTokens: true })
    const refreshExpiresAt = tokens.refreshTokenExpiresAt?.getTime() ?? Number.NaN
    expect(calculateReauthorizationAt(tokens, { refreshTokens: true })?.getTime()).toBe(
      refreshExpiresAt - 7 * DAY_MS,
    )
  })

  it('asks for a reconnect once the refresh token has expired', async () => {
    const { adapter, tokens } = await linkedIn.connect({ refreshTokens: true })
    linkedIn.emulator.clock.advance(366 * 24 * 60 * 60)
    const error = await rejection(
      adapter.refreshAccessToken({ refreshToken: tokens.refreshToken ?? '' }),
    )
    expect(error).toMatchObject({ code: 'RECONNECT_REQUIRED', reason: 'invalid_grant' })
  })
})

describe('linkedin().listAccounts', () => {
  const linkedIn = useLinkedIn()

  it('lists the member and the pages they may post to, with author URNs as ids', async () => {
    const { accounts } = await linkedIn.connect()
    expect(accounts).toEqual([
      {
        id: linkedIn.emulator.memberURN,
        kind: 'personal',
        name: 'Conformance User',
        avatarURL: 'https://media.licdn.com/dms/image/emulator/profile.jpg',
      },
      {
        id: 'urn:li:organization:2414183',
        kind: 'organization',
        name: 'Post Scheduler Inc.',
        username: 'post-scheduler',
        avatarURL: 'https://media.licdn.com/dms/image/emulator/2414183.png',
        profileURL: 'https://www.linkedin.com/company/post-scheduler/',
      },
    ])
  })

  it('lists pages where the member has a configured role', async () => {
    const { accounts } = await linkedIn.connect({ organizationRoles: ['ADMINISTRATOR', 'ANALYST'] })
    expect(accounts.map((account) => account.id)).toEqual([
      linkedIn.emulator.memberURN,
      'urn:li:organization:2414183',
      'urn:li:organization:5515715',
    ])
  })

  it('lists only the member when the organization scope was not granted', async () => {
    const { accounts } = await linkedIn.connect({}, ['openid', 'profile', 'w_member_social'])
    expect(accounts.map((account) => account.kind)).toEqual(['personal'])
  })

  it('does not ask for pages when organizations are off', async () => {
    await linkedIn.connect({ organizations: false })
    expect(linkedIn.emulator.requests.find('GET', '/v2/organizationalEntityAcls')).toEqual([])
  })

  it('asks for a reconnect, with the reason, when the member revoked the app', async () => {
    const { adapter, tokens } = await linkedIn.connect()
    linkedIn.emulator.revokeAccess(tokens.accessToken)
    const error = await rejection(adapter.listAccounts({ accessToken: tokens.accessToken }))
    expect(error).toMatchObject({ code: 'RECONNECT_REQUIRED', reason: 'revoked' })
  })

  it('asks for a reconnect once the 60-day token has expired', async () => {
    const { adapter, tokens } = await linkedIn.connect()
    linkedIn.emulator.clock.advance(61 * 24 * 60 * 60)
    const error = await rejection(adapter.listAccounts({ accessToken: tokens.accessToken }))
    expect(error).toMatchObject({ code: 'RECONNECT_REQUIRED', reason: 'expired' })
  })

  it('treats a server error on a read as unavailable, to retry', async () => {
    const { adapter, tokens } = await linkedIn.connect()
    linkedIn.emulator.fail('userinfo', 'server_error')
    const error = await rejection(adapter.listAccounts({ accessToken: tokens.accessToken }))
    expect(error).toMatchObject({ code: 'PLATFORM_UNAVAILABLE', retryable: true })
  })
})
