import { Readable } from 'node:stream'
import { Hono } from 'hono'
import { ProblemError } from '../errors/problem.ts'
import type { Services } from '../services.ts'
import { MEDIA_FILES_PATH } from './storage.ts'

const TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
}

const RANGE = /^bytes=(\d*)-(\d*)$/

/**
 * The public route behind the local driver's signed URLs, `GET /media-files/{key}?expires&signature`:
 * platforms that pull media (Instagram, TikTok, Facebook) and browsers fetch files through it
 * until the URL expires. Nothing without a valid signature is served, so the data folder stays
 * private. Single byte ranges are honoured, as video fetchers ask for them.
 *
 * @example
 * ```ts
 * app.route('/', mediaFileRoutes(() => services))
 * ```
 */
export function mediaFileRoutes(services: () => Services) {
  return new Hono().get(`${MEDIA_FILES_PATH}/*`, async (c) => {
    const { media } = services()
    const key = c.req.path.slice(c.req.path.indexOf(MEDIA_FILES_PATH) + MEDIA_FILES_PATH.length + 1)
    const expires = Number(c.req.query('expires'))
    const signature = c.req.query('signature') ?? ''
    if (!Number.isInteger(expires) || expires * 1000 < Date.now()) {
      throw new ProblemError('FORBIDDEN', 'This media link has expired; ask the API for a new one')
    }
    if (media.storage.driver !== 'local' || !media.signer.verify(key, expires, signature)) {
      throw new ProblemError('FORBIDDEN', 'This media link is not valid')
    }
    const size = await media.storage.sizeOf(key).catch(() => undefined)
    if (size === undefined) throw new ProblemError('NOT_FOUND', 'This media no longer exists')
    const headers: Record<string, string> = {
      'content-type': TYPES[key.split('.').pop() ?? ''] ?? 'application/octet-stream',
      'accept-ranges': 'bytes',
      'cache-control': `private, max-age=${Math.max(0, expires - Math.floor(Date.now() / 1000))}`,
      // Served from the API's origin: never let a file act as a page.
      'content-security-policy': "default-src 'none'; sandbox",
    }
    const range = RANGE.exec(c.req.header('range') ?? '')
    if (range && (range[1] || range[2]) && size > 0) {
      const start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]))
      const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1
      if (start > end || start >= size) {
        return c.body(null, 416, { ...headers, 'content-range': `bytes */${size}` })
      }
      const stream = await media.storage.open(key, { start, end })
      return c.body(Readable.toWeb(stream) as ReadableStream, 206, {
        ...headers,
        'content-length': String(end - start + 1),
        'content-range': `bytes ${start}-${end}/${size}`,
      })
    }
    const stream = await media.storage.open(key)
    return c.body(Readable.toWeb(stream) as ReadableStream, 200, {
      ...headers,
      'content-length': String(size),
    })
  })
}
