/** What a response's headers say about when to try again. */
export interface RateLimitInfo {
  /** Seconds to wait before trying again, rounded up; `undefined` when no header said. */
  retryAfterSeconds: number | undefined
  /** Requests allowed in the current window, when announced. */
  limit: number | undefined
  /** Requests left in the current window, when announced. */
  remaining: number | undefined
}

/**
 * Reads when to retry from a response's headers, in this order of precedence:
 * `Retry-After` (seconds or an HTTP date, RFC 9110), the IETF `RateLimit` header (`t=` parameter)
 * or `RateLimit-Reset` (seconds), and X's `x-rate-limit-reset` (Unix epoch seconds).
 * Values in the past or unparseable are ignored.
 *
 * @example
 * ```ts
 * const { retryAfterSeconds } = parseRateLimitHeaders(response.headers)
 * throw new RateLimitedError('Rate limited.', { retryAfterSeconds })
 * ```
 */
export function parseRateLimitHeaders(headers: Headers, now: Date = new Date()): RateLimitInfo {
  const nowSeconds = now.getTime() / 1000
  const structured = parseStructuredRateLimit(headers.get('ratelimit'))
  const retryAfterSeconds =
    parseRetryAfter(headers.get('retry-after'), now) ??
    structured?.reset ??
    parseSeconds(headers.get('ratelimit-reset')) ??
    parseEpochReset(headers.get('x-rate-limit-reset'), nowSeconds)
  return {
    retryAfterSeconds,
    limit:
      parseSeconds(headers.get('ratelimit-limit')) ??
      parseSeconds(headers.get('x-rate-limit-limit')) ??
      structured?.limit,
    remaining:
      structured?.remaining ??
      parseSeconds(headers.get('ratelimit-remaining')) ??
      parseSeconds(headers.get('x-rate-limit-remaining')),
  }
}

/**
 * Parses a `Retry-After` value: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
 *
 * @example
 * ```ts
 * parseRetryAfter('120') // 120
 * parseRetryAfter('Wed, 21 Oct 2026 07:28:00 GMT', new Date('2026-10-21T07:27:00Z')) // 60
 * ```
 */
export function parseRetryAfter(value: string | null, now: Date = new Date()): number | undefined {
  if (value === null) return undefined
  const seconds = parseSeconds(value)
  if (seconds !== undefined) return seconds
  if (!/[a-z]/i.test(value)) return undefined
  const at = Date.parse(value)
  if (Number.isNaN(at)) return undefined
  const delta = Math.ceil((at - now.getTime()) / 1000)
  return delta >= 0 ? delta : undefined
}

function parseSeconds(value: string | null): number | undefined {
  if (value === null || !/^\s*\d+(\.\d+)?\s*$/.test(value)) return undefined
  return Math.ceil(Number(value))
}

function parseEpochReset(value: string | null, nowSeconds: number): number | undefined {
  const epoch = parseSeconds(value)
  if (epoch === undefined) return undefined
  const delta = Math.ceil(epoch - nowSeconds)
  return delta >= 0 ? delta : undefined
}

// draft-ietf-httpapi-ratelimit-headers: `RateLimit: "default";r=0;t=30` (newer drafts) or
// `RateLimit: limit=100, remaining=0, reset=30` (older drafts, still common).
function parseStructuredRateLimit(
  value: string | null,
): { reset?: number; limit?: number; remaining?: number } | undefined {
  if (value === null) return undefined
  const params = new Map<string, string>()
  for (const part of value.split(/[;,]/)) {
    const [key, raw] = part.split('=').map((piece) => piece.trim())
    if (key && raw !== undefined) params.set(key.toLowerCase(), raw)
  }
  const pick = (...keys: string[]) => {
    for (const key of keys) {
      const parsed = parseSeconds(params.get(key) ?? null)
      if (parsed !== undefined) return parsed
    }
    return undefined
  }
  const result = {
    reset: pick('t', 'reset'),
    limit: pick('limit', 'q'),
    remaining: pick('r', 'remaining'),
  }
  return Object.values(result).some((entry) => entry !== undefined) ? result : undefined
}
