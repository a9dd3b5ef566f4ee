import { asc, desc, type SQL, sql } from 'drizzle-orm'
import type { PgColumn } from 'drizzle-orm/pg-core'
import { decodeCursor } from '../http/pagination.ts'
import { ProblemError } from '../http/problem.ts'

const MICROSECOND_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/

/**
 * Ordering and cursor condition for a list sorted by creation time, with the id as tie-breaker.
 * The cursor key is the creation time to the microsecond, as PostgreSQL stores it: a JavaScript
 * `Date` keeps only milliseconds, and rows created within the same millisecond would otherwise be
 * skipped or repeated between pages.
 *
 * @example
 * ```ts
 * const order = chronological(profiles.createdAt, profiles.id, query.cursor, 'desc')
 * const rows = await db
 *   .select({ profile: profiles, key: order.key })
 *   .from(profiles)
 *   .where(and(eq(profiles.workspaceId, workspaceId), order.after))
 *   .orderBy(...order.orderBy)
 *   .limit(query.limit + 1)
 * return toPage(rows, query.limit, (row) => ({ key: row.key, id: row.profile.id }), present)
 * ```
 */
export function chronological(
  createdAt: PgColumn,
  id: PgColumn,
  cursor: string | undefined,
  direction: 'asc' | 'desc',
): { key: SQL<string>; after: SQL | undefined; orderBy: SQL[] } {
  const key = sql<string>`to_char(${createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
  const position = cursor === undefined ? undefined : decodeCursor(cursor)
  if (position && !MICROSECOND_INSTANT.test(position.key)) {
    // A well-formed cursor from another list (or a forged one) must not reach the SQL cast.
    throw new ProblemError('VALIDATION_FAILED', 'The cursor is not one this list gave out', {
      issues: [
        {
          location: 'query',
          path: ['cursor'],
          code: 'invalid_cursor',
          message: 'Pass the nextCursor of the previous page unchanged',
        },
      ],
    })
  }
  const comparison = direction === 'asc' ? sql.raw('>') : sql.raw('<')
  const order = direction === 'asc' ? asc : desc
  return {
    key,
    after: position
      ? sql`(${createdAt}, ${id}) ${comparison} (${position.key}::timestamptz, ${position.id})`
      : undefined,
    orderBy: [order(createdAt), order(id)],
  }
}
