import { sql } from 'drizzle-orm'
import type { Database } from './client.ts'

/**
 * Takes a transaction-scoped advisory lock named by `key` (hashed to PostgreSQL's 64-bit lock
 * space), waiting for whoever holds it; it is released when the transaction ends. Callers taking
 * several keys take them in one order (sorted), so they cannot deadlock.
 *
 * @example
 * ```ts
 * await db.transaction(async (tx) => {
 *   await lockKey(tx, `media-quota:${workspaceId}`)
 * })
 * ```
 */
export async function lockKey(tx: Pick<Database, 'execute'>, key: string) {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`)
}
