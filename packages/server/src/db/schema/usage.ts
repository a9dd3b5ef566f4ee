import { bigserial, index, text } from 'drizzle-orm/pg-core'
import { users, workspaces } from './identity.ts'
import { instant, postScheduler } from './namespace.ts'

/** The kinds of usage event: a feature used (a route template), or a post scheduled. */
export const USAGE_EVENT_TYPES = ['feature.used', 'post.scheduled'] as const

/**
 * Usage analytics: which features are used and how many posts are scheduled, for product
 * improvement. Never content, never secrets: a feature is a route template such as
 * `POST /v1/posts`. Raw events are pruned after 24 months; people who withdrew consent to usage
 * analytics are not recorded.
 */
export const usageEvents = postScheduler.table(
  'usage_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    occurredAt: instant('occurred_at').notNull().defaultNow(),
    /** `feature.used` or `post.scheduled`. */
    type: text('type', { enum: USAGE_EVENT_TYPES }).notNull(),
    feature: text('feature').notNull(),
    workspaceId: text('workspace_id').references(() => workspaces.id, { onDelete: 'cascade' }),
    /** The signed-in person, when a person (not an API key) made the call. */
    userId: text('user_id').references(() => users.id, { onDelete: 'cascade' }),
  },
  (t) => [
    index('usage_events_occurred_idx').on(t.occurredAt),
    index('usage_events_workspace_idx').on(t.workspaceId, t.occurredAt),
    index('usage_events_user_idx').on(t.userId),
  ],
)
