import { mkdtemp, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '@post-scheduler/server'
import { makeImage, makeNoisyPNG, startReceiver } from '@post-scheduler/server/testing'
import { afterAll, describe, expect, it, onTestFinished } from 'vitest'
import {
  MediaUploadError,
  type Post,
  type UploadProgress,
  verifyWebhook,
  type WebhookEvent,
} from '../src/index.ts'
import { uploadFromPath } from '../src/node.ts'
import { startSDKTestServer } from './server.ts'

const publishing = {
  ...loadConfig({}).publishing,
  deadlineSeconds: 6,
  concurrency: 4,
  maxAttempts: 2,
  sweepIntervalSeconds: 1,
}
// Small parts, so a resumable upload of a few hundred kilobytes has several; imports may reach
// the loopback listener below (a stand-in for a public file host).
const media = {
  ...loadConfig({}).media,
  localDir: await mkdtemp(join(tmpdir(), 'post-scheduler-media-')),
  uploadPartBytes: 64 * 1024,
  importAllowedNetworks: ['127.0.0.1/32'],
}
// Webhook receivers listen on loopback, which the operator allows here (a self-hosted receiver).
const webhooks = { allowedNetworks: ['127.0.0.0/8'], timeoutSeconds: 5, concurrency: 4 }
const server = await startSDKTestServer({ publishing, media, webhooks }, { worker: true })

const picture = await makeImage('jpeg', 32, 32)
const fileHost = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': picture.byteLength })
  response.end(picture)
})
await new Promise<void>((resolve) => fileHost.listen(0, '127.0.0.1', resolve))
afterAll(() => new Promise((resolve) => fileHost.close(resolve)))
const fileHostURL = `http://127.0.0.1:${(fileHost.address() as AddressInfo).port}`

async function waitForPost(get: () => Promise<Post>, done: (post: Post) => boolean) {
  const deadline = Date.now() + 40_000
  let post = await get()
  while (!done(post)) {
    if (Date.now() > deadline) {
      throw new Error(`the post did not get there in time: ${JSON.stringify(post, null, 2)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
    post = await get()
  }
  return post
}

describe('the whole flow through the SDK against a real server', () => {
  it('creates a profile, connects a sandbox account, uploads media, schedules, publishes, lists and verifies the webhook', {
    timeout: 60_000,
  }, async () => {
    const { client } = await server.createTenant()
    const receiver = await startReceiver()
    onTestFinished(() => receiver.close())
    const endpoint = await client.webhookEndpoints.create({
      url: receiver.url,
      eventTypes: ['post.published'],
    })
    expect(endpoint.secret).toMatch(/^whsec_/)

    const profile = await client.profiles.create({ name: 'Acme Bakery', externalId: 'customer-42' })
    expect(profile).toMatchObject({
      name: 'Acme Bakery',
      externalId: 'customer-42',
      isDefault: false,
    })

    const account = await server.connectSandboxAccount(client, profile.id)
    expect(account).toMatchObject({ platform: 'sandbox', profileId: profile.id })
    expect((await client.accounts.get(account.id)).id).toBe(account.id)

    const progress: UploadProgress[] = []
    const image = await makeImage('png', 64, 48)
    const media = await client.media.upload(new Blob([new Uint8Array(image)]), {
      filename: 'croissant.png',
      altText: 'A croissant',
      profileId: profile.id,
      onProgress: (update) => progress.push(update),
    })
    expect(media).toMatchObject({ kind: 'image', mimeType: 'image/png', altText: 'A croissant' })
    expect(progress.at(-1)?.percent).toBe(1)

    const scheduledAt = new Date(Date.now() + 1_500).toISOString()
    const created = await client.posts.create({
      profileId: profile.id,
      accountIds: [account.id],
      content: { text: 'Fresh croissants at 7', mediaIds: [media.id] },
      scheduledAt,
      timezone: 'Europe/Paris',
    })
    expect(created.status).toBe('scheduled')

    const published = await waitForPost(
      () => client.posts.get(created.id),
      (post) => post.status === 'published',
    )
    expect(published.publications[0]?.status).toBe('published')
    const onSandbox = await client.sandbox.posts.list().toArray()
    expect(onSandbox).toContainEqual(
      expect.objectContaining({
        text: 'Fresh croissants at 7',
        media: [expect.objectContaining({ mimeType: 'image/png' })],
      }),
    )

    // The webhook, verified as a receiver would: raw body, headers, the endpoint's secret.
    const [delivery] = await receiver.waitFor(1)
    const event = await verifyWebhook(
      delivery?.body as string,
      delivery?.headers as Record<string, string>,
      endpoint.secret,
    )
    if (event.type !== 'post.published') throw new Error(`unexpected ${event.type}`)
    expect(event.data).toMatchObject({ postId: created.id, status: 'published' })
    expect(event.id).toBe(delivery?.headers['webhook-id'])
    const forged = delivery?.body.replace(created.id, 'post_forged') as string
    await expect(
      verifyWebhook(forged, delivery?.headers as Record<string, string>, endpoint.secret),
    ).rejects.toMatchObject({ code: 'WEBHOOK_INVALID' })
  })

  it('manages webhook endpoints: events, test, deliveries, attempts, rotation and redelivery', async () => {
    const { client } = await server.createTenant()
    const receiver = await startReceiver()
    onTestFinished(() => receiver.close())
    const endpoint = await client.webhookEndpoints.create({ url: receiver.url })
    const profile = await client.profiles.create({ name: 'Hooks' })
    const account = await server.connectSandboxAccount(client, profile.id)

    const tested = await client.webhookEndpoints.test(endpoint.id)
    expect(tested).toMatchObject({ succeeded: true, statusCode: 200 })
    const [testDelivery] = await receiver.waitFor(1)
    const testEvent: WebhookEvent = await verifyWebhook(
      testDelivery?.body as string,
      testDelivery?.headers as Record<string, string>,
      endpoint.secret,
    )
    expect(testEvent.id).toBe(tested.webhookId)

    const events = await client.events.list({ type: 'account.connected' }).toArray()
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'account.connected',
        data: expect.objectContaining({ accountId: account.id }),
      }),
    )
    const connected = events[0]
    if (!connected) throw new Error('no account.connected event')
    await receiver.waitFor(2)
    const deliveries = await client.webhookEndpoints.deliveries(endpoint.id).toArray()
    expect(deliveries.map((delivery) => delivery.eventId)).toContain(connected.id)
    expect(await client.webhookEndpoints.attempts(endpoint.id).toArray()).not.toEqual([])

    const rotated = await client.webhookEndpoints.rotateSecret(endpoint.id, {
      gracePeriodSeconds: 3600,
    })
    expect(rotated.secret).not.toBe(endpoint.secret)
    const before = receiver.received.length
    await client.webhookEndpoints.redeliver(endpoint.id, { eventId: connected.id })
    const [redelivered] = (await receiver.waitFor(before + 1)).slice(before)
    const headers = redelivered?.headers as Record<string, string>
    expect(headers['webhook-id']).toBe(connected.id)
    // During the grace period either secret verifies.
    for (const secret of [endpoint.secret, rotated.secret]) {
      expect((await verifyWebhook(redelivered?.body as string, headers, secret)).id).toBe(
        connected.id,
      )
    }

    const updated = await client.webhookEndpoints.update(endpoint.id, { enabled: false })
    expect(updated.enabled).toBe(false)
    expect((await client.webhookEndpoints.list().toArray()).map((found) => found.id)).toEqual([
      endpoint.id,
    ])
    await client.webhookEndpoints.delete(endpoint.id)
    await expect(client.webhookEndpoints.get(endpoint.id)).rejects.toMatchObject({ status: 404 })
  })

  it('exercises a person’s data rights with their session token, and the workspace’s usage', async () => {
    const tenant = await server.createTenant()
    const person = server.clientFor({ token: tenant.person.token })

    const policy = await person.privacy.policy()
    expect(policy.version).toBeGreaterThan(0)
    const consents = await person.privacy.consents.set({
      purpose: 'usage_analytics',
      granted: false,
    })
    expect(await person.privacy.consents.get()).toEqual(consents)
    const held = await person.privacy.data()
    expect(JSON.stringify(held.data)).toContain(tenant.person.email)

    const started = await person.privacy.exports.create()
    expect(started.status).toMatch(/pending|ready/)
    expect((await person.privacy.exports.list()).data.map((found) => found.id)).toContain(
      started.id,
    )
    expect((await person.privacy.exports.get(started.id)).id).toBe(started.id)

    const deletion = await person.privacy.deletion.request({ password: tenant.person.password })
    expect(deletion.status).toBe('scheduled')
    expect((await person.privacy.deletion.get()).id).toBe(deletion.id)
    expect((await person.privacy.deletion.cancel()).status).toBe('canceled')

    expect(await tenant.client.privacy.deletePostHistory()).toEqual({ deleted: 0 })
    expect((await tenant.client.usage.get()).data).toEqual(expect.any(Array))
  })

  it('signs a person up, in and out with an anonymous client, then works with their session', async () => {
    const anonymous = server.clientFor({})
    expect(await anonymous.health.check()).toEqual({ status: 'ok' })
    const email = `sdk-${crypto.randomUUID()}@example.com`
    const password = 'correct horse battery staple'
    await anonymous.users.signUp({ name: 'Ada', email, password, dateOfBirth: '1990-01-01' })
    await anonymous.users.verifyEmail({ token: server.mail.codeFor(email, /Confirm your email/) })
    const signedIn = await anonymous.sessions.create({ email, password })

    const person = server.clientFor({ token: signedIn.token })
    expect(await person.me.get()).toMatchObject({ email, name: 'Ada' })
    expect(await person.me.update({ name: 'Ada L.' })).toMatchObject({ name: 'Ada L.' })
    const workspace = await person.workspaces.create({ name: 'Ada’s' })
    expect((await person.workspaces.list()).data.map((found) => found.id)).toContain(workspace.id)
    expect((await person.sessions.list()).data).toHaveLength(1)
    await person.sessions.revokeCurrent()
    await expect(person.me.get()).rejects.toMatchObject({ kind: 'authentication' })
  })

  it('lists posts page by page with for await, toArray and the first page', async () => {
    const { client } = await server.createTenant()
    const profile = await client.profiles.create({ name: 'Pages' })
    const account = await server.connectSandboxAccount(client, profile.id)
    const ids: string[] = []
    for (let index = 0; index < 5; index++) {
      const post = await client.posts.create({
        profileId: profile.id,
        accountIds: [account.id],
        content: { text: `Draft ${index}` },
        draft: true,
      })
      ids.push(post.id)
    }

    const first = await client.posts.list({ limit: 2 })
    expect(first.data).toHaveLength(2)
    expect(first.nextCursor).toEqual(expect.any(String))

    const seen: string[] = []
    for await (const post of client.posts.list({ limit: 2, profileId: profile.id }))
      seen.push(post.id)
    expect(seen.sort()).toEqual([...ids].sort())

    const pages = []
    for await (const page of client.posts.list({ limit: 2 }).pages()) pages.push(page.data.length)
    expect(pages).toEqual([2, 2, 1])

    expect(await client.posts.list({ limit: 2 }).toArray({ limit: 3 })).toHaveLength(3)
  })

  it('uploads large files through the resumable upload API, from a stream and from a path', async () => {
    const { client } = await server.createTenant()
    const noisy = await makeNoisyPNG(240, 180)
    expect(noisy.byteLength).toBeGreaterThan(64 * 1024)

    const progress: number[] = []
    const fromBlob = await client.media.upload(new Blob([new Uint8Array(noisy)]), {
      filename: 'noise.png',
      resumable: true,
      onProgress: ({ transferredBytes }) => progress.push(transferredBytes),
    })
    expect(fromBlob).toMatchObject({ source: 'resumable', mimeType: 'image/png' })
    expect(progress.at(-1)).toBe(noisy.byteLength)

    const stream = new Blob([new Uint8Array(noisy)]).stream()
    const fromStream = await client.media.upload(stream, {
      filename: 'noise.png',
      sizeBytes: noisy.byteLength,
    })
    expect(fromStream).toMatchObject({ source: 'resumable', sha256: fromBlob.sha256 })

    const path = join(tmpdir(), `sdk-${crypto.randomUUID()}.png`)
    await writeFile(path, noisy)
    const fromPath = await uploadFromPath(client, path, { resumableThresholdBytes: 1024 })
    expect(fromPath).toMatchObject({ source: 'resumable', filename: path.split('/').at(-1) })
  })

  it('resumes an interrupted resumable upload, sending only the missing parts', async () => {
    const { client } = await server.createTenant()
    const noisy = new Blob([new Uint8Array(await makeNoisyPNG(240, 180))])
    const upload = await client.media.uploads.create({ sizeBytes: noisy.size, filename: 'n.png' })
    expect(upload.partCount).toBeGreaterThanOrEqual(2)
    await client.media.uploads.sendPart(upload.id, 1, noisy.slice(0, upload.partSizeBytes))

    const sent: number[] = []
    const media = await client.media.upload(noisy, {
      uploadId: upload.id,
      onProgress: ({ transferredBytes }) => sent.push(transferredBytes),
    })
    expect(media.source).toBe('resumable')
    // The progress starts from the part the server already had.
    expect(sent[0]).toBeGreaterThanOrEqual(upload.partSizeBytes)

    const aborted = new AbortController()
    const second = await client.media.uploads.create({ sizeBytes: noisy.size })
    await client.media.uploads.cancel(second.id)
    const failure = await client.media
      .upload(noisy, { uploadId: second.id })
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(Error)
    aborted.abort()
    const stopped = await client.media
      .upload(noisy, { resumable: true, concurrency: 1 }, { signal: aborted.signal })
      .catch((error: unknown) => error)
    expect(stopped).not.toBeInstanceOf(MediaUploadError)
  })

  it('imports media from a URL, mints a profile token and uses it from a browser-like client', async () => {
    const { client } = await server.createTenant()
    const profile = await client.profiles.create({ name: 'Widget' })
    const imported = await client.media.import({
      url: `${fileHostURL}/photo.jpg`,
      profileId: profile.id,
    })
    expect(imported).toMatchObject({
      source: 'import',
      mimeType: 'image/jpeg',
      profileId: profile.id,
    })

    const { token, scopes } = await client.profiles.createToken(profile.id, { scopes: ['read'] })
    expect(scopes).toEqual(['read'])
    // A page's token source: the backend mints a profile token, the page caches it.
    const asked: boolean[] = []
    let cached: string | undefined = token
    let backendWorks = true
    const browser = server.clientFor({
      getToken: async ({ refresh }) => {
        asked.push(refresh)
        if ((refresh || !cached) && backendWorks) {
          cached = (await client.profiles.createToken(profile.id, { scopes: ['read'] })).token
        }
        return cached as string
      },
    })
    expect(await browser.accounts.list().toArray()).toEqual([])
    expect(asked).toEqual([false])

    // The cached token was revoked (or expired): on the 401 the client asks for a fresh one.
    await client.profiles.revokeTokens(profile.id)
    asked.length = 0
    expect(await browser.accounts.list().toArray()).toEqual([])
    expect(asked).toEqual([false, true])
    // A POST is sent again whole, with its body.
    await client.profiles.revokeTokens(profile.id)
    asked.length = 0
    const validation = await browser.media.validate({
      mediaIds: [imported.id],
      platforms: ['sandbox'],
    })
    expect(validation).toMatchObject({ valid: true })
    expect(asked).toEqual([false, true])

    // When the fresh token fails too, the AuthenticationError surfaces; no loop.
    await client.profiles.revokeTokens(profile.id)
    backendWorks = false
    asked.length = 0
    await expect(browser.accounts.list()).rejects.toMatchObject({ status: 401 })
    expect(asked).toEqual([false, true])
  })
})
