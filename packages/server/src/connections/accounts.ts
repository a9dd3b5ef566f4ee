import { isAdapterError } from '@post-scheduler/adapter-core'
import { and, eq, inArray, sql } from 'drizzle-orm'
import { type Actor, recordAudit } from '../audit/record.ts'
import type { TenantContext } from '../auth/principal.ts'
import { chronological, toPage } from '../db/pagination.ts'
import { connectedAccounts, publications } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import { recordAccountEvent } from '../events/emit.ts'
import { lockPosts, refreshPostStatus } from '../publishing/post-status.ts'
import type { Services } from '../services.ts'
import { openAccountAdapter } from './adapter.ts'
import type { ConnectedAccount } from './tokens.ts'

/** What the API shows of a connected account: never a token. */
export function presentAccount(account: ConnectedAccount) {
  return {
    id: account.id,
    profileId: account.profileId,
    platform: account.platform,
    platformAccountId: account.platformAccountId,
    kind: account.kind,
    displayName: account.displayName,
    username: account.username,
    avatarURL: account.avatarURL,
    profileURL: account.profileURL,
    scopes: account.scopes,
    status: account.status,
    statusReason: account.statusReason,
    accessTokenExpiresAt: account.accessTokenExpiresAt?.toISOString() ?? null,
    connectedAt: account.connectedAt.toISOString(),
    disconnectedAt: account.disconnectedAt?.toISOString() ?? null,
  }
}

const scoped = (tenant: TenantContext) =>
  and(
    eq(connectedAccounts.workspaceId, tenant.workspaceId),
    tenant.profileId === undefined ? undefined : eq(connectedAccounts.profileId, tenant.profileId),
  )

/** The caller's connected accounts, newest first, filtered by profile, platform or status. */
export async function listAccounts(
  services: Services,
  tenant: TenantContext,
  query: {
    profileId?: string | undefined
    platform?: string | undefined
    status?: ConnectedAccount['status'] | undefined
    limit: number
    cursor?: string | undefined
  },
) {
  const order = chronological(
    connectedAccounts.createdAt,
    connectedAccounts.id,
    query.cursor,
    'desc',
  )
  const rows = await services.db
    .select({ account: connectedAccounts, key: order.key })
    .from(connectedAccounts)
    .where(
      and(
        scoped(tenant),
        query.profileId ? eq(connectedAccounts.profileId, query.profileId) : undefined,
        query.platform ? eq(connectedAccounts.platform, query.platform) : undefined,
        query.status ? eq(connectedAccounts.status, query.status) : undefined,
        order.after,
      ),
    )
    .orderBy(...order.orderBy)
    .limit(query.limit + 1)
  return toPage(
    rows,
    query.limit,
    (row) => ({ key: row.key, id: row.account.id }),
    (row) => presentAccount(row.account),
  )
}

/** One of the caller's connected accounts. */
export async function getAccount(services: Services, tenant: TenantContext, accountId: string) {
  const [account] = await services.db
    .select()
    .from(connectedAccounts)
    .where(and(eq(connectedAccounts.id, accountId), scoped(tenant)))
  if (!account) throw new ProblemError('NOT_FOUND', `No connected account ${accountId}`)
  return account
}

/**
 * Disconnects an account: revokes its token at the platform where the platform allows it, deletes
 * the ciphertexts and marks it `revoked`. A failed platform revocation is recorded in the audit
 * log and never blocks the disconnect.
 */
export async function disconnectAccount(
  services: Services,
  tenant: TenantContext,
  accountId: string,
) {
  const account = await getAccount(services, tenant, accountId)
  const revocation = await revokeAtPlatform(services, account)
  return services.db.transaction(async (tx) => {
    const [row] = await tx
      .update(connectedAccounts)
      .set({
        status: 'revoked',
        statusReason: 'disconnected',
        accessTokenSealed: null,
        refreshTokenSealed: null,
        accessTokenExpiresAt: null,
        refreshTokenExpiresAt: null,
        disconnectedAt: sql`now()`,
        updatedAt: sql`now()`,
      })
      .where(eq(connectedAccounts.id, account.id))
      .returning()
    if (row) await recordAccountEvent(tx, 'account.disconnected', row)
    // Nothing can be published to it any more: what was waiting is canceled, not left to fail.
    // Their posts are locked first (post, then publications: the engine's lock order).
    const waiting = await tx
      .selectDistinct({ postId: publications.postId })
      .from(publications)
      .where(
        and(
          eq(publications.accountId, account.id),
          inArray(publications.status, ['scheduled', 'queued']),
        ),
      )
    await lockPosts(
      tx,
      waiting.map((row) => row.postId),
    )
    const canceled = await tx
      .update(publications)
      .set({ status: 'canceled', updatedAt: sql`now()` })
      .where(
        and(
          eq(publications.accountId, account.id),
          inArray(publications.status, ['scheduled', 'queued']),
        ),
      )
      .returning({ postId: publications.postId })
    for (const postId of new Set(canceled.map((row) => row.postId)))
      await refreshPostStatus(tx, postId)
    await recordAudit(tx, tenant.actor, {
      action: 'account.disconnected',
      workspaceId: account.workspaceId,
      targetType: 'connected_account',
      targetId: account.id,
      details: {
        platform: account.platform,
        platformRevocation: revocation,
        canceledPublications: canceled.length,
      },
    })
    return presentAccount(row ?? account)
  })
}

/** Asks the platform to revoke the account's token; says how that went, never throws. */
export async function revokeAtPlatform(
  services: Services,
  account: ConnectedAccount,
): Promise<string> {
  if (!account.refreshTokenSealed && !account.accessTokenSealed) return 'no_token'
  try {
    const { platform, adapter, openToken } = await openAccountAdapter(services, account)
    if (!adapter.revokeToken) return 'not_supported'
    const token = openToken(account.refreshTokenSealed ? 'refresh_token' : 'access_token')
    await adapter.revokeToken({ token }, platform.callOptions)
    return 'revoked'
  } catch (error) {
    services.logger.warn(
      { err: error, account: account.id },
      'the platform did not revoke the token',
    )
    return isAdapterError(error) ? `failed: ${error.code}` : 'failed'
  }
}

/** Why an account needs its owner: it is marked `reauth_required` with the reason. */
export async function markReauthRequired(
  services: Pick<Services, 'db'>,
  account: ConnectedAccount,
  reason: string,
  actor: Actor,
) {
  await services.db.transaction(async (tx) => {
    const [flagged] = await tx
      .update(connectedAccounts)
      .set({ status: 'reauth_required', statusReason: reason, updatedAt: sql`now()` })
      .where(and(eq(connectedAccounts.id, account.id), eq(connectedAccounts.status, 'active')))
      .returning()
    if (flagged) await recordAccountEvent(tx, 'account.reauth_required', flagged)
    await recordAudit(tx, actor, {
      action: 'account.reauth_required',
      workspaceId: account.workspaceId,
      targetType: 'connected_account',
      targetId: account.id,
      details: { platform: account.platform, reason },
    })
  })
}
