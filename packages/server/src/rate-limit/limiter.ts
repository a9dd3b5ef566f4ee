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
  db: Pick<Database, 'execute'>,
  options: { key: string; limit: number; windowSeconds: number },
): Promise<RateLimitResult> {
  const [result] = await hitRateLimits(db, { ...options, keys: [options.key] })
  return result as RateLimitResult
}

/**
 * {@link hitRateLimit} for several hits at once (the same key may come several times), in one
 * statement: each key's count goes up by its number of hits, and each hit gets the result it
 * would have had alone, in the order given. Keys are written in sorted order, so concurrent
 * batches (from other processes too) cannot deadlock.
 *
 * @example
 * ```ts
 * const [first, second] = await hitRateLimits(db, { keys: ['api:key:a', 'api:key:a'], limit: 600, windowSeconds: 60 })
 * ```
 */
export async function hitRateLimits(
  db: Pick<Database, 'execute'>,
  options: { keys: string[]; limit: number; windowSeconds: number },
): Promise<RateLimitResult[]> {
  const { keys, limit, windowSeconds } = options
  const counts = new Map<string, number>()
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1)
  const given = [...counts]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, hits]) => ({ key, hits }))
  const window = sql`make_interval(secs => ${windowSeconds})`
  const rows = await db.execute<{
    key: string
    hits: number
    reset_seconds: number
    blocked: boolean
  }>(sql`
    insert into ${rateLimits} as limits (key, window_started_at, hits)
    select given.key, now(), given.hits
    from jsonb_to_recordset(${JSON.stringify(given)}::jsonb) as given(key text, hits int)
    order by given.key
    on conflict (key) do update set
      hits = case when limits.window_started_at <= now() - ${window} then excluded.hits else limits.hits + excluded.hits end,
      window_started_at = case when limits.window_started_at <= now() - ${window} then now() else limits.window_started_at end
    returning limits.key, limits.hits,
      ceil(extract(epoch from (greatest(limits.window_started_at + ${window}, coalesce(limits.blocked_until, now())) - now())))::int as reset_seconds,
      coalesce(limits.blocked_until > now(), false) as blocked`)
  const byKey = new Map(rows.map((row) => [row.key, row]))
  const seen = new Map<string, number>()
  return keys.map((key) => {
    const row = byKey.get(key)
    const before = seen.get(key) ?? 0
    seen.set(key, before + 1)
    // The batch's hits of a key are counted in the order given: the first is the first of them.
    const hits = (row?.hits ?? before + 1) - (counts.get(key) ?? 1) + before + 1
    return {
      allowed: !row?.blocked && hits <= limit,
      limit,
      remaining: row?.blocked ? 0 : Math.max(0, limit - hits),
      resetSeconds: Math.max(1, row?.reset_seconds ?? windowSeconds),
    }
  })
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

/** Longer than any window of a limit: a counter this old counts nothing any more. */
const STALE_AFTER_SECONDS = 24 * 60 * 60

/**
 * Deletes the counters whose window started over a day ago and that block nothing: they would
 * restart from zero at their next hit anyway, and their keys may name a client address.
 *
 * @returns how many were deleted.
 * @example
 * ```ts
 * await pruneRateLimits(db)
 * ```
 */
export async function pruneRateLimits(db: Pick<Database, 'execute'>): Promise<number> {
  const deleted = await db.execute(sql`
    delete from ${rateLimits}
    where ${rateLimits.windowStartedAt} < now() - make_interval(secs => ${STALE_AFTER_SECONDS})
      and (${rateLimits.blockedUntil} is null or ${rateLimits.blockedUntil} < now())
    returning 1`)
  return deleted.length
}
