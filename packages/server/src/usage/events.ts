import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.ts'
import { coalescePerDatabase } from '../db/coalesce.ts'
import {
  consents,
  type USAGE_EVENT_TYPES,
  usageEvents,
  users,
  workspaces,
} from '../db/schema/index.ts'

/** One use of a feature, as recorded: no content, no secrets, no addresses. */
export interface UsageEvent {
  type: (typeof USAGE_EVENT_TYPES)[number]
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
export const writeUsageEvents = coalescePerDatabase(async (db: Database, batch: UsageEvent[]) => {
  await recordUsageEvents(db, batch)
  return batch.map(() => undefined)
})

/**
 * Resolves once every usage event handed to the database so far is written (or failed): a
 * stopping server waits for it before closing its pool, so requests answered just before the
 * stop keep their events.
 */
export const usageEventsWritten = (db: Database) => writeUsageEvents.idle(db)
