import { and, eq, isNull, type SQL, sql } from 'drizzle-orm'
import { type Actor, recordAudit } from '../audit/record.ts'
import { type Scope, SECRET_PREFIXES } from '../auth/principal.ts'
import { generateSecret, hashSecret } from '../auth/secrets.ts'
import type { Database } from '../db/client.ts'
import { isUniqueViolation } from '../db/errors.ts'
import { generateId } from '../db/ids.ts'
import { chronological, toPage } from '../db/pagination.ts'
import { profiles, profileTokens } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import type { Services } from '../services.ts'
import type { ProfileScope } from './resolve.ts'

type Profile = typeof profiles.$inferSelect

/** Scopes a profile token can carry: never `admin`. */
export const PROFILE_TOKEN_SCOPES = ['read', 'write'] as const satisfies readonly Scope[]
export type ProfileTokenScope = (typeof PROFILE_TOKEN_SCOPES)[number]

/** What the API shows of a profile. */
export function presentProfile(profile: Profile) {
  return {
    id: profile.id,
    externalId: profile.externalId,
    name: profile.name,
    isDefault: profile.isDefault,
    createdAt: profile.createdAt.toISOString(),
    updatedAt: profile.updatedAt.toISOString(),
  }
}

/** Every query on profiles goes through this filter, so another tenant's profile is never found. */
function visible(scope: ProfileScope, ...conditions: (SQL | undefined)[]) {
  return and(
    eq(profiles.workspaceId, scope.workspaceId),
    scope.profileId === undefined ? undefined : eq(profiles.id, scope.profileId),
    ...conditions,
  )
}

const notFound = (profileId: string) =>
  new ProblemError('NOT_FOUND', `No profile ${profileId} in this workspace`)

async function externalIdTaken(db: Database, workspaceId: string, externalId: string) {
  const [existing] = await db
    .select({ id: profiles.id })
    .from(profiles)
    .where(and(eq(profiles.workspaceId, workspaceId), eq(profiles.externalId, externalId)))
  return new ProblemError(
    'CONFLICT',
    `Another profile${existing ? ` (${existing.id})` : ''} already has the externalId "${externalId}" in this workspace; externalIds are unique per workspace`,
    existing ? { profileId: existing.id } : {},
  )
}

/**
 * Creates a profile: an end customer or brand of the embedding product.
 *
 * @throws {ProblemError} `CONFLICT` when another profile of the workspace has the `externalId`.
 * @example
 * ```ts
 * await createProfile(services, 'ws_123', { name: 'Acme', externalId: 'customer-42' }, actor)
 * ```
 */
export async function createProfile(
  services: Pick<Services, 'db'>,
  workspaceId: string,
  input: { name: string; externalId?: string | null | undefined },
  actor: Actor,
) {
  const profile = await services.db
    .transaction(async (tx) => {
      const [profile] = await tx
        .insert(profiles)
        .values({
          id: generateId('prof'),
          workspaceId,
          name: input.name,
          externalId: input.externalId ?? null,
        })
        .returning()
      if (!profile) throw new Error('the profile insert returned no row')
      await recordAudit(tx, actor, {
        action: 'profile.created',
        workspaceId,
        targetType: 'profile',
        targetId: profile.id,
      })
      return profile
    })
    .catch(async (error: unknown) => {
      if (isUniqueViolation(error) && input.externalId) {
        throw await externalIdTaken(services.db, workspaceId, input.externalId)
      }
      throw error
    })
  return presentProfile(profile)
}

/**
 * The profiles the caller can see, newest first, optionally only the one with `externalId`.
 *
 * @example
 * ```ts
 * const { data } = await listProfiles(services, { workspaceId: 'ws_123', profileId: undefined }, { limit: 20, externalId: 'customer-42' })
 * ```
 */
export async function listProfiles(
  services: Pick<Services, 'db'>,
  scope: ProfileScope,
  query: { limit: number; cursor?: string | undefined; externalId?: string | undefined },
) {
  const order = chronological(profiles.createdAt, profiles.id, query.cursor, 'desc')
  const rows = await services.db
    .select({ profile: profiles, key: order.key })
    .from(profiles)
    .where(
      visible(
        scope,
        query.externalId === undefined ? undefined : eq(profiles.externalId, query.externalId),
        order.after,
      ),
    )
    .orderBy(...order.orderBy)
    .limit(query.limit + 1)
  return toPage(
    rows,
    query.limit,
    (row) => ({ key: row.key, id: row.profile.id }),
    (row) => presentProfile(row.profile),
  )
}

/**
 * One profile the caller can see.
 *
 * @throws {ProblemError} `NOT_FOUND` for another workspace's profile, or another profile than a
 * profile token's own.
 * @example
 * ```ts
 * await getProfile(services, tenant, 'prof_123')
 * ```
 */
export async function getProfile(
  services: Pick<Services, 'db'>,
  scope: ProfileScope,
  profileId: string,
) {
  const [profile] = await services.db
    .select()
    .from(profiles)
    .where(visible(scope, eq(profiles.id, profileId)))
  if (!profile) throw notFound(profileId)
  return presentProfile(profile)
}

/**
 * Renames a profile or changes (or clears, with `null`) its `externalId`.
 *
 * @throws {ProblemError} `NOT_FOUND`, or `CONFLICT` when the `externalId` is taken.
 * @example
 * ```ts
 * await updateProfile(services, tenant, 'prof_123', { externalId: null }, actor)
 * ```
 */
export async function updateProfile(
  services: Pick<Services, 'db'>,
  scope: ProfileScope,
  profileId: string,
  patch: { name?: string | undefined; externalId?: string | null | undefined },
  actor: Actor,
) {
  const profile = await services.db
    .transaction(async (tx) => {
      const [profile] = await tx
        .update(profiles)
        .set({
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.externalId !== undefined && { externalId: patch.externalId }),
          updatedAt: sql`now()`,
        })
        .where(visible(scope, eq(profiles.id, profileId)))
        .returning()
      if (!profile) throw notFound(profileId)
      await recordAudit(tx, actor, {
        action: 'profile.updated',
        workspaceId: scope.workspaceId,
        targetType: 'profile',
        targetId: profileId,
        details: { fields: Object.keys(patch) },
      })
      return profile
    })
    .catch(async (error: unknown) => {
      if (isUniqueViolation(error) && patch.externalId) {
        throw await externalIdTaken(services.db, scope.workspaceId, patch.externalId)
      }
      throw error
    })
  return presentProfile(profile)
}

/**
 * Deletes a profile and everything it owns. The workspace's default profile stays.
 *
 * @throws {ProblemError} `NOT_FOUND`, or `CONFLICT` for the default profile.
 * @example
 * ```ts
 * await deleteProfile(services, tenant, 'prof_123', actor)
 * ```
 */
export async function deleteProfile(
  services: Pick<Services, 'db'>,
  scope: ProfileScope,
  profileId: string,
  actor: Actor,
): Promise<void> {
  await services.db.transaction(async (tx) => {
    const [profile] = await tx
      .select({ id: profiles.id, isDefault: profiles.isDefault })
      .from(profiles)
      .where(visible(scope, eq(profiles.id, profileId)))
      .for('update')
    if (!profile) throw notFound(profileId)
    if (profile.isDefault) {
      throw new ProblemError(
        'CONFLICT',
        'The default profile of a workspace cannot be deleted; the workspace works in it when used directly',
      )
    }
    await tx.delete(profiles).where(eq(profiles.id, profileId))
    await recordAudit(tx, actor, {
      action: 'profile.deleted',
      workspaceId: scope.workspaceId,
      targetType: 'profile',
      targetId: profileId,
    })
  })
}

/**
 * Mints a short-lived token for the browser widgets, limited to one profile. It never carries
 * more scopes than its minter, nor `admin`; only its hash is stored.
 *
 * @param minterScopes the scopes of the API key or member minting it.
 * @throws {ProblemError} `NOT_FOUND` for a profile the minter cannot see, `FORBIDDEN` for a scope
 * the minter lacks.
 * @example
 * ```ts
 * const { token } = await mintProfileToken(services, tenant, 'prof_123', { scopes: ['read'], expiresInSeconds: 900 }, tenant.scopes, actor)
 * ```
 */
export async function mintProfileToken(
  services: Pick<Services, 'db'>,
  workspaceId: string,
  profileId: string,
  input: { scopes?: ProfileTokenScope[] | undefined; expiresInSeconds: number },
  minterScopes: Scope[],
  actor: Actor,
) {
  const scopes = [
    ...new Set(
      input.scopes ?? PROFILE_TOKEN_SCOPES.filter((scope) => minterScopes.includes(scope)),
    ),
  ]
  const missing = scopes.filter((scope) => !minterScopes.includes(scope))
  if (missing.length > 0) {
    throw new ProblemError(
      'FORBIDDEN',
      `A profile token cannot have scopes its minter lacks: ${missing.join(', ')}`,
    )
  }
  if (scopes.length === 0) {
    throw new ProblemError('FORBIDDEN', 'A profile token needs the read or write scope')
  }
  const token = generateSecret(SECRET_PREFIXES.profileToken)
  return services.db.transaction(async (tx) => {
    const [profile] = await tx
      .select({ id: profiles.id })
      .from(profiles)
      .where(and(eq(profiles.workspaceId, workspaceId), eq(profiles.id, profileId)))
    if (!profile) throw notFound(profileId)
    const [row] = await tx
      .insert(profileTokens)
      .values({
        id: generateId('ptok'),
        workspaceId,
        profileId,
        scopes,
        tokenHash: hashSecret(token),
        expiresAt: sql`now() + make_interval(secs => ${input.expiresInSeconds})`,
      })
      .returning()
    if (!row) throw new Error('the profile token insert returned no row')
    await recordAudit(tx, actor, {
      action: 'profile_token.created',
      workspaceId,
      targetType: 'profile_token',
      targetId: row.id,
      details: { profileId, scopes, expiresInSeconds: input.expiresInSeconds },
    })
    return { token, expiresAt: row.expiresAt.toISOString(), scopes }
  })
}

/**
 * Revokes every live token of a profile at once, e.g. when the end customer signs out of the
 * embedding product.
 *
 * @returns how many tokens were revoked.
 * @throws {ProblemError} `NOT_FOUND` for a profile the caller cannot see.
 * @example
 * ```ts
 * const { revoked } = await revokeProfileTokens(services, 'ws_123', 'prof_123', actor)
 * ```
 */
export async function revokeProfileTokens(
  services: Pick<Services, 'db'>,
  workspaceId: string,
  profileId: string,
  actor: Actor,
) {
  return services.db.transaction(async (tx) => {
    const [profile] = await tx
      .select({ id: profiles.id })
      .from(profiles)
      .where(and(eq(profiles.workspaceId, workspaceId), eq(profiles.id, profileId)))
    if (!profile) throw notFound(profileId)
    const revoked = await tx
      .update(profileTokens)
      .set({ revokedAt: sql`now()` })
      .where(
        and(
          eq(profileTokens.workspaceId, workspaceId),
          eq(profileTokens.profileId, profileId),
          isNull(profileTokens.revokedAt),
          sql`${profileTokens.expiresAt} > now()`,
        ),
      )
      .returning({ id: profileTokens.id })
    await recordAudit(tx, actor, {
      action: 'profile_token.revoked',
      workspaceId,
      targetType: 'profile',
      targetId: profileId,
      details: { count: revoked.length },
    })
    return { revoked: revoked.length }
  })
}
