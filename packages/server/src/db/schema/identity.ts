import { sql } from 'drizzle-orm'
import {
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  primaryKey,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core'
import { createdAt, instant, postScheduler } from './namespace.ts'

/**
 * People who sign in. The date of birth given at sign-up is checked and never stored: the privacy
 * policy does not list it among what we collect.
 */
export const users = postScheduler.table(
  'users',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    email: text('email').notNull(),
    emailVerifiedAt: instant('email_verified_at'),
    /** Argon2id PHC string; never the password itself. */
    passwordHash: text('password_hash').notNull(),
    locale: text('locale').notNull().default('en'),
    timezone: text('timezone').notNull().default('UTC'),
    createdAt: createdAt(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('users_email_key').on(sql`lower(${t.email})`)],
)

/** Signed-in browsers and clients. Only a SHA-256 of the token is kept, so a leaked table signs no one in. */
export const sessions = postScheduler.table(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    userAgent: text('user_agent'),
    ip: text('ip'),
    createdAt: createdAt(),
    lastSeenAt: instant('last_seen_at').notNull().defaultNow(),
    expiresAt: instant('expires_at').notNull(),
    revokedAt: instant('revoked_at'),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
)

/** One-time tokens sent by email: address verification, email change, password reset. Hashed. */
export const emailTokens = postScheduler.table(
  'email_tokens',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    purpose: text('purpose', {
      enum: ['verify_email', 'change_email', 'reset_password'],
    }).notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    /** For `change_email`: the address to switch to once confirmed. */
    email: text('email'),
    createdAt: createdAt(),
    expiresAt: instant('expires_at').notNull(),
    usedAt: instant('used_at'),
  },
  (t) => [index('email_tokens_user_idx').on(t.userId)],
)

/** The tenant. Everything a customer owns hangs off one workspace. */
export const workspaces = postScheduler.table(
  'workspaces',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    /** Browser origins allowed to call the API with this workspace's profile tokens (CORS). */
    corsOrigins: text('cors_origins').array().notNull().default(sql`'{}'::text[]`),
    createdAt: createdAt(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  // CORS preflights look an origin up across every workspace.
  (t) => [index('workspaces_cors_origins_idx').using('gin', t.corsOrigins)],
)

export const workspaceMembers = postScheduler.table(
  'workspace_members',
  {
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ['owner', 'admin', 'member'] }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.userId] }),
    index('workspace_members_user_idx').on(t.userId),
  ],
)

export const invitations = postScheduler.table(
  'invitations',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    role: text('role', { enum: ['admin', 'member'] }).notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    invitedBy: text('invited_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: createdAt(),
    expiresAt: instant('expires_at').notNull(),
    acceptedAt: instant('accepted_at'),
    revokedAt: instant('revoked_at'),
  },
  (t) => [index('invitations_workspace_idx').on(t.workspaceId)],
)

/** Secret keys for a product's backend. Only a SHA-256 of the key is kept. */
export const apiKeys = postScheduler.table(
  'api_keys',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    mode: text('mode', { enum: ['live', 'test'] }).notNull(),
    scopes: text('scopes').array().notNull(),
    keyHash: text('key_hash').notNull().unique(),
    /** The key's last four characters, to tell keys apart in lists. */
    lastFour: text('last_four').notNull(),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    lastUsedAt: instant('last_used_at'),
    revokedAt: instant('revoked_at'),
  },
  (t) => [index('api_keys_workspace_idx').on(t.workspaceId)],
)

/** The embedding product's end customers (or brands) inside a workspace. */
export const profiles = postScheduler.table(
  'profiles',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    /** The embedding product's own id for this customer; unique within the workspace. */
    externalId: text('external_id'),
    name: text('name').notNull(),
    /** The profile a workspace used directly works in; one per workspace. */
    isDefault: boolean('is_default').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('profiles_external_id_key')
      .on(t.workspaceId, t.externalId)
      .where(sql`${t.externalId} is not null`),
    uniqueIndex('profiles_default_key').on(t.workspaceId).where(sql`${t.isDefault}`),
    index('profiles_workspace_idx').on(t.workspaceId),
  ],
)

/** Short-lived tokens for the browser widgets, limited to one profile and some scopes. Hashed. */
export const profileTokens = postScheduler.table(
  'profile_tokens',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    profileId: text('profile_id')
      .notNull()
      .references(() => profiles.id, { onDelete: 'cascade' }),
    scopes: text('scopes').array().notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: createdAt(),
    expiresAt: instant('expires_at').notNull(),
    revokedAt: instant('revoked_at'),
  },
  (t) => [index('profile_tokens_profile_idx').on(t.profileId)],
)

/**
 * Counters for rate limits and brute-force protection, shared by every API process. One row per
 * key (e.g. `sign-in:ip:203.0.113.7`) and fixed window.
 */
export const rateLimits = postScheduler.table('rate_limits', {
  key: text('key').primaryKey(),
  windowStartedAt: instant('window_started_at').notNull(),
  hits: integer('hits').notNull(),
  /** Set when the key is blocked outright until then (e.g. the sign-up age gate). */
  blockedUntil: instant('blocked_until'),
})

/**
 * Append-only record of security-relevant events and of access to personal data by anyone but
 * its owner. A trigger refuses UPDATE and DELETE, whatever the role (see the migration).
 */
export const auditLog = postScheduler.table(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    workspaceId: text('workspace_id'),
    actorType: text('actor_type', {
      enum: ['user', 'api_key', 'profile_token', 'system', 'anonymous'],
    }).notNull(),
    actorId: text('actor_id'),
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    /** The person whose data or account the event concerns, for their access requests. */
    subjectUserId: text('subject_user_id'),
    ip: text('ip'),
    requestId: text('request_id'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    index('audit_log_workspace_idx').on(t.workspaceId, t.id),
    index('audit_log_subject_idx').on(t.subjectUserId),
  ],
)
