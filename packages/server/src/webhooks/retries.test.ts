import { eq } from 'drizzle-orm'
import { Webhook } from 'standardwebhooks'
import { afterAll, describe, expect, it } from 'vitest'
import { TEST_KEYS } from '../../test/config.ts'
import { connectionHelpers, type Tenant } from '../../test/connections.ts'
import { startTestServer } from '../../test/server.ts'
import { type ReceivedRequest, startReceiver } from '../../test/webhooks.ts'
import { createDatabaseClient } from '../db/client.ts'
import { events, webhookAttempts, webhookDeliveries } from '../db/schema/index.ts'
import { startQueue } from '../jobs/queue.ts'
import { createLogger } from '../logging/logger.ts'
import { createVault, parseKeyring } from '../vault/vault.ts'
import {
  attemptDelivery,
  purgeDeliveryLog,
  sweepWebhookDeliveries,
  WEBHOOK_QUEUE,
} from './delivery.ts'

// No worker in this process: the test is the worker, and its clock is the one below, not the
// wall's — days of retries pass in a second. Receivers listen on loopback, allowed here.
const server = await startTestServer({
  webhooks: { allowedNetworks: ['127.0.0.0/8'], timeoutSeconds: 5, concurrency: 1 },
})
const { request, mail } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)
const logger = createLogger({ logLevel: 'silent', logFormat: 'json' })
const queue = await startQueue({
  databaseURL: server.databaseURL,
  schema: 'pgboss',
  role: 'api',
  heartbeatSeconds: 10,
  logger,
})
afterAll(() => queue.stop({ graceful: false }))
const services = {
  db,
  vault: createVault(parseKeyring(TEST_KEYS)),
  config: server.scheduler.config,
  logger,
  mail,
}

/**
 * One turn of a worker at the clock's `now`: the sweep enqueues what is due, then each job it
 * got from the queue is attempted.
 *
 * @returns how many deliveries were due.
 */
async function tick(now: Date) {
  const due = await sweepWebhookDeliveries(db, queue, { now, expireInSeconds: 60 })
  const jobs = await queue.fetch<{ endpointId: string; eventId: string }>(WEBHOOK_QUEUE, {
    batchSize: 10,
  })
  for (const job of jobs) await attemptDelivery(services, job.data, { now })
  if (jobs.length > 0) {
    await queue.complete(
      WEBHOOK_QUEUE,
      jobs.map((job) => job.id),
    )
  }
  return due
}

const seconds = (at: Date, later: number) => new Date(at.getTime() + later * 1000)

async function setUp(respond: (request: ReceivedRequest, index: number) => number) {
  const tenant = { ...(await tenantWithProfile()), accountId: '' }
  tenant.accountId = (await connectPersonalAccount(tenant)).accountId
  const receiver = await startReceiver(respond)
  const response = await request('/v1/webhook-endpoints', {
    token: tenant.apiKey,
    json: { url: receiver.url, eventTypes: ['post.scheduled'] },
  })
  expect(response.status).toBe(201)
  const endpoint = (await response.json()) as { id: string; secret: string }
  return { tenant, receiver, endpoint }
}

/** Records one `post.scheduled` event. */
async function scheduleSomething(tenant: Tenant & { accountId: string }) {
  const post = await request('/v1/posts', {
    token: tenant.apiKey,
    json: {
      accountIds: [tenant.accountId],
      content: { text: `Later ${crypto.randomUUID()}` },
      scheduledAt: new Date(Date.now() + 86_400_000).toISOString(),
    },
  })
  expect(post.status, await post.clone().text()).toBe(201)
}

const endpointOf = async (tenant: Tenant, endpointId: string) =>
  (await (
    await request(`/v1/webhook-endpoints/${endpointId}`, { token: tenant.apiKey })
  ).json()) as { enabled: boolean; disabledReason: string | null; failingSince: string | null }

describe('webhook retries (with an injectable clock)', () => {
  it('gives a receiver that fails 4 times then succeeds 5 attempts on the documented schedule', async () => {
    const { tenant, receiver, endpoint } = await setUp((_, index) => (index < 4 ? 500 : 204))
    await scheduleSomething(tenant)
    const start = new Date(Date.now() + 1000)
    expect(await tick(start)).toBe(1)

    // The documented schedule: at once, then 5 s, 5 min, 30 min and 2 h after each failure.
    let previous = start
    for (const delay of [5, 5 * 60, 30 * 60, 2 * 3600]) {
      const due = seconds(previous, delay)
      expect(await tick(seconds(due, -1)), `nothing before ${delay} s`).toBe(0)
      expect(await tick(due)).toBe(1)
      previous = due
    }
    expect(await tick(seconds(previous, 3 * 86_400))).toBe(0)

    expect(receiver.received).toHaveLength(5)
    const stamps = receiver.received.map((received) =>
      Number(received.headers['webhook-timestamp']),
    )
    expect(stamps.map((stamp) => stamp - (stamps[0] ?? 0))).toEqual([0, 5, 305, 2105, 9305])
    expect(new Set(receiver.received.map((received) => received.headers['webhook-id'])).size).toBe(
      1,
    )
    // Each attempt is signed for its own time, as the reference implementation signs it.
    for (const received of receiver.received) {
      const id = String(received.headers['webhook-id'])
      const at = new Date(Number(received.headers['webhook-timestamp']) * 1000)
      expect(received.headers['webhook-signature']).toBe(
        new Webhook(endpoint.secret).sign(id, at, received.body),
      )
    }

    const [delivery] = await db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.endpointId, endpoint.id))
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 5, lastStatusCode: 204 })
    expect(await endpointOf(tenant, endpoint.id)).toMatchObject({
      enabled: true,
      failingSince: null,
    })
    const log = (await (
      await request(`/v1/webhook-endpoints/${endpoint.id}/attempts`, { token: tenant.apiKey })
    ).json()) as { data: { outcome: string; statusCode: number; attemptedAt: string }[] }
    expect(log.data.map((attempt) => [attempt.outcome, attempt.statusCode])).toEqual([
      ['succeeded', 204],
      ['failed', 500],
      ['failed', 500],
      ['failed', 500],
      ['failed', 500],
    ])
    expect(log.data.at(-1)?.attemptedAt).toBe(start.toISOString())
  })

  it('makes exactly one attempt to a receiver that answers 410, disables it and tells the owners', async () => {
    const { tenant, receiver, endpoint } = await setUp(() => 410)
    await scheduleSomething(tenant)
    const start = new Date(Date.now() + 1000)
    expect(await tick(start)).toBe(1)
    for (const later of [5, 300, 86_400, 4 * 86_400]) {
      expect(await tick(seconds(start, later))).toBe(0)
    }
    expect(receiver.received).toHaveLength(1)
    expect(await endpointOf(tenant, endpoint.id)).toMatchObject({
      enabled: false,
      disabledReason: 'gone',
    })
    const [told] = mail
      .to(tenant.person.email)
      .filter((message) => /disabled/.test(message.subject))
    expect(told?.text).toContain('410 Gone')
    expect(told?.text).toContain(endpoint.id)

    // Events of a disabled endpoint's time are recorded, not sent.
    await scheduleSomething(tenant)
    expect(await tick(seconds(start, 5 * 86_400))).toBe(0)
    expect(receiver.received).toHaveLength(1)
  })

  it('disables an endpoint that failed for three days and tells the owners', async () => {
    const { tenant, receiver, endpoint } = await setUp(() => 503)
    await scheduleSomething(tenant)
    const start = new Date(Date.now() + 1000)
    let at = start
    expect(await tick(at)).toBe(1)
    const schedule = [5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400]
    for (const [index, delay] of schedule.entries()) {
      at = seconds(at, delay)
      expect(await tick(at)).toBe(1)
      const state = await endpointOf(tenant, endpoint.id)
      // Still trusted until three days of failures; the tenth attempt comes after them.
      expect(state.enabled, `after attempt ${index + 2}`).toBe(index < schedule.length - 1)
    }
    expect(receiver.received).toHaveLength(10)
    expect(await endpointOf(tenant, endpoint.id)).toMatchObject({
      enabled: false,
      disabledReason: 'failing',
      failingSince: start.toISOString(),
    })
    const [delivery] = await db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.endpointId, endpoint.id))
    expect(delivery).toMatchObject({ status: 'failed', attempts: 10, lastStatusCode: 503 })
    const [told] = mail
      .to(tenant.person.email)
      .filter((message) => /disabled/.test(message.subject))
    expect(told?.text).toContain('failed for three days')
    expect(await tick(seconds(at, 86_400))).toBe(0)
  })

  it('keeps the delivery log 30 days, and the events after it', async () => {
    const { tenant, receiver, endpoint } = await setUp(() => 200)
    await scheduleSomething(tenant)
    const start = new Date(Date.now() + 1000)
    expect(await tick(start)).toBe(1)
    await receiver.waitFor(1)
    const log = () =>
      db.select().from(webhookAttempts).where(eq(webhookAttempts.endpointId, endpoint.id))
    const [attempt] = await log()
    if (!attempt) throw new Error('no attempt logged')

    await purgeDeliveryLog(db, { now: seconds(start, 29 * 86_400) })
    expect(await log()).toHaveLength(1)
    await purgeDeliveryLog(db, { now: seconds(start, 31 * 86_400) })
    expect(await log()).toEqual([])
    expect(
      await db
        .select()
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.endpointId, endpoint.id)),
    ).toEqual([])
    expect(await db.select().from(events).where(eq(events.id, attempt.eventId))).toHaveLength(1)
  })
})
