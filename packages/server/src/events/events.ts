import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.ts'
import { generateId } from '../db/ids.ts'
import { events, webhookDeliveries, webhookEndpoints } from '../db/schema/index.ts'
import { EVENT_CATALOG, type EventData, type EventType } from './schemas.ts'

export {
  EVENT_CATALOG,
  EVENT_TYPES,
  type EventData,
  type EventType,
} from './schemas.ts'

/** An event to record: what happened, in which workspace (and profile), and its `data`. */
export interface NewEvent<T extends EventType = EventType> {
  type: T
  workspaceId: string
  /** The profile it concerns; leave it out for workspace-wide events. */
  profileId?: string | null | undefined
  /** The payload, checked against the type's schema (see `EVENT_CATALOG`). */
  data: EventData<T>
}

/**
 * Records an event in the event log, and queues its delivery to every enabled webhook endpoint of
 * the workspace whose filters (event types, profiles) match — in one statement. Call it inside the
 * transaction of the change the event describes: the event exists exactly when the change does,
 * and rolls back with it.
 *
 * @returns the event's id (`evt_…`), which is also the `webhook-id` of its deliveries.
 * @throws {z.ZodError} when `data` does not match the type's documented schema (a bug in the caller).
 * @example
 * ```ts
 * await db.transaction(async (tx) => {
 *   await tx.update(connectedAccounts).set({ status: 'revoked' }).where(eq(connectedAccounts.id, id))
 *   await recordEvent(tx, { type: 'account.disconnected', workspaceId, profileId, data })
 * })
 * ```
 */
export async function recordEvent<T extends EventType>(
  tx: Pick<Database, 'execute'>,
  event: NewEvent<T>,
): Promise<string> {
  const [id] = await recordEvents(tx, [event])
  return id as string
}

/**
 * {@link recordEvent} for several events at once, in one statement: they are recorded in the
 * order given (their `occurredAt` increases along the array).
 *
 * @returns the events' ids, in the order given.
 */
export async function recordEvents(
  tx: Pick<Database, 'execute'>,
  batch: NewEvent[],
): Promise<string[]> {
  if (batch.length === 0) return []
  const rows = batch.map((event, position) => {
    const entry = EVENT_CATALOG[event.type]
    return {
      position,
      id: generateId('evt'),
      workspace_id: event.workspaceId,
      profile_id: event.profileId ?? null,
      type: event.type,
      version: entry.version,
      data: (entry.data as { parse(data: unknown): unknown }).parse(event.data),
    }
  })
  // clock_timestamp(), not now(): events of one transaction keep the order they happened in.
  await tx.execute(sql`
    with event as (
      insert into ${events} (id, workspace_id, profile_id, type, version, data, occurred_at)
      select id, workspace_id, profile_id, type, version, data, clock_timestamp()
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as given(position int, id text, workspace_id text, profile_id text, type text, version int, data jsonb)
      order by position
      returning id, workspace_id, profile_id, type
    )
    insert into ${webhookDeliveries} (endpoint_id, event_id, workspace_id)
    select endpoint.id, event.id, event.workspace_id
    from ${webhookEndpoints} endpoint, event
    where endpoint.workspace_id = event.workspace_id
      and endpoint.enabled
      and (cardinality(endpoint.event_types) = 0 or event.type = any(endpoint.event_types))
      and (cardinality(endpoint.profile_ids) = 0 or event.profile_id is null
           or event.profile_id = any(endpoint.profile_ids))`)
  return rows.map((row) => row.id)
}
