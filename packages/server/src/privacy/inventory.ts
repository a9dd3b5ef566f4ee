import { type SQL, sql } from 'drizzle-orm'
import type { Database } from '../db/client.ts'

/** Whose data a request is about: the person and the workspaces they own. */
export interface DataSubject {
  userId: string
  email: string
  /** Workspaces where the person is an owner: their content is the person's to see and take. */
  ownedWorkspaceIds: string[]
}

/** One table of a person's data, as the access view and the export show it. */
interface Section {
  /** Which of the table's rows are the person's. */
  rows: (subject: DataSubject) => SQL
  /** Columns never shown: credentials, hashes and ciphertexts. */
  omit?: string[]
  /** Hides what a row says about someone else (their address), given the row's columns. */
  redact?: (row: Record<string, unknown>, subject: DataSubject) => Record<string, unknown>
}

const owned = (column: string) => (subject: DataSubject) =>
  sql`${sql.identifier(column)} = any(${toTextArray(subject.ownedWorkspaceIds)})`
const mine = (column: string) => (subject: DataSubject) =>
  sql`${sql.identifier(column)} = ${subject.userId}`
const toTextArray = (values: string[]) => sql`${`{${values.join(',')}}`}::text[]`

/**
 * Every table that holds a person's data, and which of its rows are theirs. The access view
 * (`GET /v1/me/data`) and the export (`POST /v1/me/exports`) both read this list, and a test
 * compares it with the database: a new table must be added here or to {@link NOT_PERSONAL_DATA}.
 */
export const PERSONAL_DATA: Record<string, Section> = {
  users: { rows: mine('id'), omit: ['password_hash'] },
  sessions: { rows: mine('user_id'), omit: ['token_hash'] },
  email_tokens: { rows: mine('user_id'), omit: ['token_hash'] },
  workspace_members: { rows: mine('user_id') },
  workspaces: {
    rows: (s) =>
      sql`id in (select workspace_id from post_scheduler.workspace_members where user_id = ${s.userId})`,
  },
  invitations: {
    rows: (s) => sql`(${owned('workspace_id')(s)} or lower(email) = lower(${s.email}))`,
    omit: ['token_hash'],
  },
  api_keys: { rows: owned('workspace_id'), omit: ['key_hash'] },
  profiles: { rows: owned('workspace_id') },
  profile_tokens: { rows: owned('workspace_id'), omit: ['token_hash'] },
  oauth_apps: { rows: owned('workspace_id'), omit: ['client_secret_sealed'] },
  connection_attempts: {
    rows: owned('workspace_id'),
    omit: ['state_hash', 'code_verifier_sealed', 'tokens_sealed'],
  },
  connected_accounts: {
    rows: owned('workspace_id'),
    omit: ['access_token_sealed', 'refresh_token_sealed'],
  },
  media: { rows: owned('workspace_id') },
  media_references: {
    rows: (s) =>
      sql`media_id in (select id from post_scheduler.media where ${owned('workspace_id')(s)})`,
  },
  media_uploads: { rows: owned('workspace_id') },
  media_upload_parts: {
    rows: (s) =>
      sql`upload_id in (select id from post_scheduler.media_uploads where ${owned('workspace_id')(s)})`,
  },
  posts: { rows: owned('workspace_id') },
  publications: { rows: owned('workspace_id') },
  publication_attempts: {
    rows: (s) =>
      sql`publication_id in (select id from post_scheduler.publications where ${owned('workspace_id')(s)})`,
  },
  post_series: { rows: owned('workspace_id') },
  posting_schedules: { rows: owned('workspace_id') },
  publishing_settings: { rows: owned('workspace_id') },
  events: { rows: owned('workspace_id') },
  webhook_endpoints: { rows: owned('workspace_id') },
  webhook_deliveries: { rows: owned('workspace_id') },
  webhook_attempts: { rows: owned('workspace_id') },
  // Entries about the person, by them, or recording that someone else saw their data.
  audit_log: {
    // The client address of someone else who acted (an admin reading the person's details) is theirs.
    redact: (row, s) => (row.actor_id === s.userId ? row : { ...row, ip: null }),
    rows: (s) =>
      sql`(subject_user_id = ${s.userId} or actor_id = ${s.userId} or (target_type = 'user' and target_id = ${s.userId}) or details->'userIds' @> jsonb_build_array(${s.userId}::text))`,
  },
  consents: { rows: mine('user_id') },
  usage_events: { rows: mine('user_id') },
  privacy_exports: { rows: mine('user_id'), omit: ['storage_key'] },
  privacy_deletions: { rows: mine('user_id') },
}

/** Tables without personal data of their own, and why they are neither shown nor exported. */
export const NOT_PERSONAL_DATA: Record<string, string> = {
  rate_limits:
    'Counters of the rate limits and the sign-up age gate, deleted a day after their window started (or once their block ends). A key names a client address, a hash (of an email address or a session id), or a workspace’s API key or profile token; an erasure deletes those of the person’s address, sessions and client addresses.',
  idempotency_keys:
    'Replays of API responses for 24 hours (sealed); the same data is in the tables above.',
  media_garbage: 'Storage keys of deleted files awaiting removal.',
  sandbox_posts:
    'The sandbox platform’s own record of what it received: a stand-in for a third-party platform.',
  sandbox_state: 'The sandbox platform’s OAuth grants: a stand-in for a third-party platform.',
  policy_versions: 'The published privacy policies: public documents.',
  app_rate_limits:
    'When a platform app (by its client id) may be called again after reaching its app-wide limit.',
}

/**
 * The job queue's tables (pg-boss 12, in the `QUEUE_SCHEMA` schema) and what they hold; a
 * partition counts as its parent. A test compares this list with the database, so a table that a
 * pg-boss upgrade adds (an archive of finished jobs, say) fails it until it is classified here
 * and, if it holds jobs, erased.
 */
export const QUEUE_TABLES: Record<string, string> = {
  job: 'Jobs — waiting, running and finished: pg-boss 12 has no archive table, finished jobs stay here (a partition per queue) until its retention deletes them. Payloads hold ids only; an erasure deletes every job that mentions the person or anything that goes with them.',
  job_dependency: 'Which job waits for which: job ids.',
  queue: 'The queues and their settings.',
  queue_stats: 'How many jobs each queue held, over time.',
  schedule: 'Recurring jobs (the sweeps and clean-ups), without data about anyone.',
  subscription: 'pg-boss publish/subscribe routes (unused).',
  version: 'The version of the queue schema.',
  warning: 'Warnings pg-boss recorded about its queues (slow, large): names and counts.',
  bam: 'pg-boss’s own schema maintenance commands.',
  instance: 'The worker processes: host, process id, configuration.',
}

/** Columns never shown, whatever the table: names that say credential. */
const SECRET_COLUMN = /hash|sealed|secret|verifier|password/

const camel = (name: string) =>
  name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase())

/**
 * Reads every row of the person's data, table by table, without credentials: what the access
 * view answers and what the export writes (one JSON file per table).
 *
 * @example
 * ```ts
 * const data = await readPersonalData(db, subject)
 * data.posts // [{ id: 'post_…', content: { … }, … }]
 * ```
 */
export async function readPersonalData(
  db: Pick<Database, 'execute'>,
  subject: DataSubject,
): Promise<Record<string, Record<string, unknown>[]>> {
  const result: Record<string, Record<string, unknown>[]> = {}
  for (const [table, section] of Object.entries(PERSONAL_DATA)) {
    const rows = await db.execute<{ row: Record<string, unknown> }>(
      sql`select to_jsonb(t) as row from ${sql.identifier('post_scheduler')}.${sql.identifier(table)} t where ${section.rows(subject)} order by 1`,
    )
    const omit = new Set(section.omit)
    result[table] = rows.map(({ row }) =>
      Object.fromEntries(
        Object.entries(section.redact ? section.redact(row, subject) : row)
          .filter(([column]) => !omit.has(column) && !SECRET_COLUMN.test(column))
          .map(([column, value]) => [camel(column), value]),
      ),
    )
  }
  return result
}

/**
 * The person and the workspaces they own.
 *
 * @returns `undefined` when the user does not exist (any more).
 */
export async function findDataSubject(
  db: Pick<Database, 'execute'>,
  userId: string,
): Promise<DataSubject | undefined> {
  const [row] = await db.execute<{ email: string; owned: string[] }>(sql`
    select u.email, coalesce(array_agg(m.workspace_id) filter (where m.role = 'owner'), '{}') as owned
    from post_scheduler.users u
    left join post_scheduler.workspace_members m on m.user_id = u.id
    where u.id = ${userId}
    group by u.id`)
  return row ? { userId, email: row.email, ownedWorkspaceIds: row.owned } : undefined
}
