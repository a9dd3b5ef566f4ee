import { asc, desc, type SQL, sql } from 'drizzle-orm'
import type { PgColumn } from 'drizzle-orm/pg-core'
import { ProblemError } from '../errors/problem.ts'
import { isStorableText } from './text.ts'

/**
 * Encodes a position in a list as an opaque cursor. Lists are ordered by a sortable key and the
 * row id as a tie-breaker; the cursor carries both.
 *
 * @example
 * ```ts
 * const cursor = encodeCursor({ key: row.createdAt.toISOString(), id: row.id })
 * ```
 */
export function encodeCursor(position: { key: string; id: string }): string {
  return Buffer.from(JSON.stringify([position.key, position.id])).toString('base64url')
}

/**
 * Decodes a cursor made by {@link encodeCursor}. Lists decode through {@link chronological} or
 * {@link sequential}, which also check the key is one their ordering can compare.
 *
 * @throws {ProblemError} `VALIDATION_FAILED` on the `cursor` query parameter when it is not one.
 */
function decodeCursor(cursor: string): { key: string; id: string } {
  try {
    const [key, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[]
    if (typeof key === 'string' && typeof id === 'string' && isStorableText(key + id)) {
      return { key, id }
    }
  } catch {}
  throw invalidCursor()
}

const invalidCursor = () =>
  new ProblemError('VALIDATION_FAILED', 'The cursor is not one this list gave out', {
    issues: [
      {
        location: 'query',
        path: ['cursor'],
        code: 'invalid_cursor',
        message: 'Pass the nextCursor of the previous page unchanged',
      },
    ],
  })

/**
 * Turns `limit + 1` fetched rows into a page: the first `limit` rows and, when there were more,
 * the cursor after the last of them.
 */
export function toPage<Row, Item>(
  rows: Row[],
  limit: number,
  position: (row: Row) => { key: string; id: string },
  present: (row: Row) => Item,
): { data: Item[]; nextCursor: string | null } {
  const visible = rows.slice(0, limit)
  const last = visible.at(-1)
  return {
    data: visible.map(present),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(position(last)) : null,
  }
}

const MICROSECOND_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/

/** Whether `key` is an instant PostgreSQL can cast: the shape, and a real day and time in it. */
function isMicrosecondInstant(key: string): boolean {
  if (!MICROSECOND_INSTANT.test(key) || key.startsWith('0000')) return false
  const milliseconds = `${key.slice(0, 23)}Z`
  const date = new Date(milliseconds)
  // February 30th parses (rolled over to March); only an instant that prints back as given is real.
  return !Number.isNaN(date.getTime()) && date.toISOString() === milliseconds
}

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
  if (position && !isMicrosecondInstant(position.key)) {
    // A well-formed cursor from another list (or a forged one) must not reach the SQL cast.
    throw invalidCursor()
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

const SEQUENCE_ID = /^[1-9]\d{0,14}$/

/**
 * Ordering and cursor condition for a list sorted by a `bigserial` id, newest first: the cursor's
 * id must be such a number (its key is unused), so a cursor from another list is refused before
 * the query.
 *
 * @example
 * ```ts
 * const order = sequential(auditLog.id, query.cursor)
 * const rows = await db.select().from(auditLog).where(order.after).orderBy(...order.orderBy)
 * return toPage(rows, query.limit, (row) => ({ key: '', id: String(row.id) }), present)
 * ```
 */
export function sequential(
  id: PgColumn,
  cursor: string | undefined,
): { after: SQL | undefined; orderBy: SQL[] } {
  const position = cursor === undefined ? undefined : decodeCursor(cursor)
  if (position && !SEQUENCE_ID.test(position.id)) throw invalidCursor()
  return {
    after: position ? sql`${id} < ${Number(position.id)}` : undefined,
    orderBy: [desc(id)],
  }
}
