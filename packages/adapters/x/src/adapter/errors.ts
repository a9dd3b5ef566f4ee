import {
  type AdapterError,
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

export const PLATFORM = 'x'

/**
 * Reads X's error bodies: RFC 7807 problems (`{ type, title, detail }`, code = the problem type's
 * last segment, e.g. `invalid-request`, `usage-capped`; `about:blank` has none), the legacy
 * `{ errors: [{ code, message }] }` and OAuth's `{ error, error_description }`.
 * https://docs.x.com/x-api/fundamentals/response-codes-and-errors
 */
export function readXError(body: unknown): PlatformErrorDetails {
  if (typeof body === 'object' && body !== null && 'type' in body && 'title' in body) {
    const problem = body as { type?: unknown; title?: unknown; detail?: unknown }
    const type = typeof problem.type === 'string' ? problem.type : ''
    const code = type === 'about:blank' ? undefined : type.split('/').pop() || undefined
    const message =
      typeof problem.detail === 'string'
        ? problem.detail
        : typeof problem.title === 'string'
          ? problem.title
          : undefined
    return { code, message }
  }
  return readCommonPlatformError(body)
}

/** The platform codes this adapter gives X's 403s, whose bodies carry no code of their own. */
export const xErrorCodes = {
  duplicateContent: 'duplicate-content',
  replyNotPermitted: 'reply-not-permitted',
  notPermitted: 'not-permitted',
} as const

/** When X says to try again: the latest reset among the windows it reports exhausted. */
export function readXRetryAfterSeconds(headers: Headers, now: Date): number | undefined {
  const nowSeconds = now.getTime() / 1000
  const resets: number[] = []
  // https://docs.x.com/x-api/fundamentals/rate-limits; the 24-hour headers are seen on
  // POST /2/tweets but not on that page (UNCONFIRMED names, widely observed).
  for (const prefix of ['x-rate-limit', 'x-user-limit-24hour', 'x-app-limit-24hour']) {
    const remaining = headers.get(`${prefix}-remaining`)
    const reset = Number(headers.get(`${prefix}-reset`))
    if (remaining === '0' && Number.isFinite(reset) && reset > 0) resets.push(reset)
  }
  if (resets.length === 0) {
    const reset = Number(headers.get('x-rate-limit-reset'))
    if (Number.isFinite(reset) && reset > 0) resets.push(reset)
  }
  const retryAfter = Number(headers.get('retry-after'))
  const fromResets =
    resets.length === 0 ? undefined : Math.max(0, Math.ceil(Math.max(...resets) - nowSeconds))
  if (Number.isFinite(retryAfter) && headers.has('retry-after')) {
    return Math.max(Math.ceil(retryAfter), fromResets ?? 0)
  }
  return fromResets
}

/** One X API request, every failure mapped to the taxonomy with X's quirks handled first. */
export async function sendXRequest(
  request: Omit<PlatformRequest, 'platform' | 'readError'>,
  options: CallOptions,
  now: () => Date,
): Promise<Response> {
  let failed: Response | undefined
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const response = await (options.fetch ?? globalThis.fetch)(input, init)
    if (response.status >= 400) failed = response.clone()
    return response
  }
  try {
    return await sendPlatformRequest(
      { ...request, platform: PLATFORM, readError: readXError },
      { ...options, fetch },
    )
  } catch (error) {
    if (!isAdapterError(error) || !failed) throw error
    throw mapXError(error, failed.headers, readXError(parse(await failed.text())), now())
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function mapXError(
  error: AdapterError,
  headers: Headers,
  details: PlatformErrorDetails,
  now: Date,
): AdapterError {
  const status = error.status
  const message = details.message ?? ''
  const base = { platform: PLATFORM, status, cause: error }
  if (status === 403) {
    // v2's successor of v1.1 code 187 ("Status is a duplicate."): a 403 about:blank problem.
    if (/duplicate content/i.test(message)) {
      return new ContentRejectedError(
        'X refused the post as a duplicate of a recent one; change the text.',
        { ...base, platformCode: xErrorCodes.duplicateContent, platformMessage: message },
      )
    }
    // Since 2026-02-23 self-serve apps may only reply where the author summoned the account.
    // https://docs.x.com/x-api/posts/manage-tweets/integrate (exact refusal text UNCONFIRMED)
    if (/reply|not been mentioned|summon/i.test(message)) {
      return new ContentRejectedError(
        `X refused the reply: ${message} Self-serve X apps may only reply where the author mentioned or quoted the account (since 2026-02-23).`,
        { ...base, platformCode: xErrorCodes.replyNotPermitted, platformMessage: message },
      )
    }
    if (/not permitted to perform this action/i.test(message)) {
      return new ContentRejectedError(
        `X refused the post: ${message} (too long, a media combination X does not accept, or its spam rules).`,
        { ...base, platformCode: xErrorCodes.notPermitted, platformMessage: message },
      )
    }
    if (details.code === 'client-forbidden') {
      return new UnexpectedResponseError(
        `X refused the app itself: ${message} Attach the app to a project with API access in the X developer portal.`,
        base,
      )
    }
    if (/suspended/i.test(message)) {
      return new ReconnectRequiredError(`X says the account is suspended: ${message}`, {
        ...base,
        reason: 'account_suspended',
      })
    }
    return new ReconnectRequiredError(
      `X refused the token (403${message ? `: ${message}` : ''}); connect the account again, granting every scope.`,
      { ...base, reason: details.code ?? 'forbidden' },
    )
  }
  if (status === 429) {
    const retryAfterSeconds = readXRetryAfterSeconds(headers, now)
    const capped = details.code === 'usage-capped'
    // The app's own limits (its usage cap, its 24-hour posting limit) hold every account back.
    const appWide = capped || headers.get('x-app-limit-24hour-remaining') === '0'
    return new RateLimitedError(
      `${capped ? "The X app's usage cap is reached" : appWide ? "The X app's 24-hour limit is reached" : 'X rate limit reached'}${message ? ` (${message})` : ''}; retry ${
        retryAfterSeconds === undefined ? 'later' : `in ${retryAfterSeconds} s`
      }.`,
      { ...base, retryAfterSeconds, scope: appWide ? 'app' : 'account' },
    )
  }
  if (error.code === 'CONTENT_REJECTED') {
    return new ContentRejectedError(`X rejected the request${message ? `: ${message}` : ''}.`, {
      ...base,
      platformCode: details.code,
      platformMessage: details.message,
    })
  }
  return error
}

/**
 * X answers a dead authorization code, verifier or refresh token with `invalid_request` (not
 * RFC 6749's `invalid_grant`), which adapter-core reads as a configuration error; it is a grant
 * only a person can renew by connecting again.
 */
export async function withXGrantErrors<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    const content = isAdapterError(error) ? error.cause : undefined
    if (
      isAdapterError(error, 'UNEXPECTED_RESPONSE') &&
      isAdapterError(content, 'CONTENT_REJECTED') &&
      content.platformCode === 'invalid_request' &&
      /authorization code|code verifier|token was invalid|refresh token/i.test(
        content.platformMessage ?? '',
      )
    ) {
      throw new ReconnectRequiredError(
        `X refused the grant (${content.platformMessage}). Connect the account again.`,
        { platform: PLATFORM, status: content.status, reason: 'invalid_grant', cause: error },
      )
    }
    throw error
  }
}
