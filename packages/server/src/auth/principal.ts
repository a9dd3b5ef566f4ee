import { and, eq, gt, isNull, sql } from 'drizzle-orm'
import type { Actor } from '../audit/record.ts'
import type { Database } from '../db/client.ts'
import { apiKeys, profileTokens, sessions } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import { hashSecret, hasValidChecksum } from './secrets.ts'

/** What a caller may do: read, write, or administer (keys, members, audit log). */
export type Scope = 'read' | 'write' | 'admin'
export const SCOPES = ['read', 'write', 'admin'] as const satisfies readonly Scope[]

/** Prefixes of the secrets the API accepts, by kind of caller. */
export const SECRET_PREFIXES = {
  session: 'pss_',
  liveKey: 'psk_live_',
  testKey: 'psk_test_',
  profileToken: 'pst_',
} as const

/** Who is calling: a signed-in person, a product's backend, or a browser widget. */
export type Principal =
  | { type: 'user'; userId: string; sessionId: string }
  | {
      type: 'api_key'
      apiKeyId: string
      workspaceId: string
      scopes: Scope[]
      mode: 'live' | 'test'
    }
  | {
      type: 'profile_token'
      tokenId: string
      workspaceId: string
      profileId: string
      scopes: Scope[]
    }

const unauthenticated = (detail: string) => new ProblemError('UNAUTHENTICATED', detail)

/** An API key as stored. */
export type ApiKeyRow = typeof apiKeys.$inferSelect

/** Finds the unrevoked API key with a secret's hash; see {@link findApiKeys}. */
export type ApiKeyFinder = (keyHash: string) => Promise<ApiKeyRow | undefined>

/**
 * The unrevoked API keys with the given secret hashes, one answer per hash in the order given:
 * one statement for the keys of many concurrent requests.
 *
 * @example
 * ```ts
 * const find = coalesce((hashes: string[]) => findApiKeys(db, hashes))
 * await resolvePrincipal(db, secret, { findApiKey: find })
 * ```
 */
export async function findApiKeys(
  db: Database,
  keyHashes: string[],
): Promise<(ApiKeyRow | undefined)[]> {
  const rows = await db
    .select()
    .from(apiKeys)
    // One parameter: the statement's text (prepared once per connection) is the same whatever
    // the number of keys.
    .where(
      and(
        sql`${apiKeys.keyHash} in (select jsonb_array_elements_text(${JSON.stringify([...new Set(keyHashes)])}::jsonb))`,
        isNull(apiKeys.revokedAt),
      ),
    )
  return keyHashes.map((hash) => rows.find((row) => row.keyHash === hash))
}

/**
 * Finds who a bearer secret belongs to. The prefix says which table to look in; the checksum
 * refuses mistyped secrets without a query; only the secret's hash is compared. `findApiKey`
 * replaces the API key lookup (to batch the lookups of concurrent requests).
 *
 * @throws {ProblemError} `UNAUTHENTICATED` for a malformed, unknown, expired or revoked secret.
 */
export async function resolvePrincipal(
  db: Database,
  secret: string,
  options: { findApiKey?: ApiKeyFinder } = {},
): Promise<Principal> {
  const now = new Date()
  if (secret.startsWith(SECRET_PREFIXES.session)) {
    if (!hasValidChecksum(secret, SECRET_PREFIXES.session)) throw malformed()
    const [session] = await db
      .select()
      .from(sessions)
      .where(
        and(
          eq(sessions.tokenHash, hashSecret(secret)),
          isNull(sessions.revokedAt),
          gt(sessions.expiresAt, now),
        ),
      )
    if (!session) throw unauthenticated('The session has ended; sign in again')
    // Touch at most once a minute, so reads stay reads.
    if (now.getTime() - session.lastSeenAt.getTime() > 60_000) {
      await db.update(sessions).set({ lastSeenAt: now }).where(eq(sessions.id, session.id))
    }
    return { type: 'user', userId: session.userId, sessionId: session.id }
  }
  const keyPrefix = [SECRET_PREFIXES.liveKey, SECRET_PREFIXES.testKey].find((prefix) =>
    secret.startsWith(prefix),
  )
  if (keyPrefix) {
    if (!hasValidChecksum(secret, keyPrefix)) throw malformed()
    const keyHash = hashSecret(secret)
    const key = options.findApiKey
      ? await options.findApiKey(keyHash)
      : (await findApiKeys(db, [keyHash]))[0]
    if (!key) throw unauthenticated('This API key does not exist or was revoked')
    if (!key.lastUsedAt || now.getTime() - key.lastUsedAt.getTime() > 60_000) {
      await db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, key.id))
    }
    return {
      type: 'api_key',
      apiKeyId: key.id,
      workspaceId: key.workspaceId,
      scopes: key.scopes as Scope[],
      mode: key.mode,
    }
  }
  if (secret.startsWith(SECRET_PREFIXES.profileToken)) {
    if (!hasValidChecksum(secret, SECRET_PREFIXES.profileToken)) throw malformed()
    const [token] = await db
      .select()
      .from(profileTokens)
      .where(
        and(
          eq(profileTokens.tokenHash, hashSecret(secret)),
          isNull(profileTokens.revokedAt),
          gt(profileTokens.expiresAt, sql`now()`),
        ),
      )
    if (!token)
      throw unauthenticated('This profile token has expired or was revoked; mint a new one')
    return {
      type: 'profile_token',
      tokenId: token.id,
      workspaceId: token.workspaceId,
      profileId: token.profileId,
      scopes: token.scopes as Scope[],
    }
  }
  throw malformed()
}

const malformed = () =>
  unauthenticated(
    'The credentials are malformed: send "Authorization: Bearer <API key, session token or profile token>"',
  )

/** A signed-in person's request. */
export interface UserContext {
  userId: string
  sessionId: string
  actor: Actor
}

/** A request acting inside one workspace (and, for profile tokens, one profile). */
export interface TenantContext {
  workspaceId: string
  /** Set when the caller is limited to one profile (profile tokens). */
  profileId: string | undefined
  scopes: Scope[]
  actor: Actor
}
