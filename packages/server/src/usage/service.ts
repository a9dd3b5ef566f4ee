import { and, eq, gte, sql } from 'drizzle-orm'
import type { Database } from '../db/client.ts'
import { usageEvents } from '../db/schema/index.ts'
import { USAGE_RETENTION_MONTHS } from './retention.ts'

/**
 * A workspace's usage, aggregated by month, type and feature, over the retained 24 months.
 */
export async function aggregateUsage(db: Database, workspaceId: string, now: Date) {
  const month = sql<string>`to_char(date_trunc('month', ${usageEvents.occurredAt} at time zone 'UTC'), 'YYYY-MM')`
  const rows = await db
    .select({
      month,
      type: usageEvents.type,
      feature: usageEvents.feature,
      count: sql<number>`count(*)::int`,
    })
    .from(usageEvents)
    .where(
      and(
        eq(usageEvents.workspaceId, workspaceId),
        gte(
          usageEvents.occurredAt,
          sql`${now.toISOString()}::timestamptz - make_interval(months => ${USAGE_RETENTION_MONTHS})`,
        ),
      ),
    )
    .groupBy(month, usageEvents.type, usageEvents.feature)
    .orderBy(month, usageEvents.type, usageEvents.feature)
  return { data: rows }
}
