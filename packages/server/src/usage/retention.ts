import { lt, sql } from 'drizzle-orm'
import type { Database } from '../db/client.ts'
import { usageEvents } from '../db/schema/index.ts'

/** How long raw usage events are kept: the privacy policy's "up to 24 months". */
export const USAGE_RETENTION_MONTHS = 24

/**
 * Deletes raw usage events older than 24 months at `now` (the policy's limit). An event exactly
 * 24 months old is still within it.
 *
 * @returns how many were deleted.
 */
export async function pruneUsageEvents(db: Pick<Database, 'delete'>, now: Date): Promise<number> {
  const deleted = await db
    .delete(usageEvents)
    .where(
      lt(
        usageEvents.occurredAt,
        sql`${now.toISOString()}::timestamptz - make_interval(months => ${USAGE_RETENTION_MONTHS})`,
      ),
    )
    .returning({ id: usageEvents.id })
  return deleted.length
}
