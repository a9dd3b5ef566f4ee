import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { and, eq } from 'drizzle-orm'
import sharp from 'sharp'
import { afterAll, describe, expect, it } from 'vitest'
import {
  fileForm,
  GPS_TAG,
  makeImage,
  makeNoisyPNG,
  makePhoneJPEG,
  mediaTestConfig,
  readVideoFixture,
} from '../../test/media.ts'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { auditLog, media, mediaGarbage, mediaReferences, profiles } from '../db/schema/index.ts'

const mediaConfig = await mediaTestConfig({
  uploadPartBytes: 4096,
  importAllowedNetworks: ['127.0.0.2/32'],
})
const server = await startTestServer({ media: mediaConfig })
const { request } = server
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)

type Tenant = Awaited<ReturnType<typeof server.createTenant>>
interface MediaBody {
  id: string
  profileId: string
  kind: string
  mimeType: string
  sizeBytes: number
  sha256: string
  filename: string | null
  altText: string | null
  width: number | null
  height: number | null
  durationSeconds: number | null
  frameRate: number | null
  bitRate: number | null
  hasAudio: boolean | null
  container: string
  videoCodec: string | null
  audioCodec: string | null
  metadataRemoved: boolean
  url: string
  variants: { name: string; mimeType: string; width: number; height: number; url: string }[]
  usedBy?: { kind: string; refId: string }[]
}

const app = server.scheduler.app
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

function upload(tenantToken: string, form: FormData, query = '') {
  return app.request(`/v1/media${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenantToken}`, 'x-forwarded-for': '192.0.2.1' },
    body: form,
  })
}

async function uploaded(tenant: Tenant, bytes: Uint8Array, filename: string) {
  const response = await upload(tenant.apiKey, fileForm(bytes, filename))
  expect(response.status, await response.clone().text()).toBe(201)
  return (await response.json()) as MediaBody
}

/** Fetches a signed URL through the app (the public URL's origin is not listening). */
async function download(url: string) {
  const { pathname, search } = new URL(url)
  const response = await app.request(`${pathname}${search}`)
  expect(response.status).toBe(200)
  return Buffer.from(await response.arrayBuffer())
}

describe('uploading media', () => {
  it('stores PNG, JPEG, GIF and WebP images with their real type, size, dimensions and a thumbnail', async () => {
    const tenant = await server.createTenant()
    for (const [format, mimeType, kind] of [
      ['png', 'image/png', 'image'],
      ['jpeg', 'image/jpeg', 'image'],
      ['gif', 'image/gif', 'gif'],
      ['webp', 'image/webp', 'image'],
    ] as const) {
      const bytes = await makeImage(format, 64, 48)
      const body = await uploaded(tenant, bytes, `picture.${format === 'jpeg' ? 'jpg' : format}`)
      expect(body).toMatchObject({ kind, mimeType, width: 64, height: 48, container: format })
      const stored = await download(body.url)
      expect(stored.length).toBe(body.sizeBytes)
      expect(sha256(stored)).toBe(body.sha256)
      expect(body.variants).toEqual([
        expect.objectContaining({
          name: 'thumbnail',
          mimeType: 'image/webp',
          width: 64,
          height: 48,
        }),
      ])
      expect((await sharp(await download(body.variants[0]?.url ?? '')).metadata()).format).toBe(
        'webp',
      )
    }
  })

  it('reads an MP4’s container, codecs, duration, dimensions, frame rate, bit rate and audio, and keeps it byte for byte', async () => {
    const tenant = await server.createTenant()
    const bytes = await readVideoFixture('clip.mp4')
    const body = await uploaded(tenant, bytes, 'clip.mp4')
    expect(body).toMatchObject({
      kind: 'video',
      mimeType: 'video/mp4',
      container: 'mp4',
      width: 160,
      height: 90,
      durationSeconds: 1.2,
      frameRate: 25,
      videoCodec: 'avc1.64000c',
      audioCodec: 'mp4a.40.2',
      hasAudio: true,
      sizeBytes: bytes.length,
      sha256: sha256(bytes),
      variants: [],
    })
    expect(body.bitRate).toBe(Math.round((bytes.length * 8) / 1.2))
    expect((await download(body.url)).equals(bytes)).toBe(true)

    const mov = await uploaded(tenant, await readVideoFixture('clip.mov'), 'portrait.mov')
    expect(mov).toMatchObject({
      mimeType: 'video/quicktime',
      container: 'quicktime',
      width: 90,
      height: 160,
      durationSeconds: 0.6,
      frameRate: 30,
      hasAudio: false,
      audioCodec: null,
    })
  })

  it('takes files larger than the server-wide MAX_BODY_BYTES, which JSON bodies keep', async () => {
    const tenant = await server.createTenant()
    const large = await makeNoisyPNG(800, 700)
    expect(large.length).toBeGreaterThan(server.scheduler.config.maxBodyBytes)
    const body = await uploaded(tenant, large, 'large.png')
    expect(body).toMatchObject({ width: 800, height: 700, sizeBytes: large.length })
    const json = await request('/v1/media/import', {
      token: tenant.apiKey,
      json: { url: `https://example.com/${'a'.repeat(server.scheduler.config.maxBodyBytes)}` },
    })
    expect(json.status).toBe(413)
  })

  it('removes EXIF with GPS from the stored copy of a photo and turns it upright', async () => {
    const tenant = await server.createTenant()
    const original = await makePhoneJPEG()
    expect(GPS_TAG.some((tag) => original.includes(tag))).toBe(true)
    expect(original.includes('marker-copyright')).toBe(true)

    const body = await uploaded(tenant, original, 'holiday.jpg')
    // 40×20 with orientation 6 (rotate 90°) displays as 20×40.
    expect(body).toMatchObject({ width: 20, height: 40, metadataRemoved: true })
    const stored = await download(body.url)
    const metadata = await sharp(stored).metadata()
    expect(metadata.exif).toBeUndefined()
    expect(metadata.orientation).toBeUndefined()
    expect([metadata.width, metadata.height]).toEqual([20, 40])
    expect(stored.includes('marker-copyright')).toBe(false)
    expect(stored.includes('PhoneMaker')).toBe(false)
    expect(sha256(stored)).toBe(body.sha256)
  })

  it('refuses a PNG named .mp4, an SVG with a script, HTML and an executable, saying why', async () => {
    const tenant = await server.createTenant()
    const renamed = await upload(tenant.apiKey, fileForm(await makeImage('png'), 'clip.mp4'))
    expect(renamed.status).toBe(415)
    expect(await renamed.json()).toMatchObject({
      code: 'UNSUPPORTED_MEDIA',
      detail: expect.stringContaining('named .mp4 but its content is image/png'),
    })

    const svg = Buffer.from(
      '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.cookie)</script></svg>',
    )
    for (const name of ['drawing.svg', 'drawing.png', 'drawing']) {
      const response = await upload(tenant.apiKey, fileForm(svg, name))
      expect(response.status).toBe(415)
      expect(((await response.json()) as { detail: string }).detail).toContain(
        'SVG images are refused',
      )
    }

    const html = await upload(
      tenant.apiKey,
      fileForm(Buffer.from('<html><body><script>alert(1)</script></body></html>'), 'a.jpg'),
    )
    expect(((await html.json()) as { detail: string }).detail).toContain(
      'HTML documents are refused',
    )

    const elf = Buffer.concat([
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]),
      Buffer.alloc(120),
    ])
    const executable = await upload(tenant.apiKey, fileForm(elf, 'photo.jpg'))
    expect(executable.status).toBe(415)
    expect(((await executable.json()) as { detail: string }).detail).toContain('executable')

    const text = await upload(tenant.apiKey, fileForm(Buffer.from('just some words'), 'notes.txt'))
    expect(text.status).toBe(415)
    const rows = await db.select().from(media).where(eq(media.workspaceId, tenant.workspaceId))
    expect(rows).toEqual([])
  })

  it('lets a profile token upload to its own profile only, and see only that profile’s media', async () => {
    const tenant = await server.createTenant()
    const other = (await (
      await request('/v1/profiles', { token: tenant.apiKey, json: { name: 'Other' } })
    ).json()) as { id: string }
    const minted = (await (
      await request(`/v1/profiles/${other.id}/tokens`, { token: tenant.apiKey, json: {} })
    ).json()) as { token: string }
    const mine = await upload(minted.token, fileForm(await makeImage('png'), 'a.png'))
    expect(mine.status).toBe(201)
    expect(((await mine.json()) as MediaBody).profileId).toBe(other.id)

    const [defaultProfile] = await db
      .select()
      .from(profiles)
      .where(and(eq(profiles.workspaceId, tenant.workspaceId), eq(profiles.isDefault, true)))
    const elsewhere = await upload(
      minted.token,
      fileForm(await makeImage('png'), 'a.png'),
      `?profileId=${defaultProfile?.id}`,
    )
    expect(elsewhere.status).toBe(404)

    const byKey = await uploaded(tenant, await makeImage('png'), 'b.png')
    expect(byKey.profileId).toBe(defaultProfile?.id)
    const seen = (await (await request('/v1/media', { token: minted.token })).json()) as {
      data: MediaBody[]
    }
    expect(seen.data.map((item) => item.profileId)).toEqual([other.id])
    expect((await request(`/v1/media/${byKey.id}`, { token: minted.token })).status).toBe(404)
  })
})

describe('the media library', () => {
  it('lists newest first with filters, reads one, and updates its alternative text', async () => {
    const tenant = await server.createTenant()
    const image = await uploaded(tenant, await makeImage('png'), 'a.png')
    const video = await uploaded(tenant, await readVideoFixture('clip.mp4'), 'b.mp4')
    const page = (await (await request('/v1/media?limit=1', { token: tenant.apiKey })).json()) as {
      data: MediaBody[]
      nextCursor: string | null
    }
    expect(page.data.map((item) => item.id)).toEqual([video.id])
    const next = (await (
      await request(`/v1/media?limit=1&cursor=${page.nextCursor}`, { token: tenant.apiKey })
    ).json()) as { data: MediaBody[]; nextCursor: string | null }
    expect(next).toMatchObject({ data: [{ id: image.id }], nextCursor: null })
    const videos = (await (
      await request('/v1/media?kind=video', { token: tenant.apiKey })
    ).json()) as {
      data: MediaBody[]
    }
    expect(videos.data.map((item) => item.id)).toEqual([video.id])

    const patched = await request(`/v1/media/${image.id}`, {
      method: 'PATCH',
      token: tenant.apiKey,
      json: { altText: 'A blue square' },
    })
    expect(await patched.json()).toMatchObject({ altText: 'A blue square' })
    const read = (await (
      await request(`/v1/media/${image.id}`, { token: tenant.apiKey })
    ).json()) as MediaBody
    expect(read).toMatchObject({ id: image.id, altText: 'A blue square', usedBy: [] })
  })

  it('refuses to delete media a post uses unless forced, and removes the stored files', async () => {
    const tenant = await server.createTenant()
    const image = await uploaded(tenant, await makeImage('png'), 'a.png')
    const [row] = await db.select().from(media).where(eq(media.id, image.id))
    const file = join(mediaConfig.localDir, ...(row?.storageKey ?? '').split('/'))
    expect(existsSync(file)).toBe(true)
    await db.insert(mediaReferences).values({ mediaId: image.id, kind: 'post', refId: 'post_1' })

    const refused = await request(`/v1/media/${image.id}`, {
      method: 'DELETE',
      token: tenant.apiKey,
    })
    expect(refused.status).toBe(409)
    expect(await refused.json()).toMatchObject({
      code: 'MEDIA_IN_USE',
      usedBy: [{ kind: 'post', refId: 'post_1' }],
    })
    const detail = (await (
      await request(`/v1/media/${image.id}`, { token: tenant.apiKey })
    ).json()) as MediaBody
    expect(detail.usedBy).toEqual([{ kind: 'post', refId: 'post_1' }])

    const forced = await request(`/v1/media/${image.id}?force=true`, {
      method: 'DELETE',
      token: tenant.apiKey,
    })
    expect(forced.status).toBe(204)
    expect(existsSync(file)).toBe(false)
    expect(await db.select().from(mediaGarbage)).toEqual([])
    expect((await request(`/v1/media/${image.id}`, { token: tenant.apiKey })).status).toBe(404)
    const audit = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, image.id), eq(auditLog.action, 'media.deleted')))
    expect(audit[0]?.details).toMatchObject({ forced: true })
  })

  it('serves signed URLs only with a valid, unexpired signature', async () => {
    const tenant = await server.createTenant()
    const image = await uploaded(tenant, await makeImage('png'), 'a.png')
    const url = new URL(image.url)
    expect(url.pathname).toMatch(/^\/media-files\/media\//)
    const ranged = await app.request(`${url.pathname}${url.search}`, {
      headers: { range: 'bytes=0-7' },
    })
    expect(ranged.status).toBe(206)
    expect(
      Buffer.from(await ranged.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG')

    const tampered = new URL(url)
    tampered.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 1))
    expect((await app.request(`${tampered.pathname}${tampered.search}`)).status).toBe(403)
    const expired = new URL(url)
    expired.searchParams.set('expires', '1000')
    expect((await app.request(`${expired.pathname}${expired.search}`)).status).toBe(403)
    expect((await app.request(url.pathname)).status).toBe(403)
    expect(
      (await app.request(`/media-files/../config${url.search}`)).status,
    ).toBeGreaterThanOrEqual(400)
  })
})

describe('resumable uploads', () => {
  it('survive a part broken off half-way: resumed, completed, the file is byte-identical', async () => {
    const tenant = await server.createTenant()
    const bytes = await readVideoFixture('clip.mp4')
    const created = await request('/v1/media/uploads', {
      token: tenant.apiKey,
      json: { sizeBytes: bytes.length, filename: 'clip.mp4', altText: 'A test card' },
    })
    expect(created.status).toBe(201)
    const session = (await created.json()) as {
      id: string
      partSizeBytes: number
      partCount: number
      missingParts: number[]
    }
    expect(session).toMatchObject({ partSizeBytes: 4096, partCount: 3, missingParts: [1, 2, 3] })
    const part = (number: number) =>
      bytes.subarray((number - 1) * session.partSizeBytes, number * session.partSizeBytes)
    const put = (number: number, body: Uint8Array | ReadableStream<Uint8Array>) =>
      app.request(`/v1/media/uploads/${session.id}/parts/${number}`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${tenant.apiKey}`,
          'content-type': 'application/octet-stream',
        },
        body,
        duplex: 'half',
      } as RequestInit)

    expect((await put(1, part(1))).status).toBe(200)
    // Part 2: half of it arrives, then the connection drops.
    const broken = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(part(2).subarray(0, 2048))
        controller.error(new Error('connection reset'))
      },
    })
    const dropped = await Promise.resolve(put(2, broken)).catch((error: unknown) => error)
    if (dropped instanceof Response) expect(dropped.status).toBeGreaterThanOrEqual(400)

    const state = (await (
      await request(`/v1/media/uploads/${session.id}`, { token: tenant.apiKey })
    ).json()) as {
      missingParts: number[]
      receivedBytes: number
    }
    expect(state).toMatchObject({ missingParts: [2, 3], receivedBytes: 4096 })
    const early = await request(`/v1/media/uploads/${session.id}/complete`, {
      token: tenant.apiKey,
      json: {},
    })
    expect(early.status).toBe(409)
    expect(await early.json()).toMatchObject({ missingParts: [2, 3] })

    expect((await put(3, part(3))).status).toBe(200)
    expect((await put(2, part(2))).status).toBe(200)
    const wrongSize = await put(3, part(3).subarray(1))
    expect(wrongSize.status).toBe(422)

    const completed = await request(`/v1/media/uploads/${session.id}/complete`, {
      token: tenant.apiKey,
      json: { sha256: sha256(bytes) },
    })
    expect(completed.status).toBe(201)
    const body = (await completed.json()) as MediaBody
    expect(body).toMatchObject({
      kind: 'video',
      filename: 'clip.mp4',
      altText: 'A test card',
      sha256: sha256(bytes),
      sizeBytes: bytes.length,
    })
    expect((await download(body.url)).equals(bytes)).toBe(true)

    // Completing again (an answer lost on the way) gives the same media.
    const again = await request(`/v1/media/uploads/${session.id}/complete`, {
      token: tenant.apiKey,
      json: {},
    })
    expect(again.status).toBe(200)
    expect(((await again.json()) as MediaBody).id).toBe(body.id)
    expect(existsSync(join(mediaConfig.localDir, 'uploads', tenant.workspaceId, session.id))).toBe(
      false,
    )
  })

  it('refuse a joined file whose checksum is not the announced one, and can be abandoned', async () => {
    const tenant = await server.createTenant()
    const bytes = await makeNoisyPNG(40, 30)
    const session = (await (
      await request('/v1/media/uploads', {
        token: tenant.apiKey,
        json: { sizeBytes: bytes.length, sha256: 'ab'.repeat(32) },
      })
    ).json()) as { id: string; partCount: number; partSizeBytes: number }
    for (let number = 1; number <= session.partCount; number += 1) {
      const response = await app.request(`/v1/media/uploads/${session.id}/parts/${number}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${tenant.apiKey}` },
        body: bytes.subarray((number - 1) * session.partSizeBytes, number * session.partSizeBytes),
      })
      expect(response.status).toBe(200)
    }
    const mismatch = await request(`/v1/media/uploads/${session.id}/complete`, {
      token: tenant.apiKey,
      json: {},
    })
    expect(mismatch.status).toBe(422)
    expect(await mismatch.json()).toMatchObject({ issues: [{ code: 'checksum_mismatch' }] })
    expect(
      (await request(`/v1/media/uploads/${session.id}`, { method: 'DELETE', token: tenant.apiKey }))
        .status,
    ).toBe(204)
    expect(
      (await request(`/v1/media/uploads/${session.id}`, { token: tenant.apiKey })).status,
    ).toBe(404)
  })
})

const importedPNG = await makeImage('png', 30, 20)
const origin = http.createServer((req, res) => {
  if (req.url === '/image' || req.url === '/clip.mp4') return res.end(importedPNG)
  if (req.url === '/to-loopback') {
    res.writeHead(302, { location: `http://127.0.0.1:${port()}/image` })
    return res.end()
  }
  if (req.url === '/to-metadata') {
    res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' })
    return res.end()
  }
  res.writeHead(404)
  res.end()
})
const port = () => (origin.address() as AddressInfo).port
await new Promise<void>((resolve) => origin.listen(0, '127.0.0.2', resolve))
afterAll(() => new Promise<void>((resolve) => origin.close(() => resolve())))

describe('importing from a URL', () => {
  const importing = (tenant: Tenant, url: string) =>
    request('/v1/media/import', { token: tenant.apiKey, json: { url } })

  it('fetches a file from an allowed address and stores it like an upload', async () => {
    const tenant = await server.createTenant()
    const response = await importing(tenant, `http://127.0.0.2:${port()}/image`)
    expect(response.status, await response.clone().text()).toBe(201)
    expect(await response.json()).toMatchObject({
      kind: 'image',
      mimeType: 'image/png',
      width: 30,
      height: 20,
      source: 'import',
      filename: 'image',
    })
  })

  it('refuses a file whose name in the URL promises another type, as an upload with that name is', async () => {
    const tenant = await server.createTenant()
    const response = await importing(tenant, `http://127.0.0.2:${port()}/clip.mp4`)
    expect(response.status, await response.clone().text()).toBe(415)
    expect(await response.json()).toMatchObject({
      code: 'UNSUPPORTED_MEDIA',
      detectedType: 'image/png',
    })
    const named = await request('/v1/media/import', {
      token: tenant.apiKey,
      json: { url: `http://127.0.0.2:${port()}/clip.mp4`, filename: 'clip.png' },
    })
    expect(named.status, await named.clone().text()).toBe(201)
    expect(await named.json()).toMatchObject({ mimeType: 'image/png', filename: 'clip.png' })
  })

  it('refuses loopback, private and link-local addresses in every notation and after redirects', async () => {
    const tenant = await server.createTenant()
    for (const url of [
      'http://127.0.0.1/',
      'http://2130706433/',
      'http://0x7f.0.0.1/',
      'http://0177.0.0.1/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:7f00:1]/',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/',
      'http://192.168.1.1/',
      'http://[fd00::1]/',
      'http://0.0.0.0/',
      'http://localhost/',
      `http://127.0.0.2:${port()}/to-loopback`,
      `http://127.0.0.2:${port()}/to-metadata`,
    ]) {
      const response = await importing(tenant, url)
      expect(response.status, url).toBe(422)
      expect(await response.json(), url).toMatchObject({
        code: 'IMPORT_FAILED',
        reason: 'address_not_allowed',
      })
    }
    const missing = await importing(tenant, `http://127.0.0.2:${port()}/nothing`)
    expect(await missing.json()).toMatchObject({ code: 'IMPORT_FAILED', reason: 'http_error' })
    const ftp = await importing(tenant, 'ftp://example.com/a.png')
    expect(ftp.status).toBe(422)
  })
})
