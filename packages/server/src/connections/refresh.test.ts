import { eq, sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { TEST_KEYS, testConfig } from '../../test/config.ts'
import { connectionHelpers } from '../../test/connections.ts'
import { MailRecorder, startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { connectedAccounts } from '../db/schema/index.ts'
import { startQueue } from '../jobs/queue.ts'
import { createLogger } from '../logging/logger.ts'
import { createPlatformRegistry } from '../platforms/registry.ts'
import { createPostScheduler } from '../post-scheduler.ts'
import { createVault, parseKeyring } from '../vault/vault.ts'
import { CONNECTION_QUEUES } from './jobs.ts'
import { type RefreshServices, refreshAccount } from './refresh.ts'
import { tokenContext } from './tokens.ts'

const server = await startTestServer()
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const logger = createLogger({ logLevel: 'silent', logFormat: 'json' })
const client = createDatabaseClient(server.databaseURL, { max: 4 })
afterAll(client.close)
const vault = createVault(parseKeyring(TEST_KEYS))
const config = testConfig(server.databaseURL)

// The services a worker has, built from the same parts, to call the refresh directly.
const { registry } = await createPlatformRegistry({
  config,
  db: client.db,
  key: parseKeyring(TEST_KEYS)[0].key,
})
const services: RefreshServices = {
  db: client.db,
  mail: server.mail,
  logger,
  vault,
  platforms: registry,
}

const accountRow = async (id: string) => {
  const [row] = await client.db.select().from(connectedAccounts).where(eq(connectedAccounts.id, id))
  if (!row) throw new Error(`no account ${id}`)
  return row
}
const expireSoon = (id: string) =>
  client.db
    .update(connectedAccounts)
    .set({ accessTokenExpiresAt: sql`now() + interval '1 minute'` })
    .where(eq(connectedAccounts.id, id))

describe('token refresh', () => {
  it('runs as a scheduled job on the workers, storing the rotated refresh token', async () => {
    const worker = createPostScheduler({ config, mailTransport: new MailRecorder(), logger })
    await worker.start({ listen: false, worker: true, migrate: false })
    try {
      const tenant = await tenantWithProfile()
      const { accountId } = await connectPersonalAccount(tenant)
      await expireSoon(accountId)
      const before = await accountRow(accountId)

      const queue = await startQueue({
        databaseURL: server.databaseURL,
        schema: 'pgboss',
        role: 'api',
        heartbeatSeconds: 10,
        logger,
      })
      await queue.send(CONNECTION_QUEUES.refreshTokens)
      await queue.stop({ graceful: false })

      let after = before
      for (let i = 0; i < 100 && !after.lastRefreshedAt; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200))
        after = await accountRow(accountId)
      }
      expect(after.lastRefreshedAt).not.toBeNull()
      expect(after.status).toBe('active')
      expect(after.accessTokenExpiresAt?.getTime()).toBeGreaterThan(Date.now() + 30 * 60 * 1000)
      const oldRefresh = vault.open(
        before.refreshTokenSealed as string,
        tokenContext(before, 'refresh_token'),
      )
      const newRefresh = vault.open(
        after.refreshTokenSealed as string,
        tokenContext(after, 'refresh_token'),
      )
      expect(newRefresh).not.toBe(oldRefresh)
    } finally {
      await worker.stop()
    }
  })

  it('never lets two workers race a rotating refresh token', async () => {
    const tenant = await tenantWithProfile()
    const { accountId } = await connectPersonalAccount(tenant)
    await expireSoon(accountId)
    const outcomes = await Promise.all([
      refreshAccount(services, accountId),
      refreshAccount(services, accountId),
      refreshAccount(services, accountId),
    ])
    expect(outcomes.filter((outcome) => outcome === 'refreshed')).toHaveLength(1)
    expect(outcomes).not.toContain('reauth_required')
    expect((await accountRow(accountId)).status).toBe('active')
  })

  it('marks an account whose access was withdrawn as reauth_required and tells the owners', async () => {
    const tenant = await tenantWithProfile()
    const { accountId } = await connectPersonalAccount(tenant)
    const row = await accountRow(accountId)
    // The person withdraws our access at the platform.
    const refreshToken = vault.open(
      row.refreshTokenSealed as string,
      tokenContext(row, 'refresh_token'),
    )
    // The workspace's own sandbox client, as the server uses it.
    const app = registry.get('sandbox').workspaceApp?.(tenant.workspaceId)
    const revoked = await server.scheduler.app.request('/sandbox/oauth/revoke', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: refreshToken,
        client_id: app?.clientId ?? '',
        client_secret: app?.clientSecret ?? '',
      }).toString(),
    })
    expect(revoked.status).toBe(200)
    await expireSoon(accountId)

    expect(await refreshAccount(services, accountId)).toBe('reauth_required')
    const after = await accountRow(accountId)
    expect(after).toMatchObject({ status: 'reauth_required', statusReason: 'refresh_refused' })
    expect(server.mail.to(tenant.person.email).at(-1)?.subject).toMatch(/^Reconnect /)
    const account = (await (
      await server.request(`/v1/accounts/${accountId}`, { token: tenant.apiKey })
    ).json()) as {
      status: string
    }
    expect(account.status).toBe('reauth_required')
  })

  it('leaves accounts that are not about to expire alone', async () => {
    const tenant = await tenantWithProfile()
    const { accountId } = await connectPersonalAccount(tenant)
    const before = await accountRow(accountId)
    expect(await refreshAccount(services, accountId)).toBe('fresh')
    expect((await accountRow(accountId)).accessTokenSealed).toBe(before.accessTokenSealed)
  })
})
