import { and, eq, gte, inArray, lt } from 'drizzle-orm'
import type { TenantContext } from '../auth/principal.ts'
import { chronological, toPage } from '../db/pagination.ts'
import { events } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import type { Services } from '../services.ts'
import type { EventPayload } from './schemas.ts'

type Event = typeof events.$inferSelect

/**
 * An event as the API lists it and webhooks send it (the Standard Webhooks payload: `type`,
 * `timestamp`, `data`, with the event's id, the version of its `data`, workspace and profile).
 */
export function presentEvent(event: Event): EventPayload {
  return {
    id: event.id,
    type: event.type,
    version: event.version,
    timestamp: event.occurredAt.toISOString(),
    workspaceId: event.workspaceId,
    profileId: event.profileId,
    data: event.data,
  } as EventPayload
}

/** Filters and page of {@link listEvents}. */
export interface EventListQuery {
  limit: number
  cursor?: string | undefined
  /** Only these types. */
  types?: EventPayload['type'][] | undefined
  profileId?: string | undefined
  /** At or after this instant. */
  from?: string | undefined
  /** Before this instant. */
  to?: string | undefined
  /** `asc` to catch up from a point in time, `desc` (default) for the latest first. */
  order?: 'asc' | 'desc' | undefined
}

/**
 * The workspace's events (a profile token's profile only), newest first unless `order` is `asc`,
 * filtered by type, profile and a window of time.
 */
export async function listEvents(services: Services, tenant: TenantContext, query: EventListQuery) {
  const order = chronological(events.occurredAt, events.id, query.cursor, query.order ?? 'desc')
  const rows = await services.db
    .select({ event: events, key: order.key })
    .from(events)
    .where(
      and(
        eq(events.workspaceId, tenant.workspaceId),
        tenant.profileId === undefined ? undefined : eq(events.profileId, tenant.profileId),
        query.profileId === undefined ? undefined : eq(events.profileId, query.profileId),
        query.types?.length ? inArray(events.type, query.types) : undefined,
        query.from === undefined ? undefined : gte(events.occurredAt, new Date(query.from)),
        query.to === undefined ? undefined : lt(events.occurredAt, new Date(query.to)),
        order.after,
      ),
    )
    .orderBy(...order.orderBy)
    .limit(query.limit + 1)
  return toPage(
    rows,
    query.limit,
    (row) => ({ key: row.key, id: row.event.id }),
    (row) => presentEvent(row.event),
  )
}

/** One event of the caller's workspace (a profile token's profile only). */
export async function getEvent(services: Services, tenant: TenantContext, eventId: string) {
  const [event] = await services.db
    .select()
    .from(events)
    .where(
      and(
        eq(events.id, eventId),
        eq(events.workspaceId, tenant.workspaceId),
        tenant.profileId === undefined ? undefined : eq(events.profileId, tenant.profileId),
      ),
    )
  if (!event) throw new ProblemError('NOT_FOUND', `No event ${eventId}`)
  return presentEvent(event)
}
