import { eq, sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { TEST_KEYS } from '../../test/config.ts'
import { type Connection, connectionHelpers, local, RETURN_URL } from '../../test/connections.ts'
import { dumpDatabase } from '../../test/dump.ts'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { connectedAccounts, connectionAttempts } from '../db/schema/index.ts'
import { createVault, parseKeyring } from '../vault/vault.ts'
import { tokenContext } from './tokens.ts'

const server = await startTestServer()
const { request } = server
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)
const vault = createVault(parseKeyring(TEST_KEYS))
const { tenantWithProfile, consent, start, connectPersonalAccount } = connectionHelpers(server)

type Account = { id: string; status: string; platformAccountId: string; kind: string }

describe('GET /v1/platforms', () => {
  it('lists the sandbox with its capabilities and options as JSON Schema, also for profile tokens', async () => {
    const tenant = await tenantWithProfile()
    const minted = (await (
      await request(`/v1/profiles/${tenant.profileId}/tokens`, { token: tenant.apiKey, json: {} })
    ).json()) as { token: string }
    const response = await request('/v1/platforms', { token: minted.token })
    expect(response.status).toBe(200)
    const { data } = (await response.json()) as {
      data: {
        id: string
        configured: boolean
        capabilities: { text: { maxLength: number }; optionsSchema: { type: string } }
      }[]
    }
    const sandbox = data.find((platform) => platform.id === 'sandbox')
    expect(sandbox).toMatchObject({
      configured: true,
      capabilities: { optionsSchema: { type: 'object' } },
    })
    expect(sandbox?.capabilities.text.maxLength).toBeGreaterThan(0)
  })
})

describe('connecting accounts', () => {
  it('goes through consent, lets the person choose among the login’s accounts, and stores the tokens encrypted', async () => {
    const tenant = await tenantWithProfile()
    const connection = await start(tenant)
    expect(connection.authorizationURL).toMatch(
      /^http:\/\/post-scheduler\.test\/sandbox\/oauth\/authorize\?/,
    )
    const authorize = new URL(connection.authorizationURL)
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256')
    expect(authorize.searchParams.get('redirect_uri')).toBe(
      'http://post-scheduler.test/v1/oauth/sandbox/callback',
    )

    const callback = await request(local(await consent(connection.authorizationURL)))
    expect(callback.status).toBe(302)
    const back = new URL(callback.headers.get('location') as string)
    expect(`${back.origin}${back.pathname}`).toBe(RETURN_URL)
    expect(Object.fromEntries(back.searchParams)).toEqual({
      connection: connection.id,
      status: 'choosing',
    })

    const pending = (await (
      await request(`/v1/connections/${connection.id}`, { token: tenant.apiKey })
    ).json()) as Connection
    expect(pending.choices.map((choice) => choice.kind).sort()).toEqual(['page', 'personal'])
    const done = (await (
      await request(`/v1/connections/${connection.id}/accounts`, {
        token: tenant.apiKey,
        json: { accountIds: pending.choices.map((choice) => choice.id) },
      })
    ).json()) as Connection
    expect(done.status).toBe('connected')
    expect(done.connectedAccounts).toHaveLength(2)

    const listed = await (
      await request(`/v1/accounts?profileId=${tenant.profileId}`, { token: tenant.apiKey })
    ).text()
    const accounts = JSON.parse(listed) as { data: Account[] }
    expect(accounts.data.map((account) => account.status)).toEqual(['active', 'active'])

    const rows = await db
      .select()
      .from(connectedAccounts)
      .where(eq(connectedAccounts.workspaceId, tenant.workspaceId))
    const dump = await dumpDatabase(server.databaseURL)
    for (const row of rows) {
      const accessToken = vault.open(
        row.accessTokenSealed as string,
        tokenContext(row, 'access_token'),
      )
      const refreshToken = vault.open(
        row.refreshTokenSealed as string,
        tokenContext(row, 'refresh_token'),
      )
      for (const token of [accessToken, refreshToken]) {
        expect(token.length).toBeGreaterThan(10)
        expect(dump).not.toContain(token)
        expect(listed).not.toContain(token)
      }
    }
    // The login's tokens are forgotten once the accounts are connected.
    const [attempt] = await db
      .select()
      .from(connectionAttempts)
      .where(eq(connectionAttempts.id, connection.id))
    expect(attempt?.tokensSealed).toBeNull()
  })

  it('updates an account in place when it is connected again', async () => {
    const tenant = await tenantWithProfile()
    const first = await connectPersonalAccount(tenant, { name: 'Returning Person' })
    const [before] = await db
      .select()
      .from(connectedAccounts)
      .where(eq(connectedAccounts.id, first.accountId))
    const second = await connectPersonalAccount(tenant, { name: 'Returning Person' })
    expect(second.accountId).toBe(first.accountId)
    const [after] = await db
      .select()
      .from(connectedAccounts)
      .where(eq(connectedAccounts.id, first.accountId))
    expect(after?.accessTokenSealed).not.toBe(before?.accessTokenSealed)
    expect(after?.refreshTokenSealed).not.toBeNull()
    const { data } = (await (await request('/v1/accounts', { token: tenant.apiKey })).json()) as {
      data: Account[]
    }
    expect(data).toHaveLength(1)
  })

  it('reports a refused consent back to the returnURL as an error and connects nothing', async () => {
    const tenant = await tenantWithProfile()
    const connection = await start(tenant)
    const callback = await request(local(await consent(connection.authorizationURL, 'deny')))
    const back = new URL(callback.headers.get('location') as string)
    expect(back.searchParams.get('status')).toBe('error')
    expect(back.searchParams.get('error')).toBe('access_denied')
    const { data } = (await (await request('/v1/accounts', { token: tenant.apiKey })).json()) as {
      data: Account[]
    }
    expect(data).toEqual([])
  })

  describe('refuses callback abuse', () => {
    it('a reused state', async () => {
      const tenant = await tenantWithProfile()
      const connection = await start(tenant)
      const location = local(await consent(connection.authorizationURL))
      expect((await request(location)).status).toBe(302)
      const replay = await request(location)
      expect(replay.status).toBe(400)
      expect(await replay.json()).toMatchObject({ code: 'TOKEN_INVALID' })
    })

    it('a missing, unknown or forged state', async () => {
      for (const query of ['code=abc', 'code=abc&state=', `code=abc&state=${'x'.repeat(43)}`]) {
        const response = await request(`/v1/oauth/sandbox/callback?${query}`)
        expect(response.status).toBe(400)
        expect(await response.json()).toMatchObject({ code: 'TOKEN_INVALID' })
      }
    })

    it('an expired state', async () => {
      const tenant = await tenantWithProfile()
      const connection = await start(tenant)
      const location = local(await consent(connection.authorizationURL))
      await db
        .update(connectionAttempts)
        .set({ expiresAt: sql`now() - interval '1 second'` })
        .where(eq(connectionAttempts.id, connection.id))
      expect((await request(location)).status).toBe(400)
    })

    it('a state sent to another platform’s callback', async () => {
      const tenant = await tenantWithProfile()
      const connection = await start(tenant)
      const location = local(await consent(connection.authorizationURL)).replace(
        '/sandbox/',
        '/nowhere/',
      )
      expect((await request(location)).status).toBe(404)
    })
  })

  it('refuses a returnURL outside the workspace’s allowed origins', async () => {
    const tenant = await tenantWithProfile()
    const response = await request(`/v1/profiles/${tenant.profileId}/connections`, {
      token: tenant.apiKey,
      json: { platform: 'sandbox', returnURL: 'https://evil.example.net/steal' },
    })
    expect(response.status).toBe(422)
    expect(await response.json()).toMatchObject({
      issues: [{ path: ['returnURL'], code: 'origin_not_allowed' }],
    })
  })

  it('refuses an unknown platform', async () => {
    const tenant = await tenantWithProfile()
    const response = await request(`/v1/profiles/${tenant.profileId}/connections`, {
      token: tenant.apiKey,
      json: { platform: 'myspace' },
    })
    expect(response.status).toBe(404)
  })

  it('lets a profile token connect its own profile only', async () => {
    const tenant = await tenantWithProfile()
    const other = (await (
      await request('/v1/profiles', {
        token: tenant.apiKey,
        json: { name: 'Other customer', externalId: 'cust-2' },
      })
    ).json()) as { id: string }
    const minted = (await (
      await request(`/v1/profiles/${tenant.profileId}/tokens`, { token: tenant.apiKey, json: {} })
    ).json()) as { token: string }
    const own = await request(`/v1/profiles/${tenant.profileId}/connections`, {
      token: minted.token,
      json: { platform: 'sandbox' },
    })
    expect(own.status).toBe(201)
    const foreign = await request(`/v1/profiles/${other.id}/connections`, {
      token: minted.token,
      json: { platform: 'sandbox' },
    })
    expect(foreign.status).toBe(404)
  })
})

describe('disconnecting', () => {
  it('revokes the token at the platform, deletes the ciphertexts and audits it', async () => {
    const tenant = await tenantWithProfile()
    const { accountId } = await connectPersonalAccount(tenant)
    const [row] = await db
      .select()
      .from(connectedAccounts)
      .where(eq(connectedAccounts.id, accountId))
    const accessToken = vault.open(
      row?.accessTokenSealed as string,
      tokenContext(row as never, 'access_token'),
    )
    const sandboxAccounts = () =>
      server.scheduler.app.request('/sandbox/v1/accounts', {
        headers: { authorization: `Bearer ${accessToken}` },
      })
    expect((await sandboxAccounts()).status).toBe(200)

    const response = await request(`/v1/accounts/${accountId}`, {
      method: 'DELETE',
      token: tenant.apiKey,
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ id: accountId, status: 'revoked' })
    const [after] = await db
      .select()
      .from(connectedAccounts)
      .where(eq(connectedAccounts.id, accountId))
    expect(after).toMatchObject({
      accessTokenSealed: null,
      refreshTokenSealed: null,
      status: 'revoked',
    })
    expect((await sandboxAccounts()).status).toBe(401)

    const audit = (await (
      await request('/v1/audit-log?action=account.*', { token: tenant.apiKey })
    ).json()) as {
      data: { action: string; details: Record<string, unknown> }[]
    }
    expect(audit.data[0]).toMatchObject({
      action: 'account.disconnected',
      details: { platformRevocation: 'revoked' },
    })
  })

  it('still disconnects when the platform cannot revoke, recording why', async () => {
    const tenant = await tenantWithProfile()
    const { accountId } = await connectPersonalAccount(tenant)
    // A ciphertext copied from another row does not open here: revocation fails, the disconnect does not.
    const other = await tenantWithProfile()
    const { accountId: otherAccountId } = await connectPersonalAccount(other)
    const [foreign] = await db
      .select()
      .from(connectedAccounts)
      .where(eq(connectedAccounts.id, otherAccountId))
    await db
      .update(connectedAccounts)
      .set({
        refreshTokenSealed: foreign?.refreshTokenSealed,
        accessTokenSealed: foreign?.accessTokenSealed,
      })
      .where(eq(connectedAccounts.id, accountId))
    const response = await request(`/v1/accounts/${accountId}`, {
      method: 'DELETE',
      token: tenant.apiKey,
    })
    expect(await response.json()).toMatchObject({ status: 'revoked' })
    const audit = (await (
      await request('/v1/audit-log?action=account.disconnected', { token: tenant.apiKey })
    ).json()) as {
      data: { details: { platformRevocation: string } }[]
    }
    expect(audit.data[0]?.details.platformRevocation).toBe('failed')
  })
})
