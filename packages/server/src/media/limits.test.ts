import { afterAll, describe, expect, it } from 'vitest'
import { fileForm, makeNoisyPNG, mediaTestConfig } from '../../test/media.ts'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { mediaUploads } from '../db/schema/index.ts'
import { cleanUpMedia } from './cleanup.ts'

const MAX_FILE_BYTES = 64 * 1024
const QUOTA_BYTES = 100 * 1024
const mediaConfig = await mediaTestConfig({
  maxFileBytes: MAX_FILE_BYTES,
  workspaceQuotaBytes: QUOTA_BYTES,
  uploadPartBytes: 16 * 1024,
})
const server = await startTestServer({ media: mediaConfig })
const { request } = server
const app = server.scheduler.app
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)

/** A body of `totalBytes` that counts how much of it the server pulled. */
function meteredBody(totalBytes: number, chunkBytes = 8 * 1024) {
  const meter = { pulled: 0 }
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (meter.pulled >= totalBytes) return controller.close()
      meter.pulled += chunkBytes
      controller.enqueue(new Uint8Array(chunkBytes).fill(0x41))
    },
  })
  return { stream, meter }
}

const post = (token: string, body: ReadableStream<Uint8Array> | FormData, headers = {}) =>
  app.request('/v1/media', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...headers },
    body,
    duplex: 'half',
  } as RequestInit)

describe('media limits', () => {
  it('refuse an oversized upload body before reading it fully, with or without Content-Length', async () => {
    const tenant = await server.createTenant()
    const boundary = 'x-boundary'
    const head = new TextEncoder().encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`,
    )
    const total = 16 * 1024 * 1024
    const { stream: filler, meter } = meteredBody(total)
    const reader = filler.getReader()
    let sentHead = false
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (!sentHead) {
          sentHead = true
          return controller.enqueue(head)
        }
        const { value, done } = await reader.read()
        if (done) return controller.close()
        controller.enqueue(value)
      },
    })
    const response = await post(tenant.apiKey, body, {
      'content-type': `multipart/form-data; boundary=${boundary}`,
    })
    expect(response.status).toBe(413)
    expect(await response.json()).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      maxBytes: MAX_FILE_BYTES,
    })
    // The server stopped soon after the limit (stream buffers hold a few chunks), far from the
    // 16 MiB sent.
    expect(meter.pulled).toBeLessThan(1024 * 1024)

    const declared = meteredBody(total)
    const refusedAtOnce = await post(tenant.apiKey, declared.stream, {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(total),
    })
    expect(refusedAtOnce.status).toBe(413)
    expect(declared.meter.pulled).toBeLessThanOrEqual(8 * 1024)
  })

  it('refuse resumable uploads over the file size, and parts larger than announced', async () => {
    const tenant = await server.createTenant()
    const tooBig = await request('/v1/media/uploads', {
      token: tenant.apiKey,
      json: { sizeBytes: MAX_FILE_BYTES + 1 },
    })
    expect(tooBig.status).toBe(413)
    expect(await tooBig.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })

    const session = (await (
      await request('/v1/media/uploads', { token: tenant.apiKey, json: { sizeBytes: 20_000 } })
    ).json()) as { id: string; partSizeBytes: number }
    const { stream, meter } = meteredBody(1024 * 1024)
    const part = await app.request(`/v1/media/uploads/${session.id}/parts/1`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${tenant.apiKey}` },
      body: stream,
      duplex: 'half',
    } as RequestInit)
    expect(part.status).toBe(413)
    expect(meter.pulled).toBeLessThan(512 * 1024)
  })

  it('keep a workspace within its quota, counting uploads in progress, with a clear 413', async () => {
    const tenant = await server.createTenant()
    const session = await request('/v1/media/uploads', {
      token: tenant.apiKey,
      json: { sizeBytes: 60_000 },
    })
    expect(session.status).toBe(201)
    const second = await request('/v1/media/uploads', {
      token: tenant.apiKey,
      json: { sizeBytes: 60_000 },
    })
    expect(second.status).toBe(413)
    expect(await second.json()).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      quotaBytes: QUOTA_BYTES,
      usedBytes: 60_000,
      requiredBytes: 60_000,
      detail: expect.stringContaining('MEDIA_WORKSPACE_QUOTA_BYTES'),
    })

    const image = await makeNoisyPNG(160, 120)
    expect(image.length).toBeGreaterThan(QUOTA_BYTES - 60_000)
    const refused = await post(tenant.apiKey, fileForm(image, 'noise.png') as never)
    expect(refused.status).toBe(413)
    expect(await refused.json()).toMatchObject({ code: 'QUOTA_EXCEEDED' })

    // An abandoned upload frees its bytes; another workspace has its own quota.
    const { id } = (await session.json()) as { id: string }
    expect(
      (await request(`/v1/media/uploads/${id}`, { method: 'DELETE', token: tenant.apiKey })).status,
    ).toBe(204)
    const accepted = await post(tenant.apiKey, fileForm(image, 'noise.png') as never)
    expect(accepted.status).toBe(201)
  })

  it('let the clean-up job remove expired uploads and their parts', async () => {
    const tenant = await server.createTenant()
    const session = (await (
      await request('/v1/media/uploads', { token: tenant.apiKey, json: { sizeBytes: 20_000 } })
    ).json()) as { id: string }
    const part = await app.request(`/v1/media/uploads/${session.id}/parts/1`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${tenant.apiKey}` },
      body: new Uint8Array(16 * 1024),
    })
    expect(part.status).toBe(200)
    await db.update(mediaUploads).set({ expiresAt: new Date(Date.now() - 1000) })
    const services = {
      db,
      config: { ...server.scheduler.config, media: mediaConfig },
      media: (await import('./media-services.ts')).createMediaServices({
        config: { media: mediaConfig, publicURL: 'http://post-scheduler.test' },
        keys: [new Uint8Array(32)],
      }),
      logger: server.scheduler.logger,
    }
    const result = await cleanUpMedia(services)
    expect(result.expiredUploads).toBeGreaterThanOrEqual(1)
    expect(result.objects).toBeGreaterThanOrEqual(1)
    expect(
      (await request(`/v1/media/uploads/${session.id}`, { token: tenant.apiKey })).status,
    ).toBe(404)
  })
})
