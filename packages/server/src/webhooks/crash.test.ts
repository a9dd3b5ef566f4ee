import { eq } from 'drizzle-orm'
import { Webhook } from 'standardwebhooks'
import { afterAll, expect, it } from 'vitest'
import { spawnCLI } from '../../test/cli.ts'
import { connectionHelpers } from '../../test/connections.ts'
import { startTestServer } from '../../test/server.ts'
import { startReceiver } from '../../test/webhooks.ts'
import { createDatabaseClient } from '../db/client.ts'
import { webhookDeliveries } from '../db/schema/index.ts'

// The API runs here; deliveries run in real worker processes, one of which is killed.
const server = await startTestServer({
  webhooks: { allowedNetworks: ['127.0.0.0/8'], timeoutSeconds: 2, concurrency: 2 },
})
const { request } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)

const startWorker = async () => {
  const worker = spawnCLI(['worker'], {
    DATABASE_URL: server.databaseURL,
    WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8',
    WEBHOOK_TIMEOUT_SECONDS: '2',
  })
  afterAll(() => {
    if (worker.child.exitCode === null) worker.child.kill('SIGKILL')
  })
  await worker.logLine(/^Post Scheduler started/)
  return worker
}

it('delivers again, with the same webhook-id, an event whose worker was killed mid-delivery', async () => {
  // The first request never gets an answer: its worker dies while waiting for it.
  const receiver = await startReceiver((_, index) => (index === 0 ? 'hang' : 200))
  const tenant = await tenantWithProfile()
  const created = await request('/v1/webhook-endpoints', {
    token: tenant.apiKey,
    json: { url: receiver.url },
  })
  const endpoint = (await created.json()) as { id: string; secret: string }

  const first = await startWorker()
  // Connecting an account records account.connected: the one event of this workspace.
  const { accountId } = await connectPersonalAccount(tenant)

  const [inFlight] = await receiver.waitFor(1)
  first.child.kill('SIGKILL')
  await first.exited
  const [delivery] = await db
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.endpointId, endpoint.id))
  expect(delivery).toMatchObject({ status: 'delivering', attempts: 1 })

  const second = await startWorker()
  const [, again] = await receiver.waitFor(2, 30_000)
  if (!inFlight || !again) throw new Error('the receiver got nothing')
  expect(again.headers['webhook-id']).toBe(inFlight.headers['webhook-id'])
  expect(again.body).toBe(inFlight.body)
  const verified = new Webhook(endpoint.secret).verify(again.body, {
    'webhook-id': String(again.headers['webhook-id']),
    'webhook-timestamp': String(again.headers['webhook-timestamp']),
    'webhook-signature': String(again.headers['webhook-signature']),
  })
  expect(verified).toMatchObject({ type: 'account.connected', data: { accountId } })

  for (let i = 0; i < 50; i++) {
    const [row] = await db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.endpointId, endpoint.id))
    if (row?.status === 'succeeded') break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const [done] = await db
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.endpointId, endpoint.id))
  expect(done).toMatchObject({ status: 'succeeded', attempts: 2 })
  second.child.kill('SIGTERM')
  await second.exited
  expect(receiver.received).toHaveLength(2)
})
