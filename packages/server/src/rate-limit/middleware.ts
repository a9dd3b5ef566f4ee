import type { Context, MiddlewareHandler } from 'hono'
import { hashSecret } from '../auth/secrets.ts'
import type { Database } from '../db/client.ts'
import { coalescePerDatabase } from '../db/coalesce.ts'
import { ProblemError } from '../errors/problem.ts'
import type { AppEnv } from '../http/router.ts'
import { hitRateLimits, type RateLimitResult } from './limiter.ts'

/**
 * Limits requests per caller — API key, session, profile token, or address when anonymous — to
 * `limit` per `windowSeconds`, across every API process (the count is in PostgreSQL; the hits of
 * requests arriving while a count is being written go together in the next statement). Announces the policy with the IETF
 * `RateLimit-Policy` and `RateLimit` headers and answers `429` with `Retry-After` when exceeded.
 *
 * @example
 * ```ts
 * app.use('/v1/*', rateLimit({ name: 'api', limit: 600, windowSeconds: 60 }))
 * ```
 */
export function rateLimit(options: {
  name: string
  limit: number
  windowSeconds: number
}): MiddlewareHandler<AppEnv> {
  const hit = coalescePerDatabase((db: Database, keys: string[]) =>
    hitRateLimits(db, { keys, limit: options.limit, windowSeconds: options.windowSeconds }),
  )
  return async (c, next) => {
    const result = await hit(c.var.services.db, `${options.name}:${callerKey(c)}`)
    announce(c, options.name, options.windowSeconds, result)
    if (!result.allowed) throw rateLimited(result.resetSeconds)
    await next()
  }
}

/** Sets the rate-limit headers for a policy on the response. */
export function announce(c: Context, name: string, windowSeconds: number, result: RateLimitResult) {
  c.header('RateLimit-Policy', `"${name}";q=${result.limit};w=${windowSeconds}`)
  c.header('RateLimit', `"${name}";r=${result.remaining};t=${result.resetSeconds}`)
}

/** A `429 RATE_LIMITED` problem whose response carries `Retry-After`. */
export function rateLimited(retryAfterSeconds: number, detail?: string) {
  return new ProblemError(
    'RATE_LIMITED',
    detail ?? `Too many requests; retry in ${retryAfterSeconds} s`,
    { retryAfterSeconds },
  )
}

/**
 * The caller's part of a counter's key. A person is counted by a hash of their session, so the
 * counter names no one (the erasure finds it by the same hash); keys and tokens are the
 * workspace's, not a person's.
 */
function callerKey(c: Context<AppEnv>) {
  const principal = c.var.principal
  if (!principal) return `ip:${c.var.clientIP}`
  if (principal.type === 'user') return `session:${hashSecret(principal.sessionId)}`
  if (principal.type === 'api_key') return `key:${principal.apiKeyId}`
  return `profile-token:${principal.tokenId}`
}
