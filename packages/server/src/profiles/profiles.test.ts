import { and, asc, eq, like, or } from 'drizzle-orm'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { dumpDatabase } from '../../test/dump.ts'
import { startTestServer } from '../../test/server.ts'
import { hashSecret } from '../auth/secrets.ts'
import { createDatabaseClient } from '../db/client.ts'
import { auditLog, profiles, profileTokens, rateLimits } from '../db/schema/index.ts'

const server = await startTestServer()
const { request } = server
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)
// Every test signs people up and in from the same test address; the per-address sign-up and
// sign-in limits are not what these tests are about.
beforeEach(() =>
  db
    .delete(rateLimits)
    .where(or(like(rateLimits.key, 'sign-up:%'), like(rateLimits.key, 'sign-in:%'))),
)

type Tenant = Awaited<ReturnType<typeof server.createTenant>>
interface ProfileBody {
  id: string
  externalId: string | null
  name: string
  isDefault: boolean
}

const json = async <T = Record<string, unknown>>(response: Response) => (await response.json()) as T

async function createProfile(tenant: Tenant, body: Record<string, unknown>) {
  const response = await request('/v1/profiles', { token: tenant.apiKey, json: body })
  expect(response.status).toBe(201)
  return json<ProfileBody>(response)
}

async function mintToken(tenant: Tenant, profileId: string, body: Record<string, unknown> = {}) {
  const response = await request(`/v1/profiles/${profileId}/tokens`, {
    token: tenant.apiKey,
    json: body,
  })
  expect(response.status).toBe(201)
  return json<{ token: string; expiresAt: string; scopes: string[] }>(response)
}

async function createKey(tenant: Tenant, scopes: string[]) {
  const response = await request('/v1/api-keys', {
    token: tenant.person.token,
    json: { name: scopes.join('+'), scopes },
  })
  return (await json<{ secret: string }>(response)).secret
}

const profilesOf = (workspaceId: string) =>
  db.select().from(profiles).where(eq(profiles.workspaceId, workspaceId)).orderBy(asc(profiles.id))

const tokensOf = (profileId: string) =>
  db.select().from(profileTokens).where(eq(profileTokens.profileId, profileId))

const auditOf = (workspaceId: string, action: string) =>
  db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.workspaceId, workspaceId), eq(auditLog.action, action)))

async function defaultProfileOf(tenant: Tenant) {
  const rows = await profilesOf(tenant.workspaceId)
  const profile = rows.find((row) => row.isDefault)
  if (!profile) throw new Error('the workspace has no default profile')
  return profile
}

describe('profiles', () => {
  it('are created, read, renamed and deleted, each change audited', async () => {
    const tenant = await server.createTenant()
    const created = await createProfile(tenant, { name: ' Acme Bakery ', externalId: 'cust-1' })
    expect(created).toMatchObject({ name: 'Acme Bakery', externalId: 'cust-1', isDefault: false })

    const read = await request(`/v1/profiles/${created.id}`, { token: tenant.person.token })
    expect(await json(read)).toMatchObject({ id: created.id, name: 'Acme Bakery' })

    const updated = await request(`/v1/profiles/${created.id}`, {
      method: 'PATCH',
      token: tenant.apiKey,
      json: { name: 'Acme Bread', externalId: null },
    })
    expect(await json(updated)).toMatchObject({ name: 'Acme Bread', externalId: null })

    const deleted = await request(`/v1/profiles/${created.id}`, {
      method: 'DELETE',
      token: tenant.apiKey,
    })
    expect(deleted.status).toBe(204)
    expect((await request(`/v1/profiles/${created.id}`, { token: tenant.apiKey })).status).toBe(404)

    for (const action of ['profile.created', 'profile.updated', 'profile.deleted']) {
      expect(await auditOf(tenant.workspaceId, action), action).toMatchObject([
        { targetId: created.id, actorType: 'api_key' },
      ])
    }
  })

  it('are listed newest first, a page at a time, and found by externalId', async () => {
    const tenant = await server.createTenant()
    const a = await createProfile(tenant, { name: 'A', externalId: 'ext-a' })
    const b = await createProfile(tenant, { name: 'B', externalId: 'ext-b' })
    const c = await createProfile(tenant, { name: 'C' })
    const defaultProfile = await defaultProfileOf(tenant)

    const seen: string[] = []
    let cursor: string | null = null
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2'
      const page = await json<{ data: ProfileBody[]; nextCursor: string | null }>(
        await request(`/v1/profiles${query}`, { token: tenant.apiKey }),
      )
      seen.push(...page.data.map((row) => row.id))
      cursor = page.nextCursor
    } while (cursor)
    expect(seen).toEqual([c.id, b.id, a.id, defaultProfile.id])

    const found = await request('/v1/profiles?externalId=ext-b', { token: tenant.apiKey })
    expect(await json(found)).toMatchObject({ data: [{ id: b.id }], nextCursor: null })
  })

  it('refuse a duplicate externalId with 409 naming it, on create and on update, changing nothing', async () => {
    const tenant = await server.createTenant()
    const taken = await createProfile(tenant, { name: 'First', externalId: 'dup' })
    const other = await createProfile(tenant, { name: 'Second', externalId: 'other' })
    const before = await profilesOf(tenant.workspaceId)

    const created = await request('/v1/profiles', {
      token: tenant.apiKey,
      json: { name: 'Copy', externalId: 'dup' },
    })
    expect(created.status).toBe(409)
    const problem = await json<{ code: string; detail: string }>(created)
    expect(problem.code).toBe('CONFLICT')
    expect(problem.detail).toContain('"dup"')
    expect(problem.detail).toContain(taken.id)

    const updated = await request(`/v1/profiles/${other.id}`, {
      method: 'PATCH',
      token: tenant.apiKey,
      json: { externalId: 'dup' },
    })
    expect(updated.status).toBe(409)
    expect(await profilesOf(tenant.workspaceId)).toEqual(before)
    expect(await auditOf(tenant.workspaceId, 'profile.updated')).toEqual([])
  })

  it('may share an externalId across workspaces', async () => {
    const first = await server.createTenant()
    const second = await server.createTenant()
    await createProfile(first, { name: 'Here', externalId: 'shared' })
    await createProfile(second, { name: 'There', externalId: 'shared' })
  })

  it('keep the default profile from being deleted', async () => {
    const tenant = await server.createTenant()
    const defaultProfile = await defaultProfileOf(tenant)
    const response = await request(`/v1/profiles/${defaultProfile.id}`, {
      method: 'DELETE',
      token: tenant.apiKey,
    })
    expect(response.status).toBe(409)
    expect(await json(response)).toMatchObject({ code: 'CONFLICT' })
    expect(await defaultProfileOf(tenant)).toEqual(defaultProfile)
    expect(await auditOf(tenant.workspaceId, 'profile.deleted')).toEqual([])
  })

  it.each([
    ['an empty name', { name: '  ' }, ['name']],
    ['an empty externalId', { name: 'A', externalId: '' }, ['externalId']],
    ['an unknown field', { name: 'A', workspaceId: 'ws_other' }, []],
  ])('refuse %s with 422 and create nothing', async (_, body, path) => {
    const tenant = await server.createTenant()
    const response = await request('/v1/profiles', { token: tenant.apiKey, json: body })
    expect(response.status).toBe(422)
    const problem = await json<{ code: string; issues: { path: string[] }[] }>(response)
    expect(problem.code).toBe('VALIDATION_FAILED')
    expect(problem.issues.map((issue) => issue.path)).toContainEqual(path)
    expect(await profilesOf(tenant.workspaceId)).toHaveLength(1)
  })

  it('need the write scope to change and the read scope to list', async () => {
    const tenant = await server.createTenant()
    const readKey = await createKey(tenant, ['read'])
    const adminKey = await createKey(tenant, ['admin'])
    const created = await request('/v1/profiles', { token: readKey, json: { name: 'Nope' } })
    expect(created.status).toBe(403)
    expect(await json(created)).toMatchObject({ code: 'FORBIDDEN' })
    expect((await request('/v1/profiles', { token: adminKey })).status).toBe(403)
    expect((await request('/v1/profiles', { token: readKey })).status).toBe(200)
    expect(await profilesOf(tenant.workspaceId)).toHaveLength(1)
  })
})

describe('profile tokens', () => {
  it('are minted for a profile with the minter’s read and write scopes, stored only hashed, and audited', async () => {
    const tenant = await server.createTenant()
    const profile = await createProfile(tenant, { name: 'Widget user' })
    const minted = await mintToken(tenant, profile.id)
    expect(minted.token).toMatch(/^pst_/)
    expect(minted.scopes).toEqual(['read', 'write'])

    const [row] = await tokensOf(profile.id)
    // created_at and expires_at both come from the transaction's now().
    expect(Number(row?.expiresAt) - Number(row?.createdAt)).toBe(
      server.scheduler.config.profileTokenTTLSeconds * 1000,
    )
    expect(row?.expiresAt.toISOString()).toBe(minted.expiresAt)
    expect(row).toMatchObject({ tokenHash: hashSecret(minted.token), scopes: ['read', 'write'] })
    expect(await dumpDatabase(server.databaseURL)).not.toContain(minted.token)
    expect(await auditOf(tenant.workspaceId, 'profile_token.created')).toMatchObject([
      { targetId: row?.id, details: { profileId: profile.id, scopes: ['read', 'write'] } },
    ])
  })

  it('take the scopes and lifetime asked for', async () => {
    const tenant = await server.createTenant()
    const profile = await createProfile(tenant, { name: 'Reader' })
    const minted = await mintToken(tenant, profile.id, { scopes: ['read'], expiresInSeconds: 60 })
    expect(minted.scopes).toEqual(['read'])
    const [row] = await tokensOf(profile.id)
    expect(Number(row?.expiresAt) - Number(row?.createdAt)).toBe(60_000)
    const write = await request(`/v1/profiles/${profile.id}/tokens`, {
      token: minted.token,
      json: {},
    })
    expect(write.status).toBe(403)
  })

  it('can be minted by a member with the write scope', async () => {
    const tenant = await server.createTenant()
    const profile = await createProfile(tenant, { name: 'By a person' })
    const response = await request(`/v1/profiles/${profile.id}/tokens`, {
      token: tenant.person.token,
      json: { scopes: ['read'] },
    })
    expect(response.status).toBe(201)
  })

  it('read their own profile, and see no other profile', async () => {
    const tenant = await server.createTenant()
    const mine = await createProfile(tenant, { name: 'Mine', externalId: 'mine' })
    const other = await createProfile(tenant, { name: 'Other', externalId: 'other' })
    const { token } = await mintToken(tenant, mine.id, { scopes: ['read'] })

    const own = await request(`/v1/profiles/${mine.id}`, { token })
    expect(own.status).toBe(200)
    const foreign = await request(`/v1/profiles/${other.id}`, { token })
    expect(foreign.status).toBe(404)
    expect(await json(foreign)).toMatchObject({ code: 'NOT_FOUND' })
    const list = await request('/v1/profiles', { token })
    expect(await json(list)).toMatchObject({ data: [{ id: mine.id }], nextCursor: null })
    const filtered = await request('/v1/profiles?externalId=other', { token })
    expect(await json(filtered)).toMatchObject({ data: [] })
  })

  it('cannot mint tokens, nor create, change or delete profiles', async () => {
    const tenant = await server.createTenant()
    const profile = await createProfile(tenant, { name: 'Widget' })
    const { token } = await mintToken(tenant, profile.id)
    const before = await profilesOf(tenant.workspaceId)
    for (const [method, path, body] of [
      ['POST', `/v1/profiles/${profile.id}/tokens`, {}],
      ['DELETE', `/v1/profiles/${profile.id}/tokens`, undefined],
      ['POST', '/v1/profiles', { name: 'New' }],
      ['PATCH', `/v1/profiles/${profile.id}`, { name: 'Renamed' }],
      ['DELETE', `/v1/profiles/${profile.id}`, undefined],
    ] as const) {
      const response = await request(path, { method, token, json: body })
      expect(response.status, `${method} ${path}`).toBe(403)
      expect(await json(response)).toMatchObject({ code: 'FORBIDDEN' })
    }
    expect(await profilesOf(tenant.workspaceId)).toEqual(before)
    expect(await tokensOf(profile.id)).toHaveLength(1)
  })

  it.each([
    ['the admin scope', { scopes: ['admin'] }, ['scopes', 0]],
    ['no scope at all', { scopes: [] }, ['scopes']],
    ['a lifetime over a day', { expiresInSeconds: 86_401 }, ['expiresInSeconds']],
    ['a lifetime under a minute', { expiresInSeconds: 59 }, ['expiresInSeconds']],
    ['a fractional lifetime', { expiresInSeconds: 90.5 }, ['expiresInSeconds']],
  ])('refuse %s with 422 and mint nothing', async (_, body, path) => {
    const tenant = await server.createTenant()
    const profile = await createProfile(tenant, { name: 'P' })
    const response = await request(`/v1/profiles/${profile.id}/tokens`, {
      token: tenant.apiKey,
      json: body,
    })
    expect(response.status).toBe(422)
    const problem = await json<{ issues: { path: (string | number)[] }[] }>(response)
    expect(problem.issues.map((issue) => issue.path)).toContainEqual(path)
    expect(await tokensOf(profile.id)).toEqual([])
  })

  it('never carry a scope the minter lacks', async () => {
    const tenant = await server.createTenant()
    const profile = await createProfile(tenant, { name: 'P' })
    const writeKey = await createKey(tenant, ['write'])
    const refused = await request(`/v1/profiles/${profile.id}/tokens`, {
      token: writeKey,
      json: { scopes: ['read', 'write'] },
    })
    expect(refused.status).toBe(403)
    expect(await json(refused)).toMatchObject({ code: 'FORBIDDEN' })
    expect(await tokensOf(profile.id)).toEqual([])

    const defaulted = await request(`/v1/profiles/${profile.id}/tokens`, {
      token: writeKey,
      json: {},
    })
    expect(await json(defaulted)).toMatchObject({ scopes: ['write'] })

    const readKey = await createKey(tenant, ['read'])
    const readOnly = await request(`/v1/profiles/${profile.id}/tokens`, {
      token: readKey,
      json: { scopes: ['read'] },
    })
    expect(readOnly.status).toBe(403)
  })

  it('are all revoked at once, and audited', async () => {
    const tenant = await server.createTenant()
    const profile = await createProfile(tenant, { name: 'P' })
    const first = await mintToken(tenant, profile.id)
    const second = await mintToken(tenant, profile.id)
    const response = await request(`/v1/profiles/${profile.id}/tokens`, {
      method: 'DELETE',
      token: tenant.apiKey,
    })
    expect(await json(response)).toEqual({ revoked: 2 })
    for (const { token } of [first, second]) {
      const refused = await request(`/v1/profiles/${profile.id}`, { token })
      expect(refused.status).toBe(401)
    }
    expect(await auditOf(tenant.workspaceId, 'profile_token.revoked')).toMatchObject([
      { targetId: profile.id, details: { count: 2 } },
    ])
  })
})

describe('another tenant', () => {
  it('gets 404 for every profile route with an id not theirs, and changes nothing', async () => {
    const victim = await server.createTenant()
    const profile = await createProfile(victim, { name: 'Victim', externalId: 'v' })
    await mintToken(victim, profile.id)
    const attacker = await server.createTenant()
    const attackerProfile = await createProfile(attacker, { name: 'Attacker' })
    const { token: attackerProfileToken } = await mintToken(attacker, attackerProfile.id)
    const before = await profilesOf(victim.workspaceId)

    const attempts = [
      ['GET', `/v1/profiles/${profile.id}`, undefined],
      ['PATCH', `/v1/profiles/${profile.id}`, { name: 'Pwned' }],
      ['DELETE', `/v1/profiles/${profile.id}`, undefined],
      ['POST', `/v1/profiles/${profile.id}/tokens`, {}],
      ['DELETE', `/v1/profiles/${profile.id}/tokens`, undefined],
    ] as const
    for (const token of [attacker.apiKey, attacker.person.token]) {
      for (const [method, path, body] of attempts) {
        const response = await request(path, { method, token, json: body })
        expect(response.status, `${method} ${path}`).toBe(404)
        expect(await json(response)).toMatchObject({ code: 'NOT_FOUND' })
      }
    }
    const read = await request(`/v1/profiles/${profile.id}`, { token: attackerProfileToken })
    expect(read.status).toBe(404)
    const listed = await request('/v1/profiles?externalId=v', { token: attacker.apiKey })
    expect(await json(listed)).toMatchObject({ data: [] })

    expect(await profilesOf(victim.workspaceId)).toEqual(before)
    const [victimToken] = await tokensOf(profile.id)
    expect(victimToken?.revokedAt).toBeNull()
    expect(await tokensOf(profile.id)).toHaveLength(1)
  })
})
