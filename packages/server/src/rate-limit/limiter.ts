import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.ts'
import { rateLimits } from '../db/schema/index.ts'

/** The state of one rate-limit key after counting a hit. */
export interface RateLimitResult {
  allowed: boolean
  limit: number
  remaining: number
  /** Seconds until the window (or block) ends. */
  resetSeconds: number
}

/**
 * Counts one hit for `key` in a fixed window of `windowSeconds`, in PostgreSQL so that every API
 * process shares the count. One statement, so concurrent hits never lose an increment.
 *
 * @example
 * ```ts
 * const { allowed, resetSeconds } = await hitRateLimit(db, { key: 'sign-in:ip:203.0.113.7', limit: 10, windowSeconds: 900 })
 * ```
 */
export async function hitRateLimit(
  db: Database,
  options: { key: string; limit: number; windowSeconds: number },
): Promise<RateLimitResult> {
  const { key, limit, windowSeconds } = options
  const window = sql`make_interval(secs => ${windowSeconds})`
  const [row] = await db
    .insert(rateLimits)
    .values({ key, windowStartedAt: sql`now()`, hits: 1 })
    .onConflictDoUpdate({
      target: rateLimits.key,
      set: {
        hits: sql`case when ${rateLimits.windowStartedAt} <= now() - ${window} then 1 else ${rateLimits.hits} + 1 end`,
        windowStartedAt: sql`case when ${rateLimits.windowStartedAt} <= now() - ${window} then now() else ${rateLimits.windowStartedAt} end`,
      },
    })
    .returning({
      hits: rateLimits.hits,
      resetSeconds: sql<number>`ceil(extract(epoch from (greatest(${rateLimits.windowStartedAt} + ${window}, coalesce(${rateLimits.blockedUntil}, now())) - now())))::int`,
      blocked: sql<boolean>`coalesce(${rateLimits.blockedUntil} > now(), false)`,
    })
  const hits = row?.hits ?? 1
  return {
    allowed: !row?.blocked && hits <= limit,
    limit,
    remaining: row?.blocked ? 0 : Math.max(0, limit - hits),
    resetSeconds: Math.max(1, row?.resetSeconds ?? windowSeconds),
  }
}

/** Whether `key` is blocked outright (see {@link blockKey}), and for how many more seconds. */
export async function blockedSeconds(db: Database, key: string): Promise<number> {
  const [row] = await db.execute<{ seconds: number | null }>(
    sql`select ceil(extract(epoch from (${rateLimits.blockedUntil} - now())))::int as seconds from ${rateLimits} where ${rateLimits.key} = ${key} and ${rateLimits.blockedUntil} > now()`,
  )
  return row?.seconds ?? 0
}

/** Blocks `key` for `seconds`, whatever its count (e.g. sign-up after a refused date of birth). */
export async function blockKey(db: Database, key: string, seconds: number): Promise<void> {
  const until = sql`now() + make_interval(secs => ${seconds})`
  await db
    .insert(rateLimits)
    .values({ key, windowStartedAt: sql`now()`, hits: 0, blockedUntil: until })
    .onConflictDoUpdate({ target: rateLimits.key, set: { blockedUntil: until } })
}

/** Forgets the count of `key` (e.g. failed sign-ins after a successful one). */
export async function resetRateLimit(db: Database, key: string): Promise<void> {
  await db.execute(
    sql`delete from ${rateLimits} where ${rateLimits.key} = ${key} and ${rateLimits.blockedUntil} is null`,
  )
}
