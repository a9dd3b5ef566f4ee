import ky, { isNetworkError } from 'ky'
import type { z } from 'zod'
import {
  type AdapterError,
  ContentRejectedError,
  NetworkFailureError,
  OutcomeUnknownError,
  PlatformUnavailableError,
  RateLimitedError,
  ReconnectRequiredError,
  UnexpectedResponseError,
} from '../errors/errors.ts'
import { parseRateLimitHeaders } from './rate-limit.ts'
import { createCallSignal } from './timeout.ts'

/**
 * Per-call options every adapter verb accepts as its second argument.
 */
export interface CallOptions {
  /** Cancels the call. For a publish already sent, cancelling yields `OUTCOME_UNKNOWN`. */
  signal?: AbortSignal
  /** The `fetch` to use instead of the global one (instrumentation, proxies, tests). */
  fetch?: typeof globalThis.fetch
  /** Gives up after this many milliseconds (per HTTP request the verb makes). */
  timeoutMs?: number
}

/** What the platform said went wrong, read from an error body. */
export interface PlatformErrorDetails {
  code?: string
  message?: string
}

/** One HTTP request to a platform. */
export interface PlatformRequest {
  /** The platform's id, for error messages and the `platform` field of errors. */
  platform: string
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  url: string | URL
  headers?: Record<string, string>
  /** A JSON body. */
  json?: unknown
  /** A form-encoded body. */
  form?: Record<string, string> | URLSearchParams
  /** Any other body (a Blob part of an upload…). */
  body?: Blob | ArrayBuffer | Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | string
  /**
   * Marks the call that makes something happen that must not happen twice (the publish itself).
   * When no answer comes back, or the answer is a gateway error, the outcome is unknown, and the
   * error is `OUTCOME_UNKNOWN` rather than a retryable one.
   */
  irreversible?: boolean
  /** Reads the platform's own error code and message from an error body. */
  readError?: (body: unknown) => PlatformErrorDetails
}

/**
 * Sends a request to a platform with the per-call `fetch`, `signal` and `timeoutMs`, and turns
 * every failure into an adapter error: no answer → `NETWORK_FAILURE` (or `OUTCOME_UNKNOWN` for an
 * irreversible call), an error status → the class the job runner branches on (see
 * {@link errorFromResponse}). Resolves with the response only when its status is 2xx or 3xx.
 *
 * @example
 * ```ts
 * const response = await sendPlatformRequest(
 *   { platform: 'sandbox', method: 'POST', url: `${baseURL}/v1/posts`, json: body, irreversible: true },
 *   options,
 * )
 * ```
 */
export async function sendPlatformRequest(
  request: PlatformRequest,
  options: CallOptions = {},
): Promise<Response> {
  const call = createCallSignal(options)
  call.signal?.throwIfAborted()
  const where = `${request.method} ${new URL(request.url).pathname}`
  let response: Response
  try {
    response = await ky(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.json === undefined ? {} : { json: request.json }),
      ...(request.form === undefined ? {} : { body: new URLSearchParams(request.form) }),
      ...(request.body === undefined ? {} : { body: request.body }),
      signal: call.signal,
      fetch: options.fetch ?? globalThis.fetch,
      // Retries are the job runner's decision: it knows whether repeating is safe.
      retry: 0,
      timeout: false,
      throwHttpErrors: false,
    })
  } catch (error) {
    const timedOut = call.timedOut()
    const aborted = call.signal?.aborted ?? false
    if (!aborted && !isNetworkError(error)) throw error
    if (request.irreversible && !(isNetworkError(error) && neverConnected(error))) {
      throw new OutcomeUnknownError(
        `${request.platform}: ${where} was sent and no answer came back (${
          timedOut
            ? `timed out after ${options.timeoutMs} ms`
            : aborted
              ? 'aborted'
              : 'connection lost'
        }); it may have happened. Look it up before trying again.`,
        { platform: request.platform, cause: error, timedOut },
      )
    }
    if (aborted && !timedOut) throw options.signal?.reason ?? error
    throw new NetworkFailureError(
      `${request.platform}: ${where} ${
        timedOut ? `timed out after ${options.timeoutMs} ms` : 'failed: no answer from the platform'
      }. Try again later.`,
      { platform: request.platform, cause: error, timedOut },
    )
  }
  if (response.status < 400) return response
  const text = await response.text().catch(() => '')
  throw errorFromResponse(response, text, request)
}

const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT'])

// Node's fetch wraps the socket error two levels deep: NetworkError → TypeError → Error{code}.
function neverConnected(error: Error): boolean {
  let current: unknown = error
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && NOT_CONNECTED.has(code)) return true
    current = current.cause
  }
  return false
}

/**
 * Maps an error response to the adapter error the job runner branches on: 401/403 → reconnect,
 * 429 → rate limited (with `retryAfterSeconds` from the headers), 400/409/413/422 → content
 * rejected (with the platform's code and message), 503 → unavailable, and 408/500/502/504 →
 * unavailable, or `OUTCOME_UNKNOWN` for an irreversible call (a gateway may have committed it).
 * Anything else is an unexpected response. Adapters handle platform quirks before calling it.
 *
 * @example
 * ```ts
 * if (!response.ok) throw errorFromResponse(response, await response.text(), { platform: 'sandbox', method: 'GET', url })
 * ```
 */
export function errorFromResponse(
  response: Response,
  bodyText: string,
  request: Pick<PlatformRequest, 'platform' | 'method' | 'url' | 'irreversible' | 'readError'>,
): AdapterError {
  const { platform } = request
  const status = response.status
  const where = `${request.method} ${new URL(request.url).pathname}`
  const details = (request.readError ?? readCommonPlatformError)(parseJSONOrText(bodyText))
  const said = details.message ? `: ${details.message}` : ''
  const base = { platform, status, cause: details.code ?? bodyText.slice(0, 500) }
  if (status === 401 || status === 403) {
    return new ReconnectRequiredError(
      `${platform}: ${where} was refused (${status})${said}. Connect the account again.`,
      { ...base, reason: details.code ?? (status === 401 ? 'invalid_token' : 'forbidden') },
    )
  }
  if (status === 429) {
    const { retryAfterSeconds } = parseRateLimitHeaders(response.headers)
    return new RateLimitedError(
      `${platform}: rate limited on ${where}${said}. Retry ${
        retryAfterSeconds === undefined ? 'later' : `in ${retryAfterSeconds} s`
      }.`,
      { ...base, retryAfterSeconds },
    )
  }
  if ([400, 409, 413, 422].includes(status)) {
    return new ContentRejectedError(`${platform} rejected the post${said || ` (${status})`}.`, {
      ...base,
      platformCode: details.code,
      platformMessage: details.message,
    })
  }
  if (request.irreversible && [408, 500, 502, 504].includes(status)) {
    return new OutcomeUnknownError(
      `${platform}: ${where} answered ${status}; the post may or may not have been made. Look it up before trying again.`,
      base,
    )
  }
  if (status === 503 || status >= 500 || status === 408) {
    return new PlatformUnavailableError(
      `${platform} is unavailable (${status} on ${where}). Try again later.`,
      { ...base, retryAfterSeconds: parseRateLimitHeaders(response.headers).retryAfterSeconds },
    )
  }
  return new UnexpectedResponseError(`${platform}: ${where} answered ${status}${said}.`, {
    ...base,
    body: bodyText,
  })
}

/**
 * Reads a 2xx JSON body and checks it against a zod schema; anything else is an
 * `UNEXPECTED_RESPONSE` naming what was wrong.
 *
 * @example
 * ```ts
 * const { id } = await readJSON(response, z.object({ id: z.string() }), 'sandbox')
 * ```
 */
export async function readJSON<Schema extends z.ZodType>(
  response: Response,
  schema: Schema,
  platform: string,
): Promise<z.output<Schema>> {
  const text = await response.text()
  const parsed = schema.safeParse(parseJSONOrText(text))
  if (parsed.success) return parsed.data
  const where = response.url ? ` from ${new URL(response.url).pathname}` : ''
  throw new UnexpectedResponseError(
    `${platform}: unexpected answer${where} (${parsed.error.issues
      .map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`)
      .join('; ')}).`,
    { platform, status: response.status, body: text, cause: parsed.error },
  )
}

function parseJSONOrText(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * Reads the common error body shapes: `{ error: { code, message } }`, OAuth's
 * `{ error, error_description }`, `{ errors: [{ code, message }] }` and `{ code, message }`.
 *
 * @example
 * ```ts
 * readCommonPlatformError({ error: 'invalid_grant', error_description: 'Code expired' })
 * // { code: 'invalid_grant', message: 'Code expired' }
 * ```
 */
export function readCommonPlatformError(body: unknown): PlatformErrorDetails {
  if (typeof body !== 'object' || body === null) return {}
  const record = body as Record<string, unknown>
  const text = (value: unknown) =>
    typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined
  if (typeof record.error === 'object' && record.error !== null) {
    const inner = record.error as Record<string, unknown>
    return { code: text(inner.code), message: text(inner.message) }
  }
  if (typeof record.error === 'string') {
    return { code: record.error, message: text(record.error_description) }
  }
  if (Array.isArray(record.errors) && typeof record.errors[0] === 'object') {
    const first = record.errors[0] as Record<string, unknown>
    return { code: text(first.code), message: text(first.message) }
  }
  return { code: text(record.code), message: text(record.message) ?? text(record.detail) }
}
