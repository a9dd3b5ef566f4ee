import { sql } from 'drizzle-orm'
import type { Database } from './client.ts'

/**
 * Takes a transaction-scoped advisory lock named by `key` (hashed to PostgreSQL's 64-bit lock
 * space), waiting for whoever holds it; it is released when the transaction ends.
 *
 * @example
 * ```ts
 * await db.transaction(async (tx) => {
 *   await lockKey(tx, `media-quota:${workspaceId}`)
 * })
 * ```
 */
export async function lockKey(tx: Pick<Database, 'execute'>, key: string) {
  await lockKeys(tx, [key])
}

/**
 * {@link lockKey} for several keys in one statement. They are taken in one order (sorted, each
 * once) whatever the order given, so two callers sharing keys cannot deadlock.
 *
 * @example
 * ```ts
 * await lockKeys(tx, accountIds.map((id) => `publishing-guard:${id}`))
 * ```
 */
export async function lockKeys(tx: Pick<Database, 'execute'>, keys: string[]) {
  const sorted = [...new Set(keys)].sort()
  if (sorted.length === 0) return
  // The subquery's order is the order the locks are taken in (the lock function is applied to
  // each row as the ordered scan yields it, never before the sort).
  await tx.execute(sql`
    select pg_advisory_xact_lock(hashtextextended(key, 0))
    from (select key from jsonb_array_elements_text(${JSON.stringify(sorted)}::jsonb) with ordinality as given(key, position) order by position offset 0) ordered`)
}
