import { sql } from 'drizzle-orm'
import { bigint, bigserial, boolean, index, integer, text, uniqueIndex } from 'drizzle-orm/pg-core'
import { users } from './identity.ts'
import { createdAt, instant, postScheduler } from './namespace.ts'

/**
 * A person's export of their data (portability): a ZIP built by a job, stored with the media
 * driver under `storageKey`, downloadable through short-lived links until `expiresAt`. Deleting
 * the row (expiry, erasure) leaves the object to the media clean-up (trigger).
 */
export const privacyExports = postScheduler.table(
  'privacy_exports',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    status: text('status', { enum: ['pending', 'ready', 'failed'] })
      .notNull()
      .default('pending'),
    storageKey: text('storage_key'),
    sizeBytes: bigint('size_bytes', { mode: 'number' }),
    /** Why the build failed, for people (never personal data). */
    error: text('error'),
    createdAt: createdAt(),
    readyAt: instant('ready_at'),
    /** After this the export and its file are removed, ready or not. */
    expiresAt: instant('expires_at').notNull(),
  },
  (t) => [
    index('privacy_exports_user_idx').on(t.userId),
    index('privacy_exports_expiry_idx').on(t.expiresAt),
  ],
)

/**
 * A request to erase a person's account and data. Erased at `eraseAt` (after the undo window) by
 * a resumable job that records each finished step in `stepsDone`. Once complete, `userId` is
 * cleared: what remains is the legal record that an erasure happened, under `pseudonym` (the id
 * that replaced the person's in the audit log), with no way back to the person.
 */
export const privacyDeletions = postScheduler.table(
  'privacy_deletions',
  {
    id: text('id').primaryKey(),
    /** The person to erase; null once erased. No foreign key: the row outlives the user row. */
    userId: text('user_id'),
    pseudonym: text('pseudonym').notNull(),
    /** `user_request` (the person asked) or `child_report` (an operator acting on a report). */
    reason: text('reason', { enum: ['user_request', 'child_report'] }).notNull(),
    status: text('status', { enum: ['scheduled', 'canceled', 'running', 'completed'] })
      .notNull()
      .default('scheduled'),
    eraseAt: instant('erase_at').notNull(),
    stepsDone: text('steps_done').array().notNull().default(sql`'{}'::text[]`),
    createdAt: createdAt(),
    canceledAt: instant('canceled_at'),
    completedAt: instant('completed_at'),
  },
  (t) => [
    uniqueIndex('privacy_deletions_open_key')
      .on(t.userId)
      .where(sql`${t.status} in ('scheduled', 'running')`),
    index('privacy_deletions_due_idx')
      .on(t.eraseAt)
      .where(sql`${t.status} in ('scheduled', 'running')`),
  ],
)

/**
 * Consent and acknowledgement records, appended, never changed: `privacy_policy` (the person saw
 * this policy version) and `usage_analytics` (optional processing, granted or withdrawn). The
 * latest row per purpose is the current choice.
 */
export const consents = postScheduler.table(
  'consents',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    purpose: text('purpose', { enum: ['privacy_policy', 'usage_analytics'] }).notNull(),
    policyVersion: integer('policy_version').notNull(),
    granted: boolean('granted').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('consents_user_idx').on(t.userId, t.purpose, t.id)],
)

/**
 * Privacy policy versions published after the first (version 1 ships with the package). A
 * version takes effect at `effectiveAt`, announced at least `PRIVACY_POLICY_NOTICE_DAYS` before;
 * `noticeCursor` is the last user notified, so an interrupted notification resumes.
 */
export const policyVersions = postScheduler.table('policy_versions', {
  version: integer('version').primaryKey(),
  text: text('text').notNull(),
  /** What changed, in a sentence or two, for the notice. */
  summary: text('summary').notNull(),
  effectiveAt: instant('effective_at').notNull(),
  publishedAt: createdAt(),
  noticeCursor: text('notice_cursor'),
  noticeSentAt: instant('notice_sent_at'),
})
