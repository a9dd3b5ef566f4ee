import { eq } from 'drizzle-orm'
import { Webhook } from 'standardwebhooks'
import { afterAll, expect, it } from 'vitest'
import { TEST_KEYS } from '../../test/config.ts'
import { connectionHelpers } from '../../test/connections.ts'
import { startTestServer } from '../../test/server.ts'
import { rotateKeys } from '../app/commands/rotate-keys.ts'
import { createDatabaseClient } from '../db/client.ts'
import { webhookEndpoints } from '../db/schema/index.ts'
import { createVault, generateKeyEntry, parseKeyring } from '../vault/vault.ts'
import { secretContext, signingSecrets } from './delivery.ts'
import { signWebhook } from './signing.ts'

const server = await startTestServer()
const { tenantWithProfile } = connectionHelpers(server)
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)

it('keeps signing secrets sealed at rest, bound to their endpoint, and re-seals them on key rotation', async () => {
  const tenant = await tenantWithProfile()
  const created = await server.request('/v1/webhook-endpoints', {
    token: tenant.apiKey,
    json: { url: 'https://hooks.example.com/in' },
  })
  const { id, secret: first } = (await created.json()) as { id: string; secret: string }
  const rotated = await server.request(`/v1/webhook-endpoints/${id}/rotate-secret`, {
    token: tenant.apiKey,
    method: 'POST',
    json: { gracePeriodSeconds: 600 },
  })
  const { secret } = (await rotated.json()) as { secret: string }

  const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id))
  if (!row?.previousSecretSealed) throw new Error('no endpoint row')
  expect(JSON.stringify(row)).not.toContain(secret.slice(6, 20))
  expect(JSON.stringify(row)).not.toContain(first.slice(6, 20))
  // An envelope copied to another endpoint's row does not open there.
  const oldVault = createVault(parseKeyring(TEST_KEYS))
  expect(() =>
    oldVault.open(row.secretSealed, secretContext({ ...row, id: 'whe_other' }, 'secret')),
  ).toThrow()

  const newVault = createVault(parseKeyring(`${generateKeyEntry('k2')},${TEST_KEYS}`))
  await rotateKeys(db, newVault)
  const [resealed] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id))
  if (!resealed) throw new Error('no endpoint row')
  expect(resealed.secretSealed.split('.')[1]).toBe('k2')
  expect(resealed.previousSecretSealed?.split('.')[1]).toBe('k2')

  // Still the same two secrets: a request signed now verifies with either.
  const now = new Date()
  const body = '{"type":"post.published"}'
  const headers = signWebhook({
    id: 'evt_1',
    timestamp: now,
    body,
    secrets: signingSecrets({ vault: newVault }, resealed, now),
  })
  expect(new Webhook(secret).verify(body, { ...headers })).toEqual({ type: 'post.published' })
  expect(new Webhook(first).verify(body, { ...headers })).toEqual({ type: 'post.published' })
})
