import {
  type AdapterError,
  type CallOptions,
  ContentRejectedError,
  isAdapterError,
  OutcomeUnknownError,
  type PlatformRequest,
  PlatformUnavailableError,
  RateLimitedError,
  ReconnectRequiredError,
  sendPlatformRequest,
} from '@post-scheduler/adapter-core'

export const PLATFORM = 'facebook'
export const GRAPH_ORIGIN = 'https://graph.facebook.com'
/** Meta's documented host for video uploads to `/{page-id}/videos`. */
export const GRAPH_VIDEO_ORIGIN = 'https://graph-video.facebook.com'
export const DIALOG_ORIGIN = 'https://www.facebook.com'
/** The Graph API version used unless configured; Meta retires each about two years after release. */
export const DEFAULT_GRAPH_VERSION = 'v24.0'

/** What every Graph call needs: where Graph is and which version to call. */
export interface GraphContext {
  /** `https://graph.facebook.com` unless configured (an emulator). */
  graphBaseURL: string
  /** `v24.0`. */
  version: string
}

/** One call to the Graph API. */
export interface GraphRequest {
  method: PlatformRequest['method']
  /** `/{id}` or `/{id}/{edge}`, without the version, with its query. */
  path: string
  accessToken?: string
  json?: unknown
  form?: Record<string, string>
  body?: PlatformRequest['body']
  irreversible?: boolean
  /** Another host for this call (`https://graph-video.facebook.com`); the version still applies. */
  baseURL?: string
  /** A whole URL instead of `baseURL`, version and `path` (a reel's `upload_url`). */
  url?: string
  /** More headers (the Resumable Upload API's `file_offset`, rupload's `offset`). */
  headers?: Record<string, string>
  /**
   * How the token is sent. `OAuth`: the upload endpoints read the token only from an
   * `Authorization: OAuth <token>` header (https://developers.facebook.com/docs/graph-api/guides/upload).
   */
  tokenScheme?: 'Bearer' | 'OAuth'
}

/** Graph's error envelope (https://developers.facebook.com/docs/graph-api/guides/error-handling). */
export interface GraphErrorBody {
  message?: string
  type?: string
  code?: number
  error_subcode?: number
  error_user_title?: string
  error_user_msg?: string
  is_transient?: boolean
  fbtrace_id?: string
}

/**
 * Sends a Graph API request with the per-call options and maps a Graph error envelope to the
 * adapter error the runner branches on (see {@link graphError}). The token goes in the
 * `Authorization` header, not the query string, so it stays out of URLs and their logs.
 *
 * @example
 * ```ts
 * const response = await sendGraphRequest(context, { method: 'GET', path: '/me/accounts', accessToken }, options)
 * ```
 */
export async function sendGraphRequest(
  context: GraphContext,
  request: GraphRequest,
  options: CallOptions = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...request.headers }
  if (request.accessToken !== undefined) {
    headers.authorization = `${request.tokenScheme ?? 'Bearer'} ${request.accessToken}`
  }
  // sendPlatformRequest reads the error body itself; keep a copy of an error answer to read
  // Graph's code, subcode and usage headers, which the generic status mapping cannot see.
  let failed: Response | undefined
  const baseFetch = options.fetch ?? globalThis.fetch
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const response = await baseFetch(input, init)
    if (response.status >= 400) failed = response.clone()
    return response
  }
  const url =
    request.url ?? `${request.baseURL ?? context.graphBaseURL}/${context.version}${request.path}`
  try {
    return await sendPlatformRequest(
      {
        platform: PLATFORM,
        method: request.method,
        url,
        headers,
        ...(request.json === undefined ? {} : { json: request.json }),
        ...(request.form === undefined ? {} : { form: request.form }),
        ...(request.body === undefined ? {} : { body: request.body }),
        irreversible: request.irreversible,
        readError: (body) => {
          const error = readGraphErrorBody(body)
          return { code: error && platformCodeOf(error), message: error?.message }
        },
      },
      { ...options, fetch },
    )
  } catch (error) {
    if (!isAdapterError(error) || failed === undefined) throw error
    const body = readGraphErrorBody(await failed.json().catch(() => undefined))
    if (!body) throw error
    throw graphError({
      status: failed.status,
      headers: failed.headers,
      body,
      where: `${request.method} ${request.path.split('?')[0]}`,
      irreversible: request.irreversible ?? false,
      fallback: error,
    })
  }
}

/** The `error` object of a Graph error body, if it is one. */
export function readGraphErrorBody(body: unknown): GraphErrorBody | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const error = (body as { error?: unknown }).error
  if (typeof error !== 'object' || error === null) return undefined
  return error as GraphErrorBody
}

/** `506`, or `100/1366046` when Graph gave a subcode: the error's `platformCode`. */
export function platformCodeOf(error: GraphErrorBody): string | undefined {
  if (error.code === undefined) return undefined
  return error.error_subcode === undefined
    ? String(error.code)
    : `${error.code}/${error.error_subcode}`
}

// https://developers.facebook.com/docs/graph-api/guides/error-handling#errorcodes
const AUTH_SUBCODES: Record<number, string> = {
  458: 'app_not_installed',
  459: 'user_checkpointed',
  460: 'password_changed',
  463: 'expired',
  464: 'unconfirmed_user',
  467: 'invalid_token',
  492: 'invalid_session',
}
// https://developers.facebook.com/docs/graph-api/overview/rate-limiting
const APP_THROTTLE = 4
const RATE_LIMIT_CODES = new Set([4, 17, 32, 613, 80001])

/**
 * Maps one Graph error to the adapter error the job runner branches on. Graph answers almost
 * every failure with HTTP 400 and says what went wrong in `code` and `error_subcode`:
 *
 * - 190 (any subcode: 463 expired, 460 password changed, 458 app removed…), 102, and 10 or
 *   200–299 (a permission is missing) → `RECONNECT_REQUIRED`.
 * - 4 (the app's limit), 17 (the user's), 32 (the Page's), 613 and 80001 (the Pages business
 *   use case) → `RATE_LIMITED`, `scope: 'app'` for 4 and `'account'` otherwise, with the wait
 *   from `X-Business-Use-Case-Usage`'s `estimated_time_to_regain_access` (minutes).
 * - 506 (duplicate post), 368 (temporarily blocked for policy violations), 100 (invalid
 *   parameter) → `CONTENT_REJECTED` with the platform code `506`, `368`, `100/<subcode>`.
 * - 1 and 2 (unknown, transient) → `PLATFORM_UNAVAILABLE`, or `OUTCOME_UNKNOWN` for a publish.
 *
 * Anything else keeps the generic mapping by HTTP status (`fallback`).
 *
 * @example
 * ```ts
 * graphError({ status: 400, headers, body: { code: 190, error_subcode: 463 }, where: 'POST /1/feed', irreversible: true, fallback })
 * // ReconnectRequiredError { reason: 'expired' }
 * ```
 */
export function graphError(params: {
  status: number
  headers: Headers
  body: GraphErrorBody
  where: string
  irreversible: boolean
  fallback: AdapterError
}): AdapterError {
  const { body, status, where } = params
  const code = body.code
  const platformCode = platformCodeOf(body)
  const said = body.error_user_msg ?? body.message ?? 'no message'
  const base = { platform: PLATFORM, status, cause: params.fallback }
  if (code === 190 || code === 102) {
    const reason = AUTH_SUBCODES[body.error_subcode ?? -1] ?? 'invalid_token'
    return new ReconnectRequiredError(
      `Facebook refused the token on ${where} (${platformCode}: ${said}). Connect the account again.`,
      { ...base, reason },
    )
  }
  if (code === 10 || (code !== undefined && code >= 200 && code <= 299)) {
    return new ReconnectRequiredError(
      `Facebook refused ${where} for a missing permission (${platformCode}: ${said}). Grant the Page permissions (pages_manage_posts, pages_read_engagement…) and connect the account again.`,
      { ...base, reason: 'insufficient_permissions' },
    )
  }
  if (code !== undefined && RATE_LIMIT_CODES.has(code)) {
    const usage = readUsageHeaders(params.headers)
    const scope = code === APP_THROTTLE ? 'app' : 'account'
    const whose =
      scope === 'app'
        ? "the app's limit, shared by every account connected through it"
        : "this Page's or user's limit"
    return new RateLimitedError(
      `Facebook rate limited ${where} (${platformCode}: ${said}): ${whose}${
        usage.percentUsed === undefined ? '' : `, ${usage.percentUsed}% used`
      }. Retry ${usage.retryAfterSeconds === undefined ? 'later' : `in ${usage.retryAfterSeconds} s`}.`,
      { ...base, retryAfterSeconds: usage.retryAfterSeconds, scope },
    )
  }
  if (code === 506 || code === 368 || code === 100) {
    const what =
      code === 506
        ? 'as a duplicate of a recent post; change the text before publishing it again'
        : code === 368
          ? 'because the Page is temporarily blocked from posting for a policy violation; wait, and review the Page quality in Meta Business Suite'
          : `as invalid (${said})`
    return new ContentRejectedError(`Facebook refused the post ${what}.`, {
      ...base,
      platformCode,
      platformMessage: body.message,
    })
  }
  if (code === 1 || code === 2 || body.is_transient === true) {
    // A 503 says nothing was processed; any other transient answer to a publish may hide a post.
    if (params.irreversible && status !== 503) {
      return new OutcomeUnknownError(
        `Facebook answered ${where} with a transient error (${platformCode}: ${said}); the post may or may not have been made. Look it up before trying again.`,
        base,
      )
    }
    return new PlatformUnavailableError(
      `Facebook is unavailable (${platformCode} on ${where}: ${said}). Try again later.`,
      base,
    )
  }
  return params.fallback
}

/** What Graph's usage headers say. */
export interface GraphUsage {
  /** The highest percentage of any limit used (`call_count`, `total_cputime`, `total_time`). */
  percentUsed: number | undefined
  /** The longest `estimated_time_to_regain_access` of the business use cases, in seconds. */
  retryAfterSeconds: number | undefined
}

/**
 * Reads `X-Business-Use-Case-Usage` (`{"<page-id>":[{type, call_count, total_cputime,
 * total_time, estimated_time_to_regain_access}]}`, the wait in minutes), `X-App-Usage` and
 * `X-Page-Usage` (`{call_count, total_cputime, total_time}`, percentages). Malformed headers
 * count as absent.
 *
 * https://developers.facebook.com/docs/graph-api/overview/rate-limiting
 *
 * @example
 * ```ts
 * readUsageHeaders(new Headers({ 'x-app-usage': '{"call_count":100,"total_cputime":3,"total_time":4}' }))
 * // { percentUsed: 100, retryAfterSeconds: undefined }
 * ```
 */
export function readUsageHeaders(headers: Headers): GraphUsage {
  const percents: number[] = []
  let minutes: number | undefined
  const collect = (entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return
    const record = entry as Record<string, unknown>
    for (const name of ['call_count', 'total_cputime', 'total_time']) {
      if (typeof record[name] === 'number') percents.push(record[name])
    }
    const wait = record.estimated_time_to_regain_access
    if (typeof wait === 'number' && wait > 0) minutes = Math.max(minutes ?? 0, wait)
  }
  const business = parseHeader(headers.get('x-business-use-case-usage'))
  if (typeof business === 'object' && business !== null) {
    for (const entries of Object.values(business)) {
      if (Array.isArray(entries)) entries.forEach(collect)
    }
  }
  collect(parseHeader(headers.get('x-app-usage')))
  collect(parseHeader(headers.get('x-page-usage')))
  return {
    percentUsed: percents.length > 0 ? Math.max(...percents) : undefined,
    // Rounded to the millisecond first, so 0.7 minutes is 42 s and not 43.
    retryAfterSeconds:
      minutes === undefined ? undefined : Math.ceil(Math.round(minutes * 60_000) / 1000),
  }
}

function parseHeader(value: string | null): unknown {
  if (value === null) return undefined
  try {
    return JSON.parse(value)
  } catch {
    return undefined
  }
}
