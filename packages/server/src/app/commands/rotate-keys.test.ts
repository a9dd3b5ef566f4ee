import { eq, sql } from 'drizzle-orm'
import { afterAll, expect, it } from 'vitest'
import { TEST_KEYS } from '../../../test/config.ts'
import { connectionHelpers } from '../../../test/connections.ts'
import { startTestServer } from '../../../test/server.ts'
import { tokenContext } from '../../connections/tokens.ts'
import { createDatabaseClient } from '../../db/client.ts'
import { connectedAccounts, oauthApps } from '../../db/schema/index.ts'
import { secretContext } from '../../platforms/service.ts'
import { createVault, generateKeyEntry, parseKeyring } from '../../vault/vault.ts'
import { rotateKeys } from './rotate-keys.ts'

const server = await startTestServer()
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { db, close } = createDatabaseClient(server.databaseURL, { max: 4 })
afterAll(close)

it('re-encrypts every secret with the new key while the server reads and writes, losing nothing', async () => {
  const oldVault = createVault(parseKeyring(TEST_KEYS))
  const tenants = [await tenantWithProfile(), await tenantWithProfile()]
  for (const tenant of tenants) {
    await connectPersonalAccount(tenant)
    await connectPersonalAccount(tenant)
    await server.request('/v1/oauth-apps/sandbox', {
      method: 'PUT',
      token: tenant.apiKey,
      json: { clientId: 'own-client', clientSecret: `secret of ${tenant.workspaceId}` },
    })
  }
  const accounts = await db.select().from(connectedAccounts)
  const expected = new Map(
    accounts.map((row) => [
      row.id,
      oldVault.open(row.accessTokenSealed as string, tokenContext(row, 'access_token')),
    ]),
  )

  // The new key goes first; every process gets both keys before the rotation starts.
  const newVault = createVault(parseKeyring(`${generateKeyEntry('k2')},${TEST_KEYS}`))
  const writer = accounts[0]
  if (!writer) throw new Error('no account')
  let writes = 0
  let rotating = true
  const traffic = (async () => {
    while (rotating) {
      // A token refresh, from a process that already seals with the new key…
      const value = `refreshed-${++writes}`
      await db
        .update(connectedAccounts)
        .set({ accessTokenSealed: newVault.seal(value, tokenContext(writer, 'access_token')) })
        .where(eq(connectedAccounts.id, writer.id))
      expected.set(writer.id, value)
      // …and reads, which must open every envelope, old or new.
      for (const row of await db.select().from(connectedAccounts)) {
        newVault.open(row.accessTokenSealed as string, tokenContext(row, 'access_token'))
      }
    }
  })()
  const { resealed } = await rotateKeys(db, newVault, { batchSize: 1 })
  rotating = false
  await traffic

  expect(resealed).toBeGreaterThanOrEqual(accounts.length * 2)
  expect(writes).toBeGreaterThan(0)
  for (const row of await db.select().from(connectedAccounts)) {
    expect(row.accessTokenSealed?.split('.')[1]).toBe('k2')
    expect(row.refreshTokenSealed?.split('.')[1]).toBe('k2')
    expect(newVault.open(row.accessTokenSealed as string, tokenContext(row, 'access_token'))).toBe(
      expected.get(row.id),
    )
  }
  for (const app of await db.select().from(oauthApps)) {
    expect(
      newVault.open(app.clientSecretSealed, secretContext(app.workspaceId, app.platform)),
    ).toBe(`secret of ${app.workspaceId}`)
  }
  const [stale] = await db.execute<{ count: number }>(sql`
    select count(*)::int as count from post_scheduler.connection_attempts
    where split_part(code_verifier_sealed, '.', 2) <> 'k2'`)
  expect(stale?.count).toBe(0)
  // The old key can go: a second run finds nothing left.
  expect((await rotateKeys(db, newVault)).resealed).toBe(0)
})
