import ky, { isHTTPError, isNetworkError, isTimeoutError, type KyInstance } from 'ky'
import { ConnectionError, createAPIError } from './errors.ts'

/**
 * How a client authenticates and reaches the API. Give one of `apiKey`, `token` or `getToken`, or
 * none for the calls that need no authentication (sign-up, sign-in, the privacy policy, health).
 */
export interface ClientOptions {
  /** Where the API is, e.g. `https://posts.example.com` (paths start with `/v1`). */
  baseURL: string | URL
  /** A workspace secret API key (`psk_live_…`). Server side only: never ship it to a browser. */
  apiKey?: string
  /** A bearer token: a profile token (`pst_…`) minted by your backend, or a session token. */
  token?: string
  /**
   * Called before each request for the bearer token, e.g. a profile token your backend mints. Cache
   * it yourself; it is called once per call. When the API answers 401 it is called again with
   * `{ refresh: true }` (then give a new token, not the cached one) and the request is sent once more.
   */
  getToken?: (context: { refresh: boolean }) => string | Promise<string>
  /** The `fetch` to use (a test double, a proxying fetch, an edge runtime's own). */
  fetch?: typeof globalThis.fetch
  /** Milliseconds to wait for each attempt's answer; `false` never gives up. Default 30 000. */
  timeout?: number | false
  /**
   * How many times to retry after a network error, a 408, a 429 or a 409 that says when to try
   * again (waiting as `Retry-After` asks, at most `maxRetryAfterSeconds`), or a 5xx. Mutating calls are retried too: they carry an
   * `Idempotency-Key`, so a retry never does the work twice. Default 2; `0` turns retries off.
   */
  retry?: number | { limit?: number; maxRetryAfterSeconds?: number }
  /** Headers sent with every request, e.g. a `User-Agent` suffix of your own. */
  headers?: Record<string, string>
}

/** Options every method takes as its last argument. */
export interface RequestOptions {
  /** Aborts the call (and its retries); the promise rejects with the signal's reason. */
  signal?: AbortSignal
  /** Milliseconds to wait for each attempt, overriding the client's `timeout`. */
  timeout?: number | false
  /**
   * The `Idempotency-Key` of a mutating call; a random UUID when absent. Pass your own (e.g. your
   * order id) to make a call safe to repeat across processes: the server replays the first answer.
   */
  idempotencyKey?: string
  /** Extra headers for this call. */
  headers?: Record<string, string>
}

/** Progress of an upload. */
export interface UploadProgress {
  /** Bytes sent so far. */
  transferredBytes: number
  /** Bytes to send in all (0 when unknown). */
  totalBytes: number
  /** `transferredBytes / totalBytes`, from 0 to 1. */
  percent: number
}

/** One HTTP call as the resources describe it. */
export interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** Path with its parameters filled in, e.g. `/v1/posts/post_123`. */
  path: string
  query?: Record<string, unknown> | undefined
  json?: unknown
  body?: FormData | Blob
  onUploadProgress?: ((progress: UploadProgress) => void) | undefined
  options?: RequestOptions | undefined
}

/** Sends calls: authentication, idempotency keys, retries, timeouts and error mapping. */
export type Transport = <T>(call: Call) => Promise<T>

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

// Progress per chunk needs a streamed request body. Chromium only streams request bodies over
// HTTP/2 or QUIC and fails the request over HTTP/1.1 (ERR_H2_OR_QUIC_REQUIRED), so pages get
// progress per completed part instead; Node, Deno, Bun and workers stream.
const streamsRequestBodies = typeof (globalThis as { document?: unknown }).document === 'undefined'

/** The transport of a client. */
export function createTransport(options: ClientOptions): Transport {
  const { apiKey, token, getToken } = options
  if ([apiKey, token, getToken].filter((value) => value !== undefined).length > 1) {
    throw new TypeError('createClient takes one of apiKey, token or getToken, not several')
  }
  const retry = typeof options.retry === 'number' ? { limit: options.retry } : options.retry
  const api: KyInstance = ky.create({
    prefix: String(options.baseURL),
    fetch: options.fetch,
    timeout: options.timeout ?? 30_000,
    headers: options.headers,
    retry: {
      limit: retry?.limit ?? 2,
      methods: ['get', 'post', 'put', 'patch', 'delete'],
      statusCodes: [408, 409, 429, 500, 502, 503, 504],
      afterStatusCodes: [409, 429, 503],
      maxRetryAfter: (retry?.maxRetryAfterSeconds ?? 60) * 1000,
      // A 409 is retried only when it says when to: the same Idempotency-Key still in flight
      // (e.g. the answer to the first attempt was lost). A conflict of state is final.
      shouldRetry: ({ error }) =>
        isHTTPError(error) && error.response.status === 409
          ? error.response.headers.has('retry-after')
          : undefined,
    },
    hooks: {
      beforeRequest: [
        async ({ request }) => {
          const bearer = apiKey ?? token ?? (await getToken?.({ refresh: false }))
          if (bearer) request.headers.set('authorization', `Bearer ${bearer}`)
        },
      ],
      afterResponse: [
        async ({ request, response, retryCount }) => {
          if (response.status !== 401 || !getToken || retryCount > 0) return
          const headers = new Headers(request.headers)
          headers.set('authorization', `Bearer ${await getToken({ refresh: true })}`)
          return ky.retry({
            request: new Request(request, { headers }),
            delay: 0,
            code: 'TOKEN_REFRESHED',
          })
        },
      ],
    },
  })

  return async <T>(call: Call): Promise<T> => {
    const headers: Record<string, string> = { ...call.options?.headers }
    if (MUTATING.has(call.method)) {
      headers['idempotency-key'] = call.options?.idempotencyKey ?? crypto.randomUUID()
    }
    try {
      const response = await api(call.path.slice(1), {
        method: call.method,
        searchParams: call.query as Record<string, string> | undefined,
        json: call.json,
        body: call.body,
        headers,
        signal: call.options?.signal,
        ...(call.options?.timeout === undefined ? {} : { timeout: call.options.timeout }),
        ...(call.onUploadProgress && streamsRequestBodies
          ? { onUploadProgress: call.onUploadProgress }
          : {}),
      })
      if (response.status === 204) return undefined as T
      const text = await response.text()
      return (text === '' ? undefined : JSON.parse(text)) as T
    } catch (error) {
      if (isHTTPError(error)) {
        throw createAPIError(error.response.status, error.data, error.response.headers)
      }
      if (isTimeoutError(error)) {
        throw new ConnectionError(`${call.method} ${call.path} got no answer in time`, {
          code: 'TIMEOUT',
          cause: error,
        })
      }
      if (isNetworkError(error)) {
        throw new ConnectionError(
          `${call.method} ${call.path} failed before an answer came: ${(error.cause as Error | undefined)?.message ?? error.message}`,
          { code: 'CONNECTION_FAILED', cause: error },
        )
      }
      throw error
    }
  }
}
