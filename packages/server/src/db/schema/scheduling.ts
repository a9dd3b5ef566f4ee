import { sql } from 'drizzle-orm'
import { index, integer, jsonb, text } from 'drizzle-orm/pg-core'
import type { PlatformOverride, PostContentData } from './content.ts'
import { profiles, workspaces } from './identity.ts'
import { createdAt, instant, postScheduler } from './namespace.ts'

/** One weekly slot of a posting schedule: ISO weekday (1 = Monday … 7 = Sunday) and `HH:mm`. */
export interface WeeklySlot {
  weekday: number
  time: string
}

/**
 * A profile's posting schedule: weekly slots in an IANA timezone. Posts created with
 * `queue: true` take the next slot no other post of the profile has.
 */
export const postingSchedules = postScheduler.table('posting_schedules', {
  profileId: text('profile_id')
    .primaryKey()
    .references(() => profiles.id, { onDelete: 'cascade' }),
  workspaceId: text('workspace_id')
    .notNull()
    .references(() => workspaces.id, { onDelete: 'cascade' }),
  timezone: text('timezone').notNull(),
  slots: jsonb('slots').$type<WeeklySlot[]>().notNull().default([]),
  createdAt: createdAt(),
  updatedAt: instant('updated_at').notNull().defaultNow(),
})

/**
 * A recurring post: an RRULE evaluated in the wall time of `timezone` from `startsAt`, and the
 * template each occurrence copies. Occurrences are materialised as posts ahead of time by the
 * sweeper; `lastOccurrenceAt` is the latest one materialised and `nextOccurrenceAt` the one to
 * materialise next (null once the rule has no more).
 */
export const postSeries = postScheduler.table(
  'post_series',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    profileId: text('profile_id')
      .notNull()
      .references(() => profiles.id, { onDelete: 'cascade' }),
    status: text('status', { enum: ['active', 'ended', 'canceled'] }).notNull(),
    /** The RRULE as given (without DTSTART), e.g. `FREQ=WEEKLY;BYDAY=MO;COUNT=10`. */
    rule: text('rule').notNull(),
    timezone: text('timezone').notNull(),
    /** DTSTART: the instant whose wall time in `timezone` the rule starts from. */
    startsAt: instant('starts_at').notNull(),
    accountIds: jsonb('account_ids').$type<string[]>().notNull(),
    content: jsonb('content').$type<PostContentData>().notNull(),
    overrides: jsonb('overrides').$type<Record<string, PlatformOverride>>().notNull().default({}),
    /** How many occurrences were materialised as posts. */
    occurrences: integer('occurrences').notNull().default(0),
    lastOccurrenceAt: instant('last_occurrence_at'),
    nextOccurrenceAt: instant('next_occurrence_at'),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
    canceledAt: instant('canceled_at'),
  },
  (t) => [
    index('post_series_profile_idx').on(t.profileId),
    index('post_series_due_idx').on(t.nextOccurrenceAt).where(sql`${t.status} = 'active'`),
  ],
)
