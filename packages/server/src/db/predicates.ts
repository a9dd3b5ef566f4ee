import { type Column, type SQL, sql } from 'drizzle-orm'

/**
 * `column = any($1)`: drizzle's `inArray` with the values as one array parameter. The statement's
 * text is the same whatever the number of values, so PostgreSQL prepares it once, and it plans an
 * index scan where a set-returning source (`jsonb_to_recordset`) alone would not tell it how few
 * rows to expect. For text columns (our ids).
 *
 * @example
 * ```ts
 * await db.update(posts).set({ status: 'publishing' }).where(anyOf(posts.id, postIds))
 * ```
 */
export function anyOf(column: Column | SQL, values: readonly string[]): SQL {
  return sql`${column} = any(${sql.param([...values])}::text[])`
}
