import { sql } from 'drizzle-orm'
import { index, jsonb, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core'
import { profiles, workspaces } from './identity.ts'
import { createdAt, instant, postScheduler } from './namespace.ts'

/**
 * A workspace's own OAuth app for a platform ("bring your own app"). The secret is a vault
 * envelope bound to the workspace and platform; the server-wide app from the environment is the
 * fallback.
 */
export const oauthApps = postScheduler.table(
  'oauth_apps',
  {
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    platform: text('platform').notNull(),
    clientId: text('client_id').notNull(),
    clientSecretSealed: text('client_secret_sealed').notNull(),
    createdAt: createdAt(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.platform] })],
)

/**
 * An OAuth app whose platform-wide limit is reached (its usage cap, its daily posting limit): no
 * publication of any account connected through it calls the platform before `rateLimitedUntil`.
 * `key` is `<platform>:<client id>` — the platform counts by app, whichever workspaces use it.
 */
export const appRateLimits = postScheduler.table('app_rate_limits', {
  key: text('key').primaryKey(),
  rateLimitedUntil: instant('rate_limited_until').notNull(),
})

/**
 * One attempt to connect accounts: the OAuth `state` (hashed), the PKCE verifier (sealed), where
 * to send the person back, and — after the callback — the login's tokens (sealed) and the
 * accounts it gives access to, until the person chooses which to connect.
 */
export const connectionAttempts = postScheduler.table(
  'connection_attempts',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    profileId: text('profile_id')
      .notNull()
      .references(() => profiles.id, { onDelete: 'cascade' }),
    platform: text('platform').notNull(),
    stateHash: text('state_hash').notNull().unique(),
    codeVerifierSealed: text('code_verifier_sealed').notNull(),
    returnURL: text('return_url'),
    status: text('status', {
      enum: ['pending', 'choosing', 'connected', 'failed'],
    })
      .notNull()
      .default('pending'),
    /** The login's tokens after the code exchange, sealed; cleared once accounts are connected. */
    tokensSealed: text('tokens_sealed'),
    /** The accounts the login gives access to, without credentials. */
    accounts: jsonb('accounts').$type<AttemptAccount[]>(),
    error: text('error'),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    expiresAt: instant('expires_at').notNull(),
    completedAt: instant('completed_at'),
  },
  (t) => [index('connection_attempts_profile_idx').on(t.profileId)],
)

/** An account offered by a login, as stored on its connection attempt. */
export interface AttemptAccount {
  id: string
  kind: string
  name: string
  username?: string | undefined
  avatarURL?: string | undefined
  profileURL?: string | undefined
  /** Whether the platform gave this account credentials of its own (sealed separately). */
  hasOwnToken: boolean
}

/** A connected account's health: `reauth_required` needs its owner to connect it again. */
export const ACCOUNT_STATUSES = ['active', 'reauth_required', 'revoked'] as const

/**
 * A platform account connected to a profile. Tokens are vault envelopes bound to the row, the
 * workspace and the column; a refresh token is never replaced by an empty one.
 */
export const connectedAccounts = postScheduler.table(
  'connected_accounts',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    profileId: text('profile_id')
      .notNull()
      .references(() => profiles.id, { onDelete: 'cascade' }),
    platform: text('platform').notNull(),
    platformAccountId: text('platform_account_id').notNull(),
    kind: text('kind').notNull(),
    displayName: text('display_name').notNull(),
    username: text('username'),
    avatarURL: text('avatar_url'),
    profileURL: text('profile_url'),
    scopes: text('scopes').array().notNull().default(sql`'{}'::text[]`),
    accessTokenSealed: text('access_token_sealed'),
    refreshTokenSealed: text('refresh_token_sealed'),
    accessTokenExpiresAt: instant('access_token_expires_at'),
    refreshTokenExpiresAt: instant('refresh_token_expires_at'),
    status: text('status', { enum: ACCOUNT_STATUSES }).notNull().default('active'),
    /** Why the account needs attention, for people (never a token). */
    statusReason: text('status_reason'),
    lastRefreshedAt: instant('last_refreshed_at'),
    /**
     * The platform asked us to wait (rate limited) until then: none of the account's publications
     * calls it before, they wait their turn instead of each being refused.
     */
    rateLimitedUntil: instant('rate_limited_until'),
    connectedAt: instant('connected_at').notNull().defaultNow(),
    disconnectedAt: instant('disconnected_at'),
    createdAt: createdAt(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('connected_accounts_identity_key').on(t.profileId, t.platform, t.platformAccountId),
    index('connected_accounts_workspace_idx').on(t.workspaceId),
    index('connected_accounts_expiry_idx')
      .on(t.accessTokenExpiresAt)
      .where(sql`${t.status} = 'active'`),
  ],
)

/** What the sandbox platform "published": exactly what reached it, duplicates countable. */
export const sandboxPosts = postScheduler.table(
  'sandbox_posts',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id').notNull(),
    clientId: text('client_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    attemptId: text('attempt_id'),
    text: text('text').notNull(),
    media: jsonb('media').notNull(),
    thread: jsonb('thread').notNull(),
    firstComment: jsonb('first_comment'),
    options: jsonb('options').notNull(),
    contentDigest: text('content_digest').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull(),
    deletedAt: timestamp('deleted_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    uniqueIndex('sandbox_posts_idempotency_key').on(t.accountId, t.idempotencyKey),
    index('sandbox_posts_listing_idx').on(t.createdAt, t.id),
  ],
)

/** The sandbox platform's small OAuth and upload state (codes, token digests, grants). */
export const sandboxState = postScheduler.table('sandbox_state', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  expiresAt: instant('expires_at'),
})
