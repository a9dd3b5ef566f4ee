import { describe, expect, it } from 'vitest'
import { startTestServer } from '../../test/server.ts'

const server = await startTestServer()
const { request, mail } = server

const signIn = (
  email: string,
  password: string,
  options: { ip?: string; userAgent?: string } = {},
) =>
  request('/v1/sessions', {
    json: { email, password },
    ip: options.ip,
    headers: options.userAgent ? { 'user-agent': options.userAgent } : {},
  })

describe('sign-in', () => {
  it('returns a session token and sets an HttpOnly, Secure, SameSite cookie', async () => {
    const person = await server.signUp()
    const response = await signIn(person.email, person.password)
    expect(response.status).toBe(201)
    const body = (await response.json()) as {
      token: string
      session: { id: string; current: boolean }
    }
    expect(body.token).toMatch(/^pss_[a-z2-7]{38}$/)
    expect(body.session.current).toBe(true)
    const cookie = response.headers.get('set-cookie') ?? ''
    expect(cookie).toContain(`ps_session=${body.token}`)
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/Secure/)
    expect(cookie).toMatch(/SameSite=Lax/)
    const viaCookie = await request('/v1/me', { headers: { cookie: `ps_session=${body.token}` } })
    expect(viaCookie.status).toBe(200)
  })

  it('answers an unknown address and a wrong password the same way', async () => {
    const person = await server.signUp()
    const wrongPassword = await signIn(person.email, 'definitely not it', { ip: '203.0.113.1' })
    const unknownEmail = await signIn(
      `nobody-${crypto.randomUUID()}@example.com`,
      'definitely not it',
      { ip: '203.0.113.1' },
    )
    expect(wrongPassword.status).toBe(401)
    expect(unknownEmail.status).toBe(401)
    const strip = async (response: Response) => {
      const { requestId: _, ...rest } = (await response.json()) as Record<string, unknown>
      return rest
    }
    expect(await strip(wrongPassword)).toEqual(await strip(unknownEmail))
  })

  it('locks an account after repeated attempts, whatever the client address, and tells when to retry', async () => {
    const person = await server.signUp()
    for (let attempt = 0; attempt < 10; attempt++) {
      const response = await signIn(person.email, `wrong ${attempt}`, {
        ip: `203.0.113.${100 + attempt}`,
      })
      expect(response.status).toBe(401)
    }
    const locked = await signIn(person.email, person.password, { ip: '203.0.113.200' })
    expect(locked.status).toBe(429)
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await locked.json()).toMatchObject({ code: 'RATE_LIMITED' })
  })

  it('limits attempts per client address across accounts', async () => {
    const ip = '203.0.113.250'
    let last: Response | undefined
    for (let attempt = 0; attempt < 31; attempt++) {
      last = await signIn(`someone-${attempt}@example.com`, 'a wrong password', { ip })
    }
    expect(last?.status).toBe(429)
  })

  it('announces a sign-in from a new device by email, but not a known one', async () => {
    const person = await server.signUp()
    const before = mail.to(person.email).length
    await signIn(person.email, person.password)
    expect(mail.to(person.email)).toHaveLength(before)
    await signIn(person.email, person.password, { userAgent: 'Mozilla/5.0 (Brand-new tablet)' })
    const alert = mail.to(person.email).at(-1)
    expect(alert?.subject).toBe('New sign-in to your account')
    expect(alert?.text).toContain('Brand-new tablet')
  })

  it('refuses malformed input without creating a session', async () => {
    const response = await request('/v1/sessions', { json: { email: 'nope', password: 1 } })
    expect(response.status).toBe(422)
  })
})

describe('my sessions', () => {
  it('are listed with device and address, and one can be revoked', async () => {
    const person = await server.signUp()
    const other = (await (
      await signIn(person.email, person.password, { ip: '198.51.100.7', userAgent: 'curl/8.0' })
    ).json()) as { token: string; session: { id: string } }

    const list = (await (await request('/v1/sessions', { token: person.token })).json()) as {
      data: { id: string; ip: string; userAgent: string; current: boolean }[]
    }
    expect(list.data).toHaveLength(2)
    expect(list.data).toContainEqual(
      expect.objectContaining({
        id: other.session.id,
        ip: '198.51.100.7',
        userAgent: 'curl/8.0',
        current: false,
      }),
    )
    expect(list.data.find((session) => session.current)?.id).toBe(person.sessionId)
    expect(JSON.stringify(list)).not.toContain(other.token)

    const revoked = await request(`/v1/sessions/${other.session.id}`, {
      method: 'DELETE',
      token: person.token,
    })
    expect(revoked.status).toBe(204)
    expect((await request('/v1/me', { token: other.token })).status).toBe(401)
  })

  it("cannot revoke someone else's session", async () => {
    const alice = await server.signUp()
    const bob = await server.signUp()
    const response = await request(`/v1/sessions/${bob.sessionId}`, {
      method: 'DELETE',
      token: alice.token,
    })
    expect(response.status).toBe(404)
    expect((await request('/v1/me', { token: bob.token })).status).toBe(200)
  })

  it('end with sign-out, which clears the cookie', async () => {
    const person = await server.signUp()
    const response = await request('/v1/sessions/current', {
      method: 'DELETE',
      token: person.token,
    })
    expect(response.status).toBe(204)
    expect(response.headers.get('set-cookie')).toMatch(/ps_session=;/)
    expect((await request('/v1/me', { token: person.token })).status).toBe(401)
  })
})

describe('credentials', () => {
  it('with a bad checksum are refused before any look-up', async () => {
    const person = await server.signUp()
    const tampered = `${person.token.slice(0, -1)}${person.token.endsWith('a') ? 'b' : 'a'}`
    const response = await request('/v1/me', { token: tampered })
    expect(response.status).toBe(401)
    expect(await response.json()).toMatchObject({
      code: 'UNAUTHENTICATED',
      detail: expect.stringContaining('malformed'),
    })
  })

  it('in a stale cookie leave public routes working', async () => {
    const response = await request('/v1/password-resets', {
      json: { email: 'someone@example.com' },
      headers: { cookie: 'ps_session=pss_stale' },
    })
    expect(response.status).toBe(202)
  })
})
