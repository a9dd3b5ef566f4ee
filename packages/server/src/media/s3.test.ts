import { createHash } from 'node:crypto'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  fileForm,
  GPS_TAG,
  makePhoneJPEG,
  mediaTestConfig,
  readVideoFixture,
} from '../../test/media.ts'
import { startS3Server } from '../../test/s3.ts'
import { startTestServer } from '../../test/server.ts'
import { createS3Storage } from './storage.ts'

const s3 = await startS3Server()
afterAll(() => s3.close())
const s3Options = {
  bucket: s3.bucket,
  endpoint: s3.endpoint,
  region: 'us-east-1',
  credentials: s3.credentials,
  forcePathStyle: true,
  prefix: 'tests/',
}
const server = await startTestServer({
  media: await mediaTestConfig({ storage: 's3', s3: s3Options, uploadPartBytes: 4096 }),
})
const app = server.scheduler.app
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

describe('the S3 storage driver, against a real S3-compatible server', () => {
  it('stores, reads ranges, sizes, signs and deletes objects', async () => {
    const storage = createS3Storage(s3Options)
    const folder = await mkdtemp(join(tmpdir(), 'post-scheduler-s3-test-'))
    const file = join(folder, 'object')
    const bytes = await readVideoFixture('clip.mp4')
    await writeFile(file, bytes)
    await storage.putFile('media/ws_test/med_test/original.mp4', file, { contentType: 'video/mp4' })
    expect(await storage.sizeOf('media/ws_test/med_test/original.mp4')).toBe(bytes.length)

    const range = await storage.open('media/ws_test/med_test/original.mp4', { start: 4, end: 11 })
    const chunks: Buffer[] = []
    for await (const chunk of range) chunks.push(chunk as Buffer)
    expect(Buffer.concat(chunks).toString('latin1')).toBe('ftypisom')

    const url = await storage.signedURL('media/ws_test/med_test/original.mp4', {
      expiresInSeconds: 60,
      contentType: 'video/mp4',
      filename: 'clip.mp4',
    })
    expect(url).toContain('X-Amz-Signature=')
    const fetched = await fetch(url)
    expect(fetched.status).toBe(200)
    expect(Buffer.from(await fetched.arrayBuffer()).equals(bytes)).toBe(true)
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('60')
    expect(new URL(url).searchParams.get('response-content-disposition')).toContain('clip.mp4')

    const copy = join(folder, 'copy')
    await storage.download('media/ws_test/med_test/original.mp4', copy)
    expect((await readFile(copy)).equals(bytes)).toBe(true)

    await storage.delete('media/ws_test/med_test/original.mp4')
    expect(await storage.sizeOf('media/ws_test/med_test/original.mp4')).toBeUndefined()
    await storage.delete('media/ws_test/med_test/original.mp4')
  })

  it('serves a server configured with MEDIA_STORAGE=s3: uploads, resumable uploads and deletes go to the bucket', async () => {
    const tenant = await server.createTenant()
    const photo = await app.request('/v1/media', {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.apiKey}` },
      body: fileForm(await makePhoneJPEG(), 'phone.jpg'),
    })
    expect(photo.status).toBe(201)
    const image = (await photo.json()) as { id: string; url: string; sha256: string }
    expect(image.url.startsWith(`${s3.endpoint}/${s3.bucket}/tests/media/`)).toBe(true)
    const stored = Buffer.from(await (await fetch(image.url)).arrayBuffer())
    expect(sha256(stored)).toBe(image.sha256)
    expect(GPS_TAG.some((tag) => stored.includes(tag))).toBe(false)

    const bytes = await readVideoFixture('clip.mp4')
    const session = (await (
      await server.request('/v1/media/uploads', {
        token: tenant.apiKey,
        json: { sizeBytes: bytes.length, filename: 'clip.mp4' },
      })
    ).json()) as { id: string; partCount: number; partSizeBytes: number }
    for (const number of [3, 1, 2]) {
      const part = await app.request(`/v1/media/uploads/${session.id}/parts/${number}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${tenant.apiKey}` },
        body: bytes.subarray((number - 1) * session.partSizeBytes, number * session.partSizeBytes),
      })
      expect(part.status).toBe(200)
    }
    const completed = await server.request(`/v1/media/uploads/${session.id}/complete`, {
      token: tenant.apiKey,
      json: { sha256: sha256(bytes) },
    })
    expect(completed.status).toBe(201)
    const video = (await completed.json()) as { id: string; url: string; durationSeconds: number }
    expect(video.durationSeconds).toBe(1.2)
    expect(Buffer.from(await (await fetch(video.url)).arrayBuffer()).equals(bytes)).toBe(true)

    const deleted = await server.request(`/v1/media/${video.id}`, {
      method: 'DELETE',
      token: tenant.apiKey,
    })
    expect(deleted.status).toBe(204)
    expect((await fetch(video.url)).status).toBe(404)
  })
})
