import { index, integer, jsonb, text } from 'drizzle-orm/pg-core'
import { profiles, workspaces } from './identity.ts'
import { instant, postScheduler } from './namespace.ts'

/**
 * What happened, in the order it happened: one row per state change an integrator may care
 * about, written in the transaction of the change itself (see `src/events`). `GET /v1/events`
 * lists them and webhook deliveries fan out from them.
 */
export const events = postScheduler.table(
  'events',
  {
    /** `evt_…`: also the `webhook-id` of every delivery of this event. */
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    /** The profile the event concerns; null for workspace-wide events. */
    profileId: text('profile_id').references(() => profiles.id, { onDelete: 'cascade' }),
    /** `post.published`, `account.connected`, … (see `EVENT_TYPES`). */
    type: text('type').notNull(),
    /** Version of the `data` schema of this type. */
    version: integer('version').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    occurredAt: instant('occurred_at').notNull().defaultNow(),
  },
  (t) => [
    index('events_workspace_idx').on(t.workspaceId, t.occurredAt, t.id),
    index('events_profile_idx').on(t.profileId, t.occurredAt),
  ],
)
