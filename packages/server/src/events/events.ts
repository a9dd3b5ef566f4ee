import { sql } from 'drizzle-orm'
import { generateId } from '../auth/secrets.ts'
import type { Database } from '../db/client.ts'
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
  const entry = EVENT_CATALOG[event.type]
  const data = entry.data.parse(event.data)
  const id = generateId('evt')
  // clock_timestamp(), not now(): events of one transaction keep the order they happened in.
  const profileId = event.profileId ?? null
  await tx.execute(sql`
    with event as (
      insert into ${events} (id, workspace_id, profile_id, type, version, data, occurred_at)
      values (${id}, ${event.workspaceId}, ${profileId}, ${event.type}, ${entry.version}, ${JSON.stringify(data)}::jsonb, clock_timestamp())
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
  return id
}
