import {
  type AdapterError,
  type CallOptions,
  ContentRejectedError,
  isAdapterError,
  type PlatformRequest,
  PlatformUnavailableError,
  RateLimitedError,
  ReconnectRequiredError,
  sendPlatformRequest,
} from '@post-scheduler/adapter-core'

export const PLATFORM = 'instagram'

/** Graph's error envelope (https://developers.facebook.com/docs/graph-api/guides/error-handling). */
interface GraphError {
  code?: number
  subcode?: number
  message?: string
  userMessage?: string
  transient?: boolean
}

function readGraphError(body: unknown): GraphError {
  const error =
    typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined
  if (typeof error !== 'object' || error === null) return {}
  const record = error as Record<string, unknown>
  const number = (value: unknown) =>
    typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : undefined
  return {
    code: number(record.code),
    subcode: number(record.error_subcode),
    message: typeof record.message === 'string' ? record.message : undefined,
    userMessage: typeof record.error_user_msg === 'string' ? record.error_user_msg : undefined,
    transient: record.is_transient === true,
  }
}

const THROTTLING = new Set([4, 17, 32, 613, 80002])
const TRANSIENT_SUBCODES = new Set([2207003, 2207032, 2207053, 2207027])

/**
 * Sends a Graph request with adapter-core's transport (timeouts, `OUTCOME_UNKNOWN` for a lost
 * irreversible call), then classifies an error answer by Graph's `code` and `error_subcode`:
 * Graph answers nearly every error with HTTP 400, so the status alone says little.
 */
export async function sendGraphRequest(
  request: Omit<PlatformRequest, 'platform'>,
  options: CallOptions = {},
): Promise<Response> {
  let answered: Response | undefined
  const baseFetch = options.fetch ?? globalThis.fetch
  // A copy of the error answer, headers included (the BUC usage header carries the wait).
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const response = await baseFetch(input, init)
    answered = response.status >= 400 ? response.clone() : undefined
    return response
  }
  try {
    return await sendPlatformRequest(
      {
        ...request,
        platform: PLATFORM,
        readError: (body) => {
          const error = readGraphError(body)
          return {
            code: error.subcode !== undefined ? String(error.subcode) : error.code?.toString(),
            message: error.userMessage ?? error.message,
          }
        },
      },
      { ...options, fetch },
    )
  } catch (error) {
    if (!isAdapterError(error) || !answered || error.code === 'OUTCOME_UNKNOWN') throw error
    const text = await answered.text().catch(() => '')
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      throw error
    }
    throw classifyGraphError(readGraphError(body), answered, error)
  }
}

function classifyGraphError(graph: GraphError, response: Response, fallback: AdapterError) {
  const base = { platform: PLATFORM, status: response.status, cause: fallback }
  const said = graph.message ?? `code ${graph.code}`
  const { code, subcode } = graph
  if (code === undefined) return fallback
  // 190 (and its subcodes 458–467) and 102: the token is invalid, expired or revoked.
  if (code === 190 || code === 102) {
    return new ReconnectRequiredError(
      `Instagram refused the access token (${said}). Connect the account again.`,
      {
        ...base,
        reason: subcode === 463 ? 'expired' : subcode === 460 ? 'password_changed' : 'revoked',
      },
    )
  }
  // 10 and 200–299: a permission is missing; only a new login that grants it helps.
  if (code === 10 || (code >= 200 && code <= 299)) {
    return new ReconnectRequiredError(
      `Instagram refused the call for a missing permission (${said}). Connect the account again and grant every permission asked for.`,
      { ...base, reason: 'insufficient_scope' },
    )
  }
  if (THROTTLING.has(code) || (code === 9 && subcode === 2207042)) {
    return new RateLimitedError(
      code === 9
        ? `Instagram's publishing limit for this account is reached (${said}). Retry once the 24-hour window moves on.`
        : `Instagram rate limited the call (${said}).`,
      {
        ...base,
        retryAfterSeconds: readRegainAccessSeconds(response.headers),
        // Code 4 is the app-wide limit (X-App-Usage); the others are the account's.
        scope: code === 4 ? 'app' : 'account',
      },
    )
  }
  if (
    code === 1 ||
    code === 2 ||
    graph.transient ||
    (subcode !== undefined && TRANSIENT_SUBCODES.has(subcode))
  ) {
    return new PlatformUnavailableError(
      `Instagram could not complete the call (${said}). Try again later.`,
      base,
    )
  }
  if (response.status === 400) {
    return new ContentRejectedError(`Instagram rejected the post: ${said}.`, {
      ...base,
      platformCode: String(subcode ?? code),
      platformMessage: graph.userMessage ?? graph.message,
    })
  }
  return fallback
}

/**
 * The wait Meta announces in `X-Business-Use-Case-Usage` (`estimated_time_to_regain_access`, in
 * minutes, per account and type), as seconds: the longest of them.
 * https://developers.facebook.com/docs/graph-api/overview/rate-limiting/
 *
 * @example
 * ```ts
 * readRegainAccessSeconds(new Headers({ 'x-business-use-case-usage': '{"1":[{"estimated_time_to_regain_access":5}]}' }))
 * // 300
 * ```
 */
export function readRegainAccessSeconds(headers: Headers): number | undefined {
  const header = headers.get('x-business-use-case-usage')
  if (!header) return undefined
  try {
    const usage = JSON.parse(header) as Record<
      string,
      { estimated_time_to_regain_access?: number }[]
    >
    const minutes = Object.values(usage)
      .flat()
      .map((entry) => entry.estimated_time_to_regain_access)
      .filter((value): value is number => typeof value === 'number')
    return minutes.length === 0 ? undefined : Math.round(Math.max(...minutes) * 60)
  } catch {
    return undefined
  }
}
