import {
  type CallOptions,
  ContentRejectedError,
  isAdapterError,
  type PlatformErrorDetails,
  type PlatformRequest,
  RateLimitedError,
  ReconnectRequiredError,
  readCommonPlatformError,
  sendPlatformRequest,
  UnexpectedResponseError,
} from '@post-scheduler/adapter-core'

export const PLATFORM = 'linkedin'
export const API_ORIGIN = 'https://api.linkedin.com'
export const OAUTH_BASE_URL = 'https://www.linkedin.com/oauth/v2'

/** What every call needs: where the API is, the API version and the clock. */
export interface LinkedInHTTPContext {
  /** `https://api.linkedin.com` unless configured (an emulator). */
  apiBaseURL: string
  version: string
  now: () => Date
}

/** One call to LinkedIn's API. */
export interface LinkedInRequest {
  method: PlatformRequest['method']
  /** A path on the API (`https://api.linkedin.com`, with its query), or an absolute upload URL. */
  url: string
  accessToken?: string
  /** Adds `LinkedIn-Version` and `X-Restli-Protocol-Version` (the `/rest` API). */
  versioned?: boolean
  headers?: Record<string, string>
  json?: unknown
  body?: PlatformRequest['body']
  irreversible?: boolean
}

/**
 * Sends one request to LinkedIn and turns its failures into the adapter errors the runner
 * branches on, with LinkedIn's quirks applied (see {@link translateLinkedInError}).
 */
export async function sendLinkedInRequest(
  context: LinkedInHTTPContext,
  request: LinkedInRequest,
  options: CallOptions = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...request.headers }
  if (request.accessToken !== undefined) headers.authorization = `Bearer ${request.accessToken}`
  if (request.versioned) {
    // https://learn.microsoft.com/en-us/linkedin/marketing/versioning
    headers['linkedin-version'] = context.version
    headers['x-restli-protocol-version'] = '2.0.0'
  }
  try {
    return await sendPlatformRequest(
      {
        platform: PLATFORM,
        method: request.method,
        url: request.url.startsWith('/') ? `${context.apiBaseURL}${request.url}` : request.url,
        headers,
        ...(request.json === undefined ? {} : { json: request.json }),
        ...(request.body === undefined ? {} : { body: request.body }),
        irreversible: request.irreversible,
        readError: readLinkedInError,
      },
      options,
    )
  } catch (error) {
    throw translateLinkedInError(error, context)
  }
}

/**
 * Reads LinkedIn's error bodies: `{"status":403,"code":"ACCESS_DENIED","message":"…",
 * "serviceErrorCode":100}` (fields vary; `code` is often absent, then `serviceErrorCode` stands
 * in), and OAuth's `{"error","error_description"}` at the token endpoint.
 */
export function readLinkedInError(body: unknown): PlatformErrorDetails {
  if (typeof body !== 'object' || body === null || 'error' in body) {
    return readCommonPlatformError(body)
  }
  const record = body as Record<string, unknown>
  const code =
    typeof record.code === 'string'
      ? record.code
      : typeof record.serviceErrorCode === 'number'
        ? String(record.serviceErrorCode)
        : undefined
  return { code, message: typeof record.message === 'string' ? record.message : undefined }
}

const DUPLICATE = /duplicate/i
const POST_URN = /urn:li:(?:share|ugcPost):[A-Za-z0-9_-]+/
const VERSION_CODES = new Set(['VERSION_MISSING', 'NONEXISTENT_VERSION', 'VERSION_NOT_ACTIVE'])

/**
 * The URN of the existing post a duplicate refusal names ("Content is a duplicate of
 * urn:li:share:…"), or `undefined` when `error` is not a duplicate refusal.
 */
export function duplicateOf(error: unknown): { urn: string | undefined } | undefined {
  if (!isAdapterError(error, 'CONTENT_REJECTED')) return undefined
  const said = `${error.platformCode ?? ''} ${error.platformMessage ?? ''}`
  if (!DUPLICATE.test(said)) return undefined
  return { urn: POST_URN.exec(said)?.[0] }
}

/**
 * Applies LinkedIn's quirks to an adapter error from the generic status mapping:
 *
 * - 429 carries no headers: the limits are daily and "reset at midnight UTC", so the wait is
 *   computed until the next midnight UTC by the injected clock.
 * - A missing or sunset `LinkedIn-Version` is our configuration, not the person's content.
 * - Duplicate posts are refused with 422 "Content is a duplicate of urn:li:share:…".
 * - 401/403 say why in `serviceErrorCode`/`message`: expired, revoked, or missing permission.
 */
export function translateLinkedInError(error: unknown, context: LinkedInHTTPContext): unknown {
  if (!isAdapterError(error)) return error
  const base = { platform: PLATFORM, status: error.status, cause: error }
  switch (error.code) {
    case 'RATE_LIMITED': {
      if (error.retryAfterSeconds !== undefined) return error
      // https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/rate-limits
      const retryAfterSeconds = secondsUntilNextMidnightUTC(context.now())
      return new RateLimitedError(
        `LinkedIn's daily API limit for this app or member is used up (429). It resets at midnight UTC, in ${retryAfterSeconds} s.`,
        { ...base, retryAfterSeconds },
      )
    }
    case 'CONTENT_REJECTED': {
      if (
        VERSION_CODES.has(error.platformCode ?? '') ||
        /version/i.test(error.platformMessage ?? '')
      )
        return versionError(error, context)
      const duplicate = duplicateOf(error)
      if (!duplicate) return error
      return new ContentRejectedError(
        `LinkedIn refused the post as a duplicate of ${duplicate.urn ?? 'a recent post'}. Change the text before publishing it again.`,
        {
          ...base,
          platformCode: error.platformCode ?? 'DUPLICATE_POST',
          platformMessage: error.platformMessage,
        },
      )
    }
    case 'UNEXPECTED_RESPONSE':
      return error.status === 426 ? versionError(error, context) : error
    case 'RECONNECT_REQUIRED': {
      const reason = reconnectReason(error.status, error.reason, error.message)
      return new ReconnectRequiredError(
        `${error.message.replace(/ Connect the account again\.$/, '')} ${
          reason === 'insufficient_permissions'
            ? 'The token lacks a permission (scope or page role) this call needs: check the app’s products and the member’s role, then connect the account again.'
            : 'Connect the account again.'
        }`,
        { ...base, reason },
      )
    }
    default:
      return error
  }
}

function versionError(error: Error, context: LinkedInHTTPContext) {
  return new UnexpectedResponseError(
    `LinkedIn refused API version ${context.version} (${error.message}). Versions are sunset about a year after release: set a current \`version\` (YYYYMM) in the LinkedIn adapter's configuration.`,
    { platform: PLATFORM, status: (error as { status?: number }).status, cause: error },
  )
}

// serviceErrorCode 65600/65601 are the ones seen for invalid and revoked tokens (UNCONFIRMED in
// LinkedIn's documentation); the messages are checked as well.
function reconnectReason(status: number | undefined, code: string | undefined, message: string) {
  if (code === '65601' || /revoked/i.test(message)) return 'revoked'
  if (/expired/i.test(message)) return 'expired'
  if (status === 403) return 'insufficient_permissions'
  return code === 'invalid_grant' ? 'invalid_grant' : 'invalid_token'
}

/**
 * Whole seconds from `now` to the next midnight UTC, when LinkedIn's daily limits reset (at
 * least 1).
 *
 * @example
 * ```ts
 * secondsUntilNextMidnightUTC(new Date('2026-11-29T23:59:18Z')) // 42
 * ```
 */
export function secondsUntilNextMidnightUTC(now: Date): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)
  return Math.max(1, Math.ceil((midnight - now.getTime()) / 1000))
}
