import { integer, jsonb, text, timestamp } from 'drizzle-orm/pg-core'
import { workspaces } from './identity.ts'
import { postScheduler } from './namespace.ts'

/**
 * A workspace's overrides of the publishing guards: per-platform daily caps per connected account,
 * the duplicate-content window, and what happens to posts missed while everything was down. A workspace without a row, or a null field, uses the defaults.
 */
export const publishingSettings = postScheduler.table('publishing_settings', {
  workspaceId: text('workspace_id')
    .primaryKey()
    .references(() => workspaces.id, { onDelete: 'cascade' }),
  /** Publications per connected account per UTC day, by platform id. */
  dailyCaps: jsonb('daily_caps').$type<Record<string, number>>().notNull().default({}),
  /** How long the same text may not be scheduled again to the same account; 0 turns it off. */
  duplicateWindowSeconds: integer('duplicate_window_seconds'),
  /**
   * A publication first reached this long after its time (everything was down) is marked missed
   * (failed, `MISSED`) instead of published late; null publishes it whatever the delay.
   */
  missedAfterSeconds: integer('missed_after_seconds'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
})
