import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { profiles } from '../db/schema/index.ts'

const server = await startTestServer()
const { request } = server
const { db, close } = createDatabaseClient(server.databaseURL, { max: 1 })
afterAll(close)

const APP_ORIGIN = 'https://app.example.com'
const OTHER_TENANT_ORIGIN = 'https://elsewhere.example.net'
const UNLISTED_ORIGIN = 'https://evil.example.org'

type Tenant = Awaited<ReturnType<typeof server.createTenant>>
let tenant: Tenant
let otherTenant: Tenant
let profileId: string
let profileToken: string

async function allowOrigins(owner: Tenant, corsOrigins: string[]) {
  const response = await request(`/v1/workspaces/${owner.workspaceId}`, {
    method: 'PATCH',
    token: owner.apiKey,
    json: { corsOrigins },
  })
  expect(response.status).toBe(200)
}

beforeAll(async () => {
  tenant = await server.createTenant()
  otherTenant = await server.createTenant()
  await allowOrigins(tenant, [APP_ORIGIN])
  await allowOrigins(otherTenant, [OTHER_TENANT_ORIGIN])
  const [profile] = await db
    .select({ id: profiles.id })
    .from(profiles)
    .where(eq(profiles.workspaceId, tenant.workspaceId))
  if (!profile) throw new Error('no default profile')
  profileId = profile.id
  const minted = await request(`/v1/profiles/${profileId}/tokens`, {
    token: tenant.apiKey,
    json: { scopes: ['read'] },
  })
  profileToken = ((await minted.json()) as { token: string }).token
})

const preflight = (origin: string, path = `/v1/profiles/${profileId}`) =>
  request(path, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'authorization',
    },
  })

describe('preflight requests', () => {
  it('are allowed for an origin some workspace lists, without touching the rate limit', async () => {
    const response = await preflight(APP_ORIGIN)
    expect(response.status).toBe(204)
    expect(response.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN)
    expect(response.headers.get('access-control-allow-methods')).toContain('PATCH')
    const allowedHeaders = response.headers.get('access-control-allow-headers') ?? ''
    for (const header of [
      'Authorization',
      'Content-Type',
      'Idempotency-Key',
      'Post-Scheduler-Workspace',
    ]) {
      expect(allowedHeaders).toContain(header)
    }
    expect(Number(response.headers.get('access-control-max-age'))).toBeGreaterThan(0)
    expect(response.headers.get('vary')).toContain('Origin')
    expect(response.headers.get('ratelimit')).toBeNull()
  })

  it('are allowed on any /v1 path, since credentials come only with the actual request', async () => {
    const response = await preflight(OTHER_TENANT_ORIGIN, '/v1/posts')
    expect(response.status).toBe(204)
    expect(response.headers.get('access-control-allow-origin')).toBe(OTHER_TENANT_ORIGIN)
  })

  it('are refused with 403 and no CORS headers for an origin no workspace lists', async () => {
    for (const origin of [
      UNLISTED_ORIGIN,
      `${APP_ORIGIN}:8443`,
      'null',
      'http://app.example.com',
    ]) {
      const response = await preflight(origin)
      expect(response.status, origin).toBe(403)
      expect(response.headers.get('content-type')).toBe('application/problem+json')
      expect(await response.json()).toMatchObject({ code: 'FORBIDDEN' })
      expect(response.headers.get('access-control-allow-origin')).toBeNull()
      expect(response.headers.get('access-control-allow-methods')).toBeNull()
    }
  })
})

describe('requests with a profile token from a browser', () => {
  it('may be read by an origin their workspace lists', async () => {
    const response = await request(`/v1/profiles/${profileId}`, {
      token: profileToken,
      headers: { origin: APP_ORIGIN },
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN)
    expect(response.headers.get('vary')).toContain('Origin')
    expect(response.headers.get('access-control-expose-headers')).toContain('X-Request-Id')
  })

  it('may read their errors too, from a listed origin', async () => {
    const response = await request('/v1/profiles/prof_mzxw6ytboi2dkmzvgq3tqnrvhe', {
      token: profileToken,
      headers: { origin: APP_ORIGIN },
    })
    expect(response.status).toBe(404)
    expect(response.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN)
  })

  it('get no CORS grant from an origin only another workspace lists, or none does', async () => {
    for (const origin of [OTHER_TENANT_ORIGIN, UNLISTED_ORIGIN]) {
      const response = await request(`/v1/profiles/${profileId}`, {
        token: profileToken,
        headers: { origin },
      })
      expect(response.headers.get('access-control-allow-origin'), origin).toBeNull()
      expect(response.headers.get('vary')).toContain('Origin')
    }
  })
})

describe('requests with a secret API key from a browser', () => {
  it('are refused with 403 explaining that secret keys stay on servers, and change nothing', async () => {
    const before = await db
      .select()
      .from(profiles)
      .where(eq(profiles.workspaceId, tenant.workspaceId))
    const response = await request('/v1/profiles', {
      token: tenant.apiKey,
      headers: { origin: APP_ORIGIN },
      json: { name: 'From a browser' },
    })
    expect(response.status).toBe(403)
    const problem = (await response.json()) as { code: string; detail: string }
    expect(problem.code).toBe('FORBIDDEN')
    expect(problem.detail).toMatch(/secret API keys must stay on servers/i)
    expect(problem.detail).toMatch(/profile token/)
    expect(response.headers.get('access-control-allow-origin')).toBeNull()
    expect(
      await db.select().from(profiles).where(eq(profiles.workspaceId, tenant.workspaceId)),
    ).toEqual(before)
  })

  it('are served when they come from a server, without an Origin header', async () => {
    const response = await request(`/v1/profiles/${profileId}`, { token: tenant.apiKey })
    expect(response.status).toBe(200)
    expect(response.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('signed-in people', () => {
  it('get no CORS grant, even from a listed origin', async () => {
    const response = await request(`/v1/profiles/${profileId}`, {
      token: tenant.person.token,
      headers: { origin: APP_ORIGIN },
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('access-control-allow-origin')).toBeNull()
  })
})
