import { sql } from 'drizzle-orm'
import { index, integer, jsonb, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core'
import { connectedAccounts } from './connections.ts'
import type { PlatformOverride, PostContentData } from './content.ts'
import { profiles, workspaces } from './identity.ts'
import { createdAt, instant, postScheduler } from './namespace.ts'
import { postSeries } from './scheduling.ts'

/** A post's status: the aggregate of its publications (a draft has none yet). */
export const POST_STATUSES = [
  'draft',
  'scheduled',
  'publishing',
  'published',
  'partially_published',
  'failed',
  'canceled',
] as const

/** A publication's state (see {@link publications}). */
export const PUBLICATION_STATUSES = [
  'scheduled',
  'queued',
  'publishing',
  'processing',
  'published',
  'failed',
  'unconfirmed',
  'canceled',
] as const

/** What the user should do about a failed publication. */
export const PUBLICATION_ERROR_ACTIONS = ['reconnect', 'fix_content', 'retry_later'] as const

/**
 * A post: content for one or more connected accounts, and when to publish it. Its `status` is the
 * aggregate of its publications, kept in step by the engine.
 */
export const posts = postScheduler.table(
  'posts',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    profileId: text('profile_id')
      .notNull()
      .references(() => profiles.id, { onDelete: 'cascade' }),
    status: text('status', { enum: POST_STATUSES }).notNull(),
    content: jsonb('content').$type<PostContentData>().notNull(),
    overrides: jsonb('overrides').$type<Record<string, PlatformOverride>>().notNull().default({}),
    /** The connected accounts it targets; a draft keeps them here until it is scheduled. */
    accountIds: text('account_ids').array().notNull().default(sql`'{}'::text[]`),
    /** The instant to publish at (UTC); null for drafts. */
    scheduledAt: instant('scheduled_at'),
    /** The IANA timezone the time was written in, for people and recurrence. */
    timezone: text('timezone').notNull().default('UTC'),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
    canceledAt: instant('canceled_at'),
    /** The recurring series this post is an occurrence of. */
    seriesId: text('series_id').references(() => postSeries.id, { onDelete: 'set null' }),
  },
  (t) => [
    index('posts_workspace_idx').on(t.workspaceId, t.createdAt, t.id),
    index('posts_profile_idx').on(t.profileId),
    index('posts_profile_scheduled_idx').on(t.profileId, t.scheduledAt),
    index('posts_series_idx').on(t.seriesId, t.scheduledAt),
  ],
)

/** Why a publication failed, as the API shows it. */
export interface PublicationError {
  code: string
  message: string
  retryable: boolean
  action?: (typeof PUBLICATION_ERROR_ACTIONS)[number] | undefined
  platformCode?: string | undefined
}

/**
 * One post × one connected account: the unit of publishing, with its own state machine
 * (`scheduled → queued → publishing → published | failed | unconfirmed`, or `canceled`; a platform
 * that finishes later puts `processing` between `publishing` and the end, and each check goes
 * `processing → publishing → …` again). A worker claims it with a conditional update that sets a
 * new `attemptId`; every later write is fenced by that id. `handles` holds what the adapter
 * checkpointed before the irreversible call, and what it answered `processing` with.
 */
export const publications = postScheduler.table(
  'publications',
  {
    id: text('id').primaryKey(),
    postId: text('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    workspaceId: text('workspace_id').notNull(),
    accountId: text('account_id')
      .notNull()
      .references(() => connectedAccounts.id, { onDelete: 'cascade' }),
    platform: text('platform').notNull(),
    status: text('status', { enum: PUBLICATION_STATUSES }).notNull(),
    /** When it should be published (the post's time, or a retry's). */
    dueAt: instant('due_at').notNull(),
    /** The current attempt: the fence of every write after a claim. */
    attemptId: text('attempt_id'),
    attempts: integer('attempts').notNull().default(0),
    /** A claim older than this is abandoned: another worker may take over (after reconciling). */
    deadlineAt: instant('deadline_at'),
    /**
     * Since when it waits for a place in its account's concurrency budget (first turned back):
     * an attempt of the account that ends wakes the longest-waiting. Null when not waiting.
     */
    awaitingSlotSince: instant('awaiting_slot_since'),
    handles: jsonb('handles').$type<Record<string, string>>().notNull().default({}),
    /**
     * Set when the platform accepted the post and finishes it later (`publish` answered
     * `processing`): every later attempt checks (`checkPublication`) and none publishes again.
     * Checking stops at this instant (the platform's or the engine's limit): then `unconfirmed`.
     */
    processingUntil: instant('processing_until'),
    platformPostId: text('platform_post_id'),
    url: text('url'),
    error: jsonb('error').$type<PublicationError>(),
    publishedAt: instant('published_at'),
    createdAt: createdAt(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('publications_post_account_key').on(t.postId, t.accountId),
    index('publications_due_idx')
      .on(t.dueAt)
      .where(sql`${t.status} in ('scheduled', 'queued', 'publishing', 'processing')`),
    // An account's publications around a time: the publishing guards (daily cap, duplicates) read
    // a day or two of them, however long the account's history.
    index('publications_account_due_idx').on(t.accountId, t.dueAt),
    // The per-account concurrency budget counts an account's claims in flight.
    index('publications_account_publishing_idx')
      .on(t.accountId)
      .where(sql`${t.status} = 'publishing'`),
  ],
)

/** Each attempt of a publication: its timeline, as the API shows it. */
export const publicationAttempts = postScheduler.table(
  'publication_attempts',
  {
    attemptId: text('attempt_id').primaryKey(),
    publicationId: text('publication_id')
      .notNull()
      .references(() => publications.id, { onDelete: 'cascade' }),
    startedAt: instant('started_at').notNull().defaultNow(),
    finishedAt: instant('finished_at'),
    /**
     * `published`, `failed`, `unconfirmed`, `retry`, `reconciled`, `unknown`, `processing`, or null
     * while running.
     */
    outcome: text('outcome'),
    error: jsonb('error').$type<PublicationError>(),
    worker: text('worker'),
  },
  (t) => [index('publication_attempts_publication_idx').on(t.publicationId, t.startedAt)],
)

/**
 * Responses of POST requests by `Idempotency-Key`, kept 24 hours: the same key and body replays the
 * response; another body is refused; a request still in flight answers 409.
 */
export const idempotencyKeys = postScheduler.table(
  'idempotency_keys',
  {
    /** The caller: an API key, session or profile token id. */
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    createdAt: createdAt(),
    expiresAt: instant('expires_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.scope, t.key] }),
    // The purge deletes by expiry.
    index('idempotency_keys_expires_idx').on(t.expiresAt),
  ],
)
