import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { connectionHelpers } from '../../test/connections.ts'
import { startTestServer } from '../../test/server.ts'
import { startReceiver } from '../../test/webhooks.ts'
import { sendWebhook } from './send.ts'
import { signWebhook } from './signing.ts'

// The operator's default: no private network allowed.
const server = await startTestServer({}, { worker: true })
const { request } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)

/** A listener on every loopback address (IPv4 and IPv6) that counts the connections it gets. */
async function startVictim() {
  let connections = 0
  const victim = createServer((_, response) => response.end('secret internal data'))
  victim.on('connection', () => {
    connections += 1
  })
  await new Promise<void>((resolve, reject) => {
    victim.once('error', reject)
    victim.listen(0, '::', () => resolve())
  })
  afterAll(() => new Promise<void>((resolve) => victim.close(() => resolve())))
  return {
    port: (victim.address() as AddressInfo).port,
    connections: () => connections,
  }
}

const victim = await startVictim()
const port = victim.port

const message = () => {
  const body = JSON.stringify({ id: 'evt_ssrf', type: 'webhook.test', data: {} })
  return {
    body,
    headers: signWebhook({
      id: 'evt_ssrf',
      timestamp: new Date(),
      body,
      secrets: [`whsec_${Buffer.alloc(32, 1).toString('base64')}`],
    }),
  }
}
const send = (url: string, allowedNetworks: string[] = []) =>
  sendWebhook(url, message(), { policy: { allowedNetworks }, timeoutSeconds: 5 })

/** Loopback and unspecified addresses in every notation the URL parser accepts. */
const LOOPBACK = [
  `http://127.0.0.1:${port}/`,
  `http://127.1:${port}/`,
  `http://127.0.1:${port}/`,
  `http://2130706433:${port}/`,
  `http://017700000001:${port}/`,
  `http://0177.0.0.1:${port}/`,
  `http://0x7f000001:${port}/`,
  `http://0x7f.0x0.0x0.0x1:${port}/`,
  `http://127.000.000.001:${port}/`,
  `http://[::1]:${port}/`,
  `http://[0:0:0:0:0:0:0:1]:${port}/`,
  `http://[::ffff:127.0.0.1]:${port}/`,
  `http://[::ffff:7f00:1]:${port}/`,
  `http://0.0.0.0:${port}/`,
  `http://0:${port}/`,
  `http://[::]:${port}/`,
  `https://127.0.0.1:${port}/`,
]

/** Other networks a server must never reach for a customer: private, link-local, CGNAT, multicast. */
const INTERNAL = [
  'http://10.0.0.1/',
  'http://172.16.5.4/',
  'http://192.168.1.1/',
  'http://169.254.169.254/latest/meta-data/',
  'http://[fe80::1]/',
  'http://[fc00::1]/',
  'http://[fd12:3456::1]/',
  'http://100.64.0.1/',
  'http://224.0.0.1/',
  'http://[ff02::1]/',
  'http://255.255.255.255/',
  'http://[::ffff:10.0.0.1]/',
  'http://[64:ff9b::a9fe:a9fe]/',
]

describe('SSRF protection of webhook deliveries', () => {
  it('refuses loopback in every notation without connecting', async () => {
    for (const url of LOOPBACK) {
      const result = await send(url)
      expect(result.statusCode, url).toBeNull()
      expect(result.error, url).toMatch(/private, loopback or reserved address/)
    }
    expect(victim.connections()).toBe(0)
  })

  it('refuses private, link-local, carrier-grade NAT and multicast addresses', async () => {
    for (const url of INTERNAL) {
      const result = await send(url)
      expect(result.error, url).toMatch(/private, loopback or reserved address/)
      // Refused before any connection: no network timeout.
      expect(result.durationMs, url).toBeLessThan(1000)
    }
  })

  it('refuses names that resolve to loopback', async () => {
    const result = await send(`http://localhost:${port}/`)
    expect(result.error).toMatch(/localhost resolves to .*private, loopback or reserved/)
    expect(victim.connections()).toBe(0)
  })

  it('checks every redirect: a public-looking hop cannot send the request inward', async () => {
    // The redirector stands for a public server: its own address is allowed, nothing else.
    const targets = [
      `http://127.0.0.1:${port}/`,
      `http://[::1]:${port}/`,
      `http://localhost:${port}/`,
      `http://2130706433:${port}/`,
      `http://169.254.169.254/`,
    ]
    const redirector = await startReceiver(
      (received) => (response) =>
        response.writeHead(307, { location: targets[Number(received.url.slice(1))] ?? '/' }).end(),
      { host: '127.0.0.2' },
    )
    const base = redirector.url.replace(/\/hook$/, '')
    for (const [index, target] of targets.entries()) {
      const result = await send(`${base}/${index}`, ['127.0.0.2/32'])
      expect(result.statusCode, target).toBeNull()
      expect(result.error, target).toMatch(/private, loopback or reserved address/)
    }
    expect(redirector.received).toHaveLength(targets.length)
    expect(victim.connections()).toBe(0)
  })

  it('refuses private URLs for endpoints, and a name resolving to loopback at delivery', async () => {
    const tenant = await tenantWithProfile()
    for (const url of [...LOOPBACK.filter((url) => url.startsWith('http:')), ...INTERNAL]) {
      const response = await request('/v1/webhook-endpoints', {
        token: tenant.apiKey,
        json: { url },
      })
      expect(response.status, url).toBe(422)
      expect(await response.json()).toMatchObject({
        issues: [{ path: ['url'], code: 'address_not_allowed' }],
      })
    }

    // A name is only known to be internal when it is resolved, at delivery.
    const created = await request('/v1/webhook-endpoints', {
      token: tenant.apiKey,
      json: { url: `http://localhost:${port}/hook` },
    })
    expect(created.status).toBe(201)
    const endpoint = (await created.json()) as { id: string }
    const test = await request(`/v1/webhook-endpoints/${endpoint.id}/test`, {
      token: tenant.apiKey,
      method: 'POST',
    })
    expect(await test.json()).toMatchObject({
      succeeded: false,
      statusCode: null,
      error: expect.stringMatching(/private, loopback or reserved address/),
    })

    await connectPersonalAccount(tenant)
    let attempts: { outcome: string; error: string | null }[] = []
    for (let i = 0; i < 100 && attempts.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      attempts = (
        (await (
          await request(`/v1/webhook-endpoints/${endpoint.id}/attempts`, { token: tenant.apiKey })
        ).json()) as { data: typeof attempts }
      ).data
    }
    expect(attempts[0]).toMatchObject({
      outcome: 'failed',
      error: expect.stringMatching(/localhost resolves to .*WEBHOOK_ALLOWED_NETWORKS/),
    })
    expect(victim.connections()).toBe(0)
  })
})
