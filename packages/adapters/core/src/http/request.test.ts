import { describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { isAdapterError } from '../errors/errors.ts'
import {
  type PlatformRequest,
  readCommonPlatformError,
  readJSON,
  sendPlatformRequest,
} from './request.ts'

const read: PlatformRequest = {
  platform: 'example',
  method: 'GET',
  url: 'https://api.example.test/v1/me',
}
const publish: PlatformRequest = {
  platform: 'example',
  method: 'POST',
  url: 'https://api.example.test/v1/posts',
  json: { text: 'hi' },
  irreversible: true,
}

function answering(status: number, body: unknown = '', headers: Record<string, string> = {}) {
  const sent: { request: Request; body: string }[] = []
  const fetch = vi.fn<typeof globalThis.fetch>(async (input) => {
    const request = input as Request
    sent.push({ request, body: await request.text() })
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers })
  })
  return Object.assign(fetch, { sent })
}

// A fetch that never answers, and rejects as fetch does when its signal aborts.
const silent = vi.fn<typeof fetch>(
  (input) =>
    new Promise((_, reject) => {
      const signal = input instanceof Request ? input.signal : undefined
      if (signal?.aborted) reject(signal.reason)
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true })
    }),
)

async function failure(promise: Promise<unknown>) {
  return promise.then(
    () => expect.unreachable('expected a rejection'),
    (error: unknown) => error,
  )
}

describe('sendPlatformRequest', () => {
  it('sends through the injected fetch and resolves with a successful response', async () => {
    const fetch = answering(201, { id: '1' })
    const response = await sendPlatformRequest(publish, { fetch })
    expect(await response.json()).toEqual({ id: '1' })
    expect(fetch.sent[0]?.request.method).toBe('POST')
    expect(JSON.parse(fetch.sent[0]?.body ?? '')).toEqual({ text: 'hi' })
  })

  it.each([
    { status: 401, code: 'RECONNECT_REQUIRED' },
    { status: 403, code: 'RECONNECT_REQUIRED' },
    { status: 429, code: 'RATE_LIMITED' },
    { status: 400, code: 'CONTENT_REJECTED' },
    { status: 422, code: 'CONTENT_REJECTED' },
    { status: 503, code: 'PLATFORM_UNAVAILABLE' },
    { status: 500, code: 'PLATFORM_UNAVAILABLE' },
    { status: 504, code: 'PLATFORM_UNAVAILABLE' },
    { status: 404, code: 'UNEXPECTED_RESPONSE' },
  ] as const)('turns $status on a read into $code', async ({ status, code }) => {
    const error = await failure(sendPlatformRequest(read, { fetch: answering(status) }))
    expect(isAdapterError(error, code)).toBe(true)
    expect(error).toMatchObject({ status, platform: 'example' })
  })

  it.each([500, 502, 504, 408])(
    'treats %i on an irreversible call as an unknown outcome: it may have happened',
    async (status) => {
      const error = await failure(sendPlatformRequest(publish, { fetch: answering(status) }))
      expect(isAdapterError(error, 'OUTCOME_UNKNOWN')).toBe(true)
    },
  )

  it('reads the wait of a rate limit from the headers', async () => {
    const error = await failure(
      sendPlatformRequest(read, { fetch: answering(429, '', { 'retry-after': '17' }) }),
    )
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 17 })
  })

  it("keeps the platform's own code and message of a rejection", async () => {
    const body = { error: { code: 'DUPLICATE', message: 'You already said that.' } }
    const error = await failure(sendPlatformRequest(publish, { fetch: answering(422, body) }))
    expect(error).toMatchObject({
      code: 'CONTENT_REJECTED',
      platformCode: 'DUPLICATE',
      platformMessage: 'You already said that.',
    })
  })

  it('reports a read that times out as a retryable network failure', async () => {
    const error = await failure(sendPlatformRequest(read, { fetch: silent, timeoutMs: 5 }))
    expect(error).toMatchObject({ code: 'NETWORK_FAILURE', timedOut: true, retryable: true })
  })

  it('reports an irreversible call that times out as an unknown outcome, not a failure', async () => {
    const error = await failure(sendPlatformRequest(publish, { fetch: silent, timeoutMs: 5 }))
    expect(error).toMatchObject({ code: 'OUTCOME_UNKNOWN', timedOut: true, retryable: false })
  })

  it("passes the caller's own abort of a read through unchanged", async () => {
    const controller = new AbortController()
    const reason = new Error('shutting down')
    const pending = sendPlatformRequest(read, { fetch: silent, signal: controller.signal })
    controller.abort(reason)
    expect(await failure(pending)).toBe(reason)
  })

  it('sends nothing when the signal is already aborted', async () => {
    const fetch = answering(200)
    const reason = new Error('already gone')
    const error = await failure(
      sendPlatformRequest(publish, { fetch, signal: AbortSignal.abort(reason) }),
    )
    expect(error).toBe(reason)
    expect(fetch).not.toHaveBeenCalled()
  })

  it('knows a refused connection sent nothing, even for an irreversible call', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    const fetch = vi.fn<typeof globalThis.fetch>(async () => {
      throw new TypeError('fetch failed', { cause: refused })
    })
    const error = await failure(sendPlatformRequest(publish, { fetch }))
    expect(error).toMatchObject({ code: 'NETWORK_FAILURE', retryable: true })
  })

  it('treats a connection lost during an irreversible call as an unknown outcome', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>(async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      })
    })
    const error = await failure(sendPlatformRequest(publish, { fetch }))
    expect(error).toMatchObject({ code: 'OUTCOME_UNKNOWN', timedOut: false })
  })

  it('lets programming errors through as they are', async () => {
    const bug = new RangeError('bug')
    const fetch = vi.fn<typeof globalThis.fetch>(async () => {
      throw bug
    })
    expect(await failure(sendPlatformRequest(read, { fetch }))).toBe(bug)
  })
})

describe('readJSON', () => {
  it('returns the parsed body when it fits the schema', async () => {
    const response = new Response(JSON.stringify({ id: 'p1' }))
    expect(await readJSON(response, z.object({ id: z.string() }), 'example')).toEqual({ id: 'p1' })
  })

  it('names what is wrong with a body that does not fit', async () => {
    const response = new Response('<html>oops</html>', { status: 200 })
    const error = await failure(readJSON(response, z.object({ id: z.string() }), 'example'))
    expect(error).toMatchObject({ code: 'UNEXPECTED_RESPONSE', body: '<html>oops</html>' })
  })
})

describe('readCommonPlatformError', () => {
  it.each([
    [{ error: { code: 'E1', message: 'nested' } }, { code: 'E1', message: 'nested' }],
    [
      { error: 'invalid_grant', error_description: 'expired' },
      { code: 'invalid_grant', message: 'expired' },
    ],
    [{ errors: [{ code: 187, message: 'duplicate' }] }, { code: '187', message: 'duplicate' }],
    [
      { code: 'X', message: 'flat' },
      { code: 'X', message: 'flat' },
    ],
    ['plain text', {}],
  ])('reads %o', (body, expected) => {
    expect(readCommonPlatformError(body)).toEqual(expected)
  })
})
