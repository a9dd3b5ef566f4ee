import { isAdapterError } from '@post-scheduler/adapter-core'
import { and, eq, isNotNull, lt, sql } from 'drizzle-orm'
import { connectedAccounts, users, workspaceMembers } from '../db/schema/index.ts'
import { messages } from '../mail/messages.ts'
import { deliver } from '../mail/transport.ts'
import type { Services } from '../services.ts'
import { markReauthRequired } from './accounts.ts'
import { openAccountAdapter } from './adapter.ts'
import { type ConnectedAccount, sealTokens } from './tokens.ts'

/** Refresh tokens that expire within this window. */
const REFRESH_AHEAD_MS = 15 * 60 * 1000
/** Accounts that cannot be refreshed are flagged this long before their token expires. */
const REAUTH_NOTICE_MS = 7 * 24 * 60 * 60 * 1000
const BATCH = 100
const SYSTEM = { type: 'system', id: undefined, ip: undefined, requestId: undefined } as const

/** What the refresh needs of the services. */
export type RefreshServices = Pick<Services, 'db' | 'vault' | 'platforms' | 'mail' | 'logger'>

export type RefreshOutcome = 'refreshed' | 'fresh' | 'busy' | 'reauth_required' | 'failed'

/**
 * Refreshes the tokens of every active account expiring soon; flags those that cannot be
 * refreshed (no refresh token, or a platform without refresh) ahead of their expiry.
 *
 * @returns how each account fared, by id.
 */
export async function refreshExpiringTokens(services: RefreshServices, now = new Date()) {
  const due = await services.db
    .select({ id: connectedAccounts.id })
    .from(connectedAccounts)
    .where(
      and(
        eq(connectedAccounts.status, 'active'),
        isNotNull(connectedAccounts.accessTokenExpiresAt),
        lt(connectedAccounts.accessTokenExpiresAt, new Date(now.getTime() + REAUTH_NOTICE_MS)),
      ),
    )
    .orderBy(connectedAccounts.accessTokenExpiresAt)
    .limit(BATCH)
  const outcomes: Record<string, RefreshOutcome> = {}
  for (const { id } of due) outcomes[id] = await refreshAccount(services, id, now)
  return outcomes
}

/**
 * Refreshes one account's tokens under a per-account lock, so two workers never race a rotating
 * refresh token (the loser would present a spent token and lose the account). The new refresh
 * token replaces the old one; none replaces nothing. A permanent refusal marks the account
 * `reauth_required` and tells the workspace's owners and admins.
 */
export async function refreshAccount(
  services: RefreshServices,
  accountId: string,
  now = new Date(),
): Promise<RefreshOutcome> {
  const { db, vault } = services
  let flagged: { account: ConnectedAccount; reason: string } | undefined
  const outcome = await db.transaction(async (tx): Promise<RefreshOutcome> => {
    const [lock] = await tx.execute<{ locked: boolean }>(
      sql`select pg_try_advisory_xact_lock(hashtextextended(${`refresh:${accountId}`}, 0)) as locked`,
    )
    if (!lock?.locked) return 'busy'
    const [account] = await tx
      .select()
      .from(connectedAccounts)
      .where(and(eq(connectedAccounts.id, accountId), eq(connectedAccounts.status, 'active')))
    const expiresAt = account?.accessTokenExpiresAt?.getTime()
    if (!account || expiresAt === undefined) return 'fresh'
    const { platform, adapter, openToken } = await openAccountAdapter(services, account)
    if (!adapter.refreshAccessToken || !account.refreshTokenSealed) {
      if (expiresAt - now.getTime() > REAUTH_NOTICE_MS) return 'fresh'
      flagged = { account, reason: 'token_expiring' }
      return 'reauth_required'
    }
    if (expiresAt - now.getTime() > REFRESH_AHEAD_MS) return 'fresh'
    try {
      const refreshToken = openToken('refresh_token')
      const tokens = await adapter.refreshAccessToken({ refreshToken }, platform.callOptions)
      const sealed = sealTokens(vault, account, tokens)
      await tx
        .update(connectedAccounts)
        .set({
          accessTokenSealed: sealed.accessTokenSealed,
          accessTokenExpiresAt: tokens.accessTokenExpiresAt ?? null,
          ...(sealed.refreshTokenSealed && {
            refreshTokenSealed: sealed.refreshTokenSealed,
            refreshTokenExpiresAt: tokens.refreshTokenExpiresAt ?? null,
          }),
          lastRefreshedAt: now,
          updatedAt: now,
        })
        .where(eq(connectedAccounts.id, account.id))
      return 'refreshed'
    } catch (error) {
      if (isAdapterError(error, 'RECONNECT_REQUIRED')) {
        flagged = { account, reason: 'refresh_refused' }
        return 'reauth_required'
      }
      services.logger.warn(
        { err: error, account: account.id },
        'token refresh failed; retrying later',
      )
      return 'failed'
    }
  })
  if (flagged) await flagForReconnection(services, flagged.account, flagged.reason)
  return outcome
}

async function flagForReconnection(
  services: RefreshServices,
  account: ConnectedAccount,
  reason: string,
) {
  await markReauthRequired(services, account, reason, SYSTEM)
  const recipients = await services.db
    .select({ email: users.email })
    .from(workspaceMembers)
    .innerJoin(users, eq(users.id, workspaceMembers.userId))
    .where(
      and(
        eq(workspaceMembers.workspaceId, account.workspaceId),
        sql`${workspaceMembers.role} in ('owner', 'admin')`,
      ),
    )
  for (const { email } of recipients) {
    await deliver(
      services,
      messages.accountNeedsReconnection(email, {
        platform: account.platform,
        name: account.displayName,
      }),
    )
  }
}
