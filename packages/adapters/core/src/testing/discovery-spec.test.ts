import { readFileSync } from 'node:fs'
import { HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createDiscoveryValidator,
  createGoogleErrorBody,
  type DiscoveryDocument,
} from './discovery-spec.ts'
import { createEmulatorKit } from './emulator-kit.ts'

// The real YouTube Data API v3 discovery document, copied into specs/ (see specs/SOURCES.md).
const discovery = JSON.parse(
  readFileSync(new URL('../../specs/youtube-v3-discovery.json', import.meta.url), 'utf8'),
) as DiscoveryDocument
// madeForKids is read-only per the videos resource docs; the schema does not mark it.
const youtube = createDiscoveryValidator(discovery, { readOnly: ['VideoStatus.madeForKids'] })

// A minimal YouTube emulator that checks every request before serving it.
const kit = createEmulatorKit({ platform: 'youtube' })
const served: string[] = []
const server = setupServer(
  kit.route('all', /^https:\/\/(www|youtube)\.googleapis\.com\//, async ({ request }) => {
    const { match, issues } = await youtube.checkRequest(request)
    if (issues.length > 0) {
      const status = match ? 400 : 404
      return HttpResponse.json(createGoogleErrorBody(issues, status), { status })
    }
    served.push(`${match?.method.id} ${match?.upload ?? ''}`.trim())
    return match?.upload === 'resumable'
      ? new HttpResponse(null, {
          headers: { location: `${request.url.split('?')[0]}?uploadType=resumable&upload_id=u1` },
        })
      : HttpResponse.json({ kind: 'youtube#video', id: 'v1' })
  }),
)
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterAll(() => server.close())

const metadata = {
  snippet: { title: 'A video', description: 'About it', tags: ['a', 'b'], categoryId: '22' },
  status: { privacyStatus: 'private', selfDeclaredMadeForKids: false, embeddable: true },
}
const startUpload = (origin: string, query: string, body: unknown) =>
  fetch(`${origin}/upload/youtube/v3/videos?${query}`, {
    method: 'POST',
    headers: {
      authorization: 'Bearer token',
      'content-type': 'application/json; charset=UTF-8',
      'x-upload-content-length': '1000',
      'x-upload-content-type': 'video/mp4',
    },
    body: JSON.stringify(body),
  })
const errorOf = async (response: Response) =>
  ((await response.json()) as { error: { code: number; message: string; errors: unknown[] } }).error

describe('videos.insert, resumable', () => {
  it.each(['https://www.googleapis.com', 'https://youtube.googleapis.com'])(
    'starts a session on %s and sends the bytes to the session URI',
    async (origin) => {
      served.length = 0
      const start = await startUpload(
        origin,
        'uploadType=resumable&part=snippet,status&notifySubscribers=false',
        metadata,
      )
      expect(start.status).toBe(200)
      const session = start.headers.get('location') ?? ''
      const bytes = await fetch(session, {
        method: 'PUT',
        headers: { 'content-type': 'video/mp4', 'content-range': 'bytes 0-999/1000' },
        body: new Uint8Array(1000),
      })
      expect(bytes.status).toBe(200)
      expect(served).toEqual(['youtube.videos.insert resumable', 'youtube.videos.insert session'])
    },
  )

  it('passes on the discovery document’s own resumable path', async () => {
    const response = await fetch(
      'https://youtube.googleapis.com/resumable/upload/youtube/v3/videos?part=snippet&part=status',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(metadata),
      },
    )
    expect(response.status).toBe(200)
  })

  it('refuses a part the resource does not have, naming it', async () => {
    const error = await errorOf(
      await startUpload('https://www.googleapis.com', 'uploadType=resumable&part=snipet', metadata),
    )
    expect(error.code).toBe(400)
    expect(error.errors).toEqual([
      expect.objectContaining({ reason: 'unknownPart', location: 'part', domain: 'youtube.part' }),
    ])
    expect(error.message).toMatch(/^'snipet' is not a part of this resource/)
  })

  it('refuses a privacyStatus outside its enum, naming the property', async () => {
    const body = { ...metadata, status: { privacyStatus: 'publik' } }
    const error = await errorOf(
      await startUpload('https://www.googleapis.com', 'uploadType=resumable&part=status', body),
    )
    expect(error.message).toBe(
      `Invalid value at 'resource.status.privacyStatus' (TYPE_ENUM), "publik"`,
    )
  })

  it('refuses an unknown body property, a wrongly typed one and a read-only one', () => {
    const { issues } = youtube.validate({
      method: 'POST',
      url: new URL(
        'https://www.googleapis.com/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status',
      ),
      body: {
        snippet: { title: 'x', tilte: 'typo', tags: 'not-a-list' },
        status: { embeddable: 'yes', madeForKids: true },
      },
    })
    expect(issues.map((issue) => [issue.reason, issue.location])).toEqual([
      ['badRequest', 'snippet.tilte'],
      ['badRequest', 'snippet.tags'],
      ['badRequest', 'status.embeddable'],
      ['readOnly', 'status.madeForKids'],
    ])
    expect(issues[0]?.message).toBe(
      `Invalid JSON payload received. Unknown name "tilte" at 'resource.snippet': Cannot find field.`,
    )
  })

  it('refuses a missing part, an unknown query parameter and a bad uploadType', async () => {
    const error = await errorOf(
      await startUpload('https://www.googleapis.com', 'uploadType=chunked&notify=true', metadata),
    )
    expect(error.errors).toEqual([
      expect.objectContaining({ reason: 'invalidParameter', location: 'uploadType' }),
      expect.objectContaining({ reason: 'unexpectedParameter', location: 'notify' }),
      expect.objectContaining({ reason: 'required', location: 'part' }),
    ])
  })

  it('refuses a boolean query parameter that is not one', () => {
    const { issues } = youtube.validate({
      method: 'POST',
      url: new URL(
        'https://www.googleapis.com/upload/youtube/v3/videos?uploadType=resumable&part=status&notifySubscribers=no',
      ),
    })
    expect(issues).toMatchObject([{ reason: 'invalidParameter', location: 'notifySubscribers' }])
  })
})

describe('other methods', () => {
  it('checks a list call’s part against the listed resource and accepts common parameters', () => {
    const url = (query: string) => new URL(`https://www.googleapis.com/youtube/v3/videos?${query}`)
    const ok = youtube.validate({ method: 'GET', url: url('part=statistics,status&id=v1&key=k') })
    expect(ok.match?.method.id).toBe('youtube.videos.list')
    expect(ok.issues).toEqual([])
    const wrong = youtube.validate({ method: 'GET', url: url('part=stats&id=v1') })
    expect(wrong.issues).toMatchObject([{ reason: 'unknownPart', location: 'part' }])
  })

  it('checks a first comment’s nested body (commentThreads.insert)', () => {
    const url = new URL('https://www.googleapis.com/youtube/v3/commentThreads?part=snippet')
    const body = (textOriginal: unknown) => ({
      snippet: { videoId: 'v1', topLevelComment: { snippet: { textOriginal } } },
    })
    expect(youtube.validate({ method: 'POST', url, body: body('First!') }).issues).toEqual([])
    expect(youtube.validate({ method: 'POST', url, body: body(42) }).issues).toMatchObject([
      { location: 'snippet.topLevelComment.snippet.textOriginal' },
    ])
  })

  it('answers a path the document does not have with a 404 envelope', async () => {
    const response = await fetch('https://www.googleapis.com/youtube/v3/video?part=id')
    expect(response.status).toBe(404)
    expect((await errorOf(response)).errors).toMatchObject([{ reason: 'notFound' }])
  })

  it('reads the metadata part of a multipart upload', async () => {
    const boundary = 'b0undary'
    const body = [
      `--${boundary}`,
      'Content-Type: application/json; charset=UTF-8',
      '',
      JSON.stringify({ snippet: { title: 'x' }, status: { privacyStatus: 'secret' } }),
      `--${boundary}`,
      'Content-Type: video/mp4',
      '',
      'BYTES',
      `--${boundary}--`,
    ].join('\r\n')
    const response = await fetch(
      'https://www.googleapis.com/upload/youtube/v3/videos?uploadType=multipart&part=snippet,status',
      {
        method: 'POST',
        headers: { 'content-type': `multipart/related; boundary=${boundary}` },
        body,
      },
    )
    expect((await errorOf(response)).message).toContain('resource.status.privacyStatus')
  })
})
