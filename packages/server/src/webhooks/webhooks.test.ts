import { Webhook, WebhookVerificationError } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { testPublishing } from '../../test/config.ts'
import { connectionHelpers, type Tenant } from '../../test/connections.ts'
import { startTestServer } from '../../test/server.ts'
import { type ReceivedRequest, startReceiver } from '../../test/webhooks.ts'

// Receivers in these tests listen on loopback, which the operator allows here (self-hosted setup).
const server = await startTestServer(
  {
    publishing: testPublishing(),
    webhooks: { allowedNetworks: ['127.0.0.0/8', '::1/128'], timeoutSeconds: 5, concurrency: 4 },
  },
  { worker: true },
)
const { request } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)

type Endpoint = {
  id: string
  url: string
  eventTypes: string[]
  profileIds: string[]
  enabled: boolean
  disabledReason: string | null
  previousSecretExpiresAt: string | null
  secret?: string
}
type Event = { id: string; type: string; data: Record<string, unknown> }

const call = (tenant: Tenant, path: string, method = 'GET', json?: unknown) =>
  request(path, { token: tenant.apiKey, method, json })

async function createEndpoint(tenant: Tenant, body: Record<string, unknown>) {
  const response = await call(tenant, '/v1/webhook-endpoints', 'POST', body)
  expect(response.status, await response.clone().text()).toBe(201)
  return (await response.json()) as Endpoint & { secret: string }
}

async function schedulePost(tenant: Tenant, accountId: string) {
  const response = await call(tenant, '/v1/posts', 'POST', {
    accountIds: [accountId],
    content: { text: `Hello ${crypto.randomUUID()}` },
    scheduledAt: new Date(Date.now() + 86_400_000).toISOString(),
  })
  expect(response.status, await response.clone().text()).toBe(201)
  return (await response.json()) as { id: string }
}

const headersOf = (received: ReceivedRequest) => ({
  'webhook-id': String(received.headers['webhook-id']),
  'webhook-timestamp': String(received.headers['webhook-timestamp']),
  'webhook-signature': String(received.headers['webhook-signature']),
})

/** Verifies a received request with the Standard Webhooks reference implementation. */
const verify = (secret: string, received: ReceivedRequest) =>
  new Webhook(secret).verify(received.body, headersOf(received)) as Event

async function setUp() {
  const tenant = await tenantWithProfile()
  const { accountId } = await connectPersonalAccount(tenant)
  return { tenant, accountId }
}

describe('webhook delivery', () => {
  it('sends each event once, signed so that the standardwebhooks package verifies it, with the event log’s payload', async () => {
    const { tenant, accountId } = await setUp()
    const receiver = await startReceiver()
    const endpoint = await createEndpoint(tenant, { url: receiver.url })
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)

    const post = await schedulePost(tenant, accountId)
    const [received] = await receiver.waitFor(1)
    if (!received) throw new Error('nothing received')
    expect(received.method).toBe('POST')
    expect(received.headers['content-type']).toBe('application/json')
    const payload = verify(endpoint.secret, received)
    expect(payload).toMatchObject({ type: 'post.scheduled', data: { postId: post.id } })
    expect(received.headers['webhook-id']).toBe(payload.id)

    const { data } = (await (await call(tenant, '/v1/events?type=post.scheduled')).json()) as {
      data: Event[]
    }
    expect(data).toEqual([JSON.parse(received.body)])

    // Any change to the bytes breaks the signature.
    expect(() =>
      new Webhook(endpoint.secret).verify(
        received.body.replace('post.', 'p0st.'),
        headersOf(received),
      ),
    ).toThrow(WebhookVerificationError)

    // Once: a success is not sent again.
    await new Promise((resolve) => setTimeout(resolve, 2500))
    expect(receiver.received).toHaveLength(1)
    const deliveries = (await (
      await call(tenant, `/v1/webhook-endpoints/${endpoint.id}/deliveries`)
    ).json()) as { data: { eventId: string; status: string; attempts: number }[] }
    expect(deliveries.data).toEqual([
      expect.objectContaining({ eventId: payload.id, status: 'succeeded', attempts: 1 }),
    ])
    const attempts = (await (
      await call(tenant, `/v1/webhook-endpoints/${endpoint.id}/attempts`)
    ).json()) as { data: Record<string, unknown>[] }
    expect(attempts.data).toEqual([
      expect.objectContaining({
        eventId: payload.id,
        outcome: 'succeeded',
        statusCode: 200,
        responseBody: 'answer 200',
        durationMs: expect.any(Number),
        error: null,
      }),
    ])
  })

  it('signs with both secrets during a rotation’s grace period, then with the new one only', async () => {
    const { tenant, accountId } = await setUp()
    const receiver = await startReceiver()
    const endpoint = await createEndpoint(tenant, { url: receiver.url })
    const rotated = await call(
      tenant,
      `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`,
      'POST',
      {
        gracePeriodSeconds: 3600,
      },
    )
    expect(rotated.status, await rotated.clone().text()).toBe(200)
    const { secret, previousSecretExpiresAt } = (await rotated.json()) as Endpoint & {
      secret: string
    }
    expect(secret).not.toBe(endpoint.secret)
    expect(Date.parse(previousSecretExpiresAt ?? '') - Date.now()).toBeGreaterThan(3500_000)

    await schedulePost(tenant, accountId)
    const [during] = await receiver.waitFor(1)
    if (!during) throw new Error('nothing received')
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2)
    // A receiver still on the old secret and one already on the new both accept it.
    expect(verify(endpoint.secret, during).type).toBe('post.scheduled')
    expect(verify(secret, during).type).toBe('post.scheduled')

    const ended = await call(tenant, `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, 'POST', {
      gracePeriodSeconds: 0,
    })
    const { secret: newest } = (await ended.json()) as { secret: string }
    await schedulePost(tenant, accountId)
    const [, after] = await receiver.waitFor(2)
    if (!after) throw new Error('nothing received')
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1)
    expect(verify(newest, after).type).toBe('post.scheduled')
    expect(() => verify(secret, after)).toThrow(WebhookVerificationError)
    expect(() => verify(endpoint.secret, after)).toThrow(WebhookVerificationError)
  })

  it('sends only the event types and profiles an endpoint asks for', async () => {
    const { tenant, accountId } = await setUp()
    const otherProfile = (await (
      await call(tenant, '/v1/profiles', 'POST', { name: 'Brand', externalId: crypto.randomUUID() })
    ).json()) as { id: string }
    const canceledOnly = await startReceiver()
    const otherBrand = await startReceiver()
    const everything = await startReceiver()
    await createEndpoint(tenant, { url: canceledOnly.url, eventTypes: ['post.canceled'] })
    await createEndpoint(tenant, { url: otherBrand.url, profileIds: [otherProfile.id] })
    await createEndpoint(tenant, { url: everything.url })

    const post = await schedulePost(tenant, accountId)
    expect((await call(tenant, `/v1/posts/${post.id}/cancel`, 'POST')).status).toBe(200)
    await everything.waitFor(2)
    const [canceled] = await canceledOnly.waitFor(1)
    expect(JSON.parse(canceled?.body ?? '{}')).toMatchObject({ type: 'post.canceled' })
    await new Promise((resolve) => setTimeout(resolve, 2000))
    expect(canceledOnly.received).toHaveLength(1)
    expect(otherBrand.received).toHaveLength(0)
    // Deliveries run side by side: order is not promised (the payload's timestamp is).
    expect(everything.received.map((received) => JSON.parse(received.body).type).sort()).toEqual([
      'post.canceled',
      'post.scheduled',
    ])
  })

  it('sends a signed test event on request and says what the receiver answered', async () => {
    const { tenant } = await setUp()
    const receiver = await startReceiver(() => 202)
    const endpoint = await createEndpoint(tenant, { url: receiver.url, enabled: false })
    const response = await call(tenant, `/v1/webhook-endpoints/${endpoint.id}/test`, 'POST')
    expect(response.status).toBe(200)
    const result = (await response.json()) as Record<string, unknown>
    expect(result).toMatchObject({
      succeeded: true,
      statusCode: 202,
      responseBody: 'answer 202',
      error: null,
    })
    const [received] = receiver.received
    if (!received) throw new Error('nothing received')
    expect(verify(endpoint.secret, received)).toMatchObject({
      id: result.webhookId,
      type: 'webhook.test',
      data: { endpointId: endpoint.id },
    })
    // A test event is not an event of the workspace.
    const log = (await (await call(tenant, '/v1/events')).json()) as { data: Event[] }
    expect(log.data.map((event) => event.type)).toEqual(['account.connected'])
  })

  it('redelivers one event, or everything since a time, with the same webhook-id', async () => {
    const { tenant, accountId } = await setUp()
    const receiver = await startReceiver()
    const endpoint = await createEndpoint(tenant, { url: receiver.url })
    const since = new Date().toISOString()
    await schedulePost(tenant, accountId)
    await schedulePost(tenant, accountId)
    const first = await receiver.waitFor(2)
    const ids = first.map((received) => received.headers['webhook-id'])

    const one = await call(tenant, `/v1/webhook-endpoints/${endpoint.id}/redeliver`, 'POST', {
      eventId: ids[0],
    })
    expect(await one.json()).toEqual({ queued: 1 })
    const [, , again] = await receiver.waitFor(3)
    expect(again?.headers['webhook-id']).toBe(ids[0])
    // The receiver has the request before the worker records the answer; a delivery still being
    // attempted is left to finish by `redeliver`, so wait until none is.
    for (let i = 0; i < 100; i++) {
      const deliveries = (await (
        await call(tenant, `/v1/webhook-endpoints/${endpoint.id}/deliveries`)
      ).json()) as { data: { status: string }[] }
      if (deliveries.data.every((delivery) => delivery.status !== 'delivering')) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }

    const all = await call(tenant, `/v1/webhook-endpoints/${endpoint.id}/redeliver`, 'POST', {
      since,
    })
    // Both post.scheduled events; the account.connected before `since` is not sent again.
    expect(await all.json()).toEqual({ queued: 2 })
    const everything = await receiver.waitFor(5)
    expect(new Set(everything.slice(3).map((received) => received.headers['webhook-id']))).toEqual(
      new Set(ids),
    )

    const unknown = await call(tenant, `/v1/webhook-endpoints/${endpoint.id}/redeliver`, 'POST', {
      eventId: 'evt_nothing',
    })
    expect(unknown.status).toBe(404)
  })
})

describe('webhook endpoints', () => {
  it('shows the secret once, lists, changes, disables and deletes endpoints', async () => {
    const { tenant } = await setUp()
    const created = await createEndpoint(tenant, {
      url: 'https://hooks.example.com/a',
      description: 'CRM',
      eventTypes: ['post.published', 'post.failed'],
      profileIds: [tenant.profileId],
    })
    const fetched = (await (
      await call(tenant, `/v1/webhook-endpoints/${created.id}`)
    ).json()) as Endpoint
    expect(fetched).toMatchObject({
      url: 'https://hooks.example.com/a',
      eventTypes: ['post.published', 'post.failed'],
      profileIds: [tenant.profileId],
      enabled: true,
    })
    expect(JSON.stringify(fetched)).not.toContain('whsec_')
    const list = (await (await call(tenant, '/v1/webhook-endpoints')).json()) as {
      data: Endpoint[]
    }
    expect(list.data.map((endpoint) => endpoint.id)).toEqual([created.id])
    expect(JSON.stringify(list)).not.toContain('whsec_')

    const patched = await call(tenant, `/v1/webhook-endpoints/${created.id}`, 'PATCH', {
      url: 'https://hooks.example.com/b',
      eventTypes: [],
      enabled: false,
    })
    expect(patched.status).toBe(200)
    expect(await patched.json()).toMatchObject({
      url: 'https://hooks.example.com/b',
      eventTypes: [],
      enabled: false,
      disabledReason: 'manual',
    })
    const enabled = await call(tenant, `/v1/webhook-endpoints/${created.id}`, 'PATCH', {
      enabled: true,
    })
    expect(await enabled.json()).toMatchObject({ enabled: true, disabledReason: null })

    // A rotation without a body keeps the old secret signing for a day.
    const rotated = await call(tenant, `/v1/webhook-endpoints/${created.id}/rotate-secret`, 'POST')
    expect(rotated.status, await rotated.clone().text()).toBe(200)
    const { previousSecretExpiresAt } = (await rotated.json()) as Endpoint
    const graceMs = Date.parse(previousSecretExpiresAt ?? '') - Date.now()
    expect(graceMs).toBeGreaterThan(86_000_000)
    expect(graceMs).toBeLessThanOrEqual(86_400_000)
    const tooLong = await call(
      tenant,
      `/v1/webhook-endpoints/${created.id}/rotate-secret`,
      'POST',
      {
        gracePeriodSeconds: 30 * 86_400,
      },
    )
    expect(tooLong.status).toBe(422)

    const stranger = await tenantWithProfile()
    expect((await call(stranger, `/v1/webhook-endpoints/${created.id}`)).status).toBe(404)
    expect((await call(stranger, `/v1/webhook-endpoints/${created.id}`, 'DELETE')).status).toBe(404)
    expect((await call(tenant, `/v1/webhook-endpoints/${created.id}`, 'DELETE')).status).toBe(200)
    expect((await call(tenant, `/v1/webhook-endpoints/${created.id}`)).status).toBe(404)
  })

  it('refuses bad URLs, private addresses, unknown types and profiles, with every issue', async () => {
    const { tenant } = await setUp()
    const response = await call(tenant, '/v1/webhook-endpoints', 'POST', {
      url: 'http://10.0.0.5/hook',
      profileIds: ['prof_nobody'],
    })
    expect(response.status).toBe(422)
    expect(await response.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [
        { path: ['url'], code: 'address_not_allowed' },
        { path: ['profileIds', 0], code: 'unknown_profile' },
      ],
    })
    for (const body of [
      { url: 'ftp://hooks.example.com/' },
      { url: 'not a url' },
      { url: 'https://hooks.example.com/', eventTypes: ['post.exploded'] },
      { url: 'https://user:pass@hooks.example.com/' },
    ]) {
      const refused = await call(tenant, '/v1/webhook-endpoints', 'POST', body)
      expect(refused.status, JSON.stringify(body)).toBe(422)
    }
  })

  it('keeps a workspace to 50 endpoints, even when they are created at once', async () => {
    const { tenant } = await setUp()
    const results = await Promise.all(
      Array.from({ length: 52 }, (_, index) =>
        call(tenant, '/v1/webhook-endpoints', 'POST', {
          url: `https://hooks.example.com/${index}`,
        }),
      ),
    )
    const statuses = results.map((response) => response.status)
    expect(statuses.filter((status) => status === 201)).toHaveLength(50)
    expect(statuses.filter((status) => status === 409)).toHaveLength(2)
    const page = (await (await call(tenant, '/v1/webhook-endpoints?limit=100')).json()) as {
      data: Endpoint[]
    }
    expect(page.data).toHaveLength(50)
  })

  it('needs the write scope to change endpoints and refuses profile tokens', async () => {
    const { tenant } = await setUp()
    const readOnly = (await (
      await request('/v1/api-keys', {
        token: tenant.person.token,
        headers: { 'Post-Scheduler-Workspace': tenant.workspaceId },
        json: { name: 'read only', scopes: ['read'] },
      })
    ).json()) as { secret: string }
    const body = { url: 'https://hooks.example.com/' }
    const refused = await request('/v1/webhook-endpoints', { token: readOnly.secret, json: body })
    expect(refused.status).toBe(403)
    expect((await request('/v1/webhook-endpoints', { token: readOnly.secret })).status).toBe(200)
    const minted = (await (
      await call(tenant, `/v1/profiles/${tenant.profileId}/tokens`, 'POST', {
        scopes: ['read', 'write'],
      })
    ).json()) as { token: string }
    expect((await request('/v1/webhook-endpoints', { token: minted.token })).status).toBe(403)
  })
})
