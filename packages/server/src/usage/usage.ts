import { and, eq, gte, lt, sql } from 'drizzle-orm'
import type { MiddlewareHandler } from 'hono'
import { routePath } from 'hono/route'
import type { Database } from '../db/client.ts'
import { coalescePerDatabase } from '../db/coalesce.ts'
import { consents, usageEvents, users, workspaces } from '../db/schema/index.ts'
import type { AppEnv } from '../http/router.ts'

/** How long raw usage events are kept: the privacy policy's "up to 24 months". */
export const USAGE_RETENTION_MONTHS = 24

/** One use of a feature, as recorded: no content, no secrets, no addresses. */
export interface UsageEvent {
  type: (typeof usageEvents.$inferSelect)['type']
  /** The route template, e.g. `POST /v1/posts/:id/retry`. */
  feature: string
  workspaceId?: string | undefined
  userId?: string | undefined
}

/**
 * Records usage events in one statement, leaving out those of a person who withdrew consent to
 * usage analytics (checked in the statement, as it is when the statement runs); an event whose
 * workspace or person was deleted meanwhile is dropped (not the whole batch).
 */
export async function recordUsageEvents(db: Pick<Database, 'execute'>, batch: UsageEvent[]) {
  if (batch.length === 0) return
  const rows = batch.map((event) => ({
    type: event.type,
    feature: event.feature,
    workspace_id: event.workspaceId ?? null,
    user_id: event.userId ?? null,
  }))
  await db.execute(sql`
    insert into ${usageEvents} (type, feature, workspace_id, user_id)
    select event.type, event.feature, event.workspace_id, event.user_id
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as event(type text, feature text, workspace_id text, user_id text)
    where (event.user_id is null or (
        exists (select 1 from ${users} where ${users.id} = event.user_id)
        and coalesce((
          select granted from ${consents}
          where user_id = event.user_id and purpose = 'usage_analytics'
          order by id desc limit 1), true)))
      and (event.workspace_id is null
        or exists (select 1 from ${workspaces} where ${workspaces.id} = event.workspace_id))`)
}

/** Usage events of concurrent requests, written together; one queue per database. */
const writeUsageEvents = coalescePerDatabase(async (db: Database, batch: UsageEvent[]) => {
  await recordUsageEvents(db, batch)
  return batch.map(() => undefined)
})

/**
 * Resolves once every usage event handed to the database so far is written (or failed): a
 * stopping server waits for it before closing its pool, so requests answered just before the
 * stop keep their events.
 */
export const usageEventsWritten = (db: Database) => writeUsageEvents.idle(db)

/**
 * Middleware recording which features callers use: one event per successful `/v1` request,
 * named by its route template (`POST /v1/posts`), and `post.scheduled` for each post created.
 * The event is written after the response, off the request's path, together with the events of
 * other requests that end while a write is running (one statement for them all, no added wait);
 * a failure is only logged.
 *
 * @example
 * ```ts
 * createRouter().use('*', usageTracking()).route('/', postRoutes())
 * ```
 */
export function usageTracking(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next()
    if (c.res.status >= 400) return
    const principal = c.var.principal
    if (!principal) return
    const route = routePath(c)
    if (!route || route === '/*' || route.endsWith('*')) return
    const feature = `${c.req.method} ${route}`
    const event: UsageEvent = {
      type:
        feature === 'POST /v1/posts' && c.res.status === 201 ? 'post.scheduled' : 'feature.used',
      feature,
      workspaceId: principal.type === 'user' ? undefined : principal.workspaceId,
      userId: principal.type === 'user' ? principal.userId : undefined,
    }
    const { db, logger } = c.var.services
    writeUsageEvents(db, event).catch((error: unknown) =>
      logger.warn({ err: error, feature }, 'a usage event could not be recorded'),
    )
  }
}

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
