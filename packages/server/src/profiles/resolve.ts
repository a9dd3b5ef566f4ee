import { and, eq } from 'drizzle-orm'
import type { Database, Transaction } from '../db/client.ts'
import { profiles } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'

/**
 * Whose profiles a request may see: a workspace and, for profile tokens, the one profile the
 * token is limited to.
 */
export interface ProfileScope {
  workspaceId: string
  profileId: string | undefined
}

/**
 * The `NOT_FOUND` for a profile the caller asked for and cannot see (`undefined`: the workspace's
 * default profile, which it lacks).
 */
export function profileNotFound(requested: string | undefined) {
  return new ProblemError(
    'NOT_FOUND',
    requested === undefined
      ? 'This workspace has no default profile; name a profileId'
      : `No profile ${requested} in this workspace`,
  )
}

/**
 * A profile token's own profile, without a query; `undefined` for a workspace caller, whose
 * profile {@link resolveProfileId} looks up.
 *
 * @throws {ProblemError} `NOT_FOUND` for a profile token asking for another profile.
 * @example
 * ```ts
 * tokenProfileId({ workspaceId: 'ws_1', profileId: 'prof_1' }, undefined) // 'prof_1'
 * tokenProfileId({ workspaceId: 'ws_1', profileId: undefined }, 'prof_2') // undefined
 * ```
 */
export function tokenProfileId(
  scope: ProfileScope,
  requested: string | undefined,
): string | undefined {
  if (scope.profileId === undefined) return undefined
  if (requested !== undefined && requested !== scope.profileId) throw profileNotFound(requested)
  return scope.profileId
}

/**
 * The profile something new goes to: a profile token's own, else the one asked for (in the
 * caller's workspace), else the workspace's default profile.
 *
 * @throws {ProblemError} `NOT_FOUND` for a profile outside the caller's reach.
 * @example
 * ```ts
 * const profileId = await resolveProfileId(services.db, tenant, body.profileId)
 * ```
 */
export async function resolveProfileId(
  db: Database | Transaction,
  scope: ProfileScope,
  requested: string | undefined,
): Promise<string> {
  const own = tokenProfileId(scope, requested)
  if (own !== undefined) return own
  const [profile] = await db
    .select({ id: profiles.id })
    .from(profiles)
    .where(
      and(
        eq(profiles.workspaceId, scope.workspaceId),
        requested === undefined ? eq(profiles.isDefault, true) : eq(profiles.id, requested),
      ),
    )
  if (!profile) throw profileNotFound(requested)
  return profile.id
}
