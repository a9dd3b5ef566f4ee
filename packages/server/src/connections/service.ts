import {
  generateCodeVerifier,
  generateState,
  isAdapterError,
  type OAuthTokens,
  type PlatformAccount,
} from '@post-scheduler/adapter-core'
import { and, eq, gt, isNull, sql } from 'drizzle-orm'
import { recordAudit } from '../audit/record.ts'
import type { TenantContext } from '../auth/principal.ts'
import { hashSecret } from '../auth/secrets.ts'
import type { Database, Transaction } from '../db/client.ts'
import { generateId } from '../db/ids.ts'
import {
  type AttemptAccount,
  connectedAccounts,
  connectionAttempts,
  profiles,
  workspaces,
} from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import { recordAccountEvent } from '../events/emit.ts'
import { resolveOAuthApp } from '../platforms/service.ts'
import type { Services } from '../services.ts'
import { presentAccount } from './accounts.ts'
import { type ConnectedAccount, sealTokens } from './tokens.ts'

/** How long a person has to consent, and then to choose accounts. */
const ATTEMPT_TTL_MS = 15 * 60 * 1000
const CHOICE_TTL_MS = 60 * 60 * 1000

type Attempt = typeof connectionAttempts.$inferSelect

/** What a login gave: its tokens, and the credentials some platforms issue per account. */
interface LoginTokens {
  login: OAuthTokens
  accountTokens: Record<string, string>
}

export const attemptContext = (attempt: Pick<Attempt, 'id' | 'workspaceId'>, field: string) =>
  `connection_attempt:${attempt.id}:${attempt.workspaceId}:${field}`

/** What the API shows of a connection attempt. */
export function presentAttempt(attempt: Attempt, accounts: ConnectedAccount[] = []) {
  return {
    id: attempt.id,
    profileId: attempt.profileId,
    platform: attempt.platform,
    status: attempt.status,
    /** Accounts the login offers, while the person chooses. */
    choices:
      attempt.status === 'choosing'
        ? (attempt.accounts ?? []).map(({ hasOwnToken: _, ...account }) => account)
        : [],
    connectedAccounts: accounts.map(presentAccount),
    error: attempt.error,
    expiresAt: attempt.expiresAt.toISOString(),
    createdAt: attempt.createdAt.toISOString(),
  }
}

/** A profile of the caller's workspace (and the caller's own profile, for profile tokens). */
export async function requireProfile(db: Database, tenant: TenantContext, profileId: string) {
  if (tenant.profileId !== undefined && tenant.profileId !== profileId) {
    throw new ProblemError('NOT_FOUND', `No profile ${profileId}`)
  }
  const [profile] = await db
    .select({ id: profiles.id })
    .from(profiles)
    .where(and(eq(profiles.id, profileId), eq(profiles.workspaceId, tenant.workspaceId)))
  if (!profile) throw new ProblemError('NOT_FOUND', `No profile ${profileId}`)
  return profile
}

/**
 * Starts connecting accounts of a platform to a profile: a one-time `state` (only its hash is
 * kept) and a PKCE verifier (sealed), valid 15 minutes. The person is sent to `authorizationURL`;
 * the platform sends them back to our callback, and we send them on to `returnURL`, whose origin
 * must be one of the workspace's `corsOrigins` or this server's.
 */
export async function startConnection(
  services: Services,
  tenant: TenantContext,
  profileId: string,
  input: { platform: string; returnURL?: string | undefined; scopes?: string[] | undefined },
) {
  const { db, vault } = services
  await requireProfile(db, tenant, profileId)
  const platform = services.platforms.get(input.platform)
  if (input.returnURL !== undefined)
    await assertAllowedReturnURL(services, tenant.workspaceId, input.returnURL)
  const app = await resolveOAuthApp(services, tenant.workspaceId, platform)
  const state = generateState()
  const codeVerifier = generateCodeVerifier()
  const id = generateId('conn')
  const [attempt] = await db.transaction(async (tx) => {
    const rows = await tx
      .insert(connectionAttempts)
      .values({
        id,
        workspaceId: tenant.workspaceId,
        profileId,
        platform: platform.id,
        stateHash: hashSecret(state),
        codeVerifierSealed: vault.seal(
          codeVerifier,
          attemptContext({ id, workspaceId: tenant.workspaceId }, 'code_verifier'),
        ),
        returnURL: input.returnURL ?? null,
        createdBy: tenant.actor.id ?? null,
        expiresAt: new Date(Date.now() + ATTEMPT_TTL_MS),
      })
      .returning()
    await recordAudit(tx, tenant.actor, {
      action: 'connection.started',
      workspaceId: tenant.workspaceId,
      targetType: 'connection',
      targetId: id,
      details: { platform: platform.id, profileId },
    })
    return rows
  })
  if (!attempt) throw new Error('the connection attempt insert returned no row')
  const authorizationURL = platform
    .adapter(app)
    .createAuthorizationURL({ state, codeVerifier, ...(input.scopes && { scopes: input.scopes }) })
  return { ...presentAttempt(attempt), authorizationURL: authorizationURL.toString() }
}

async function assertAllowedReturnURL(services: Services, workspaceId: string, returnURL: string) {
  const origin = URL.canParse(returnURL) ? new URL(returnURL).origin : undefined
  const [workspace] = await services.db
    .select({ corsOrigins: workspaces.corsOrigins })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId))
  const allowed = new Set([
    new URL(services.config.publicURL).origin,
    ...(workspace?.corsOrigins ?? []),
  ])
  if (!origin || !allowed.has(origin)) {
    throw new ProblemError(
      'VALIDATION_FAILED',
      'returnURL must be on an origin the workspace allows',
      {
        issues: [
          {
            location: 'body',
            path: ['returnURL'],
            code: 'origin_not_allowed',
            message: `Add ${origin ?? 'its origin'} to the workspace's corsOrigins, or use this server's own URL`,
          },
        ],
      },
    )
  }
}

/** Where to send the person after the callback, with the outcome in the query. */
export function returnLocation(attempt: Attempt): string | undefined {
  if (!attempt.returnURL) return undefined
  const url = new URL(attempt.returnURL)
  url.searchParams.set('connection', attempt.id)
  url.searchParams.set('status', attempt.status === 'failed' ? 'error' : attempt.status)
  if (attempt.error) url.searchParams.set('error', attempt.error)
  return url.toString()
}

/**
 * Handles the platform's redirect back: claims the attempt by its `state` (once, before it
 * expires), exchanges the code, lists the accounts the login gives and, when there is exactly one,
 * connects it. With several, the attempt waits for the person's choice.
 *
 * @throws {ProblemError} `TOKEN_INVALID` for a missing, unknown, used or expired `state`.
 */
export async function completeConnection(
  services: Services,
  platformId: string,
  params: { state?: string | undefined; code?: string | undefined; error?: string | undefined },
): Promise<Attempt> {
  const { db, vault } = services
  const platform = services.platforms.get(platformId)
  if (!params.state) throw invalidState()
  const [attempt] = await db
    .update(connectionAttempts)
    .set({ completedAt: sql`now()` })
    .where(
      and(
        eq(connectionAttempts.stateHash, hashSecret(params.state)),
        eq(connectionAttempts.platform, platform.id),
        eq(connectionAttempts.status, 'pending'),
        isNull(connectionAttempts.completedAt),
        gt(connectionAttempts.expiresAt, sql`now()`),
      ),
    )
    .returning()
  if (!attempt) throw invalidState()
  const actor = { type: 'system', id: undefined, ip: undefined, requestId: undefined } as const

  const fail = async (error: string) => {
    const [failed] = await db
      .update(connectionAttempts)
      .set({ status: 'failed', error })
      .where(eq(connectionAttempts.id, attempt.id))
      .returning()
    await recordAudit(db, actor, {
      action: 'connection.failed',
      workspaceId: attempt.workspaceId,
      targetType: 'connection',
      targetId: attempt.id,
      details: { platform: platform.id, error },
    })
    return failed ?? attempt
  }
  if (params.error || !params.code) return fail(params.error ?? 'missing_code')

  let login: OAuthTokens
  let accounts: PlatformAccount[]
  try {
    const app = await resolveOAuthApp(services, attempt.workspaceId, platform)
    const adapter = platform.adapter(app)
    const codeVerifier = vault.open(
      attempt.codeVerifierSealed,
      attemptContext(attempt, 'code_verifier'),
    )
    login = await adapter.validateAuthorizationCode(
      { code: params.code, codeVerifier },
      platform.callOptions,
    )
    accounts = await adapter.listAccounts({ accessToken: login.accessToken }, platform.callOptions)
  } catch (error) {
    services.logger.warn(
      { err: error, connection: attempt.id },
      'connection failed at the platform',
    )
    return fail(isAdapterError(error) ? error.code.toLowerCase() : 'exchange_failed')
  }
  if (accounts.length === 0) return fail('no_accounts')

  const tokens: LoginTokens = {
    login,
    accountTokens: Object.fromEntries(
      accounts.flatMap((account) =>
        account.accessToken ? [[account.id, account.accessToken]] : [],
      ),
    ),
  }
  const offered: AttemptAccount[] = accounts.map((account) => ({
    id: account.id,
    kind: account.kind,
    name: account.name,
    username: account.username,
    avatarURL: account.avatarURL,
    profileURL: account.profileURL,
    hasOwnToken: account.accessToken !== undefined,
  }))
  const [choosing] = await db
    .update(connectionAttempts)
    .set({
      status: 'choosing',
      accounts: offered,
      tokensSealed: vault.seal(JSON.stringify(tokens), attemptContext(attempt, 'tokens')),
      expiresAt: new Date(Date.now() + CHOICE_TTL_MS),
    })
    .where(eq(connectionAttempts.id, attempt.id))
    .returning()
  if (!choosing) throw new Error('the connection attempt vanished')
  if (offered.length === 1 && offered[0]) {
    return (await connectChosenAccounts(services, choosing, [offered[0].id], actor)).attempt
  }
  return choosing
}

const invalidState = () =>
  new ProblemError(
    'TOKEN_INVALID',
    'The OAuth state is missing, unknown, already used or expired; start the connection again',
  )

/** The attempt, if it belongs to the caller's workspace (and profile, for profile tokens). */
export async function getAttempt(services: Services, tenant: TenantContext, attemptId: string) {
  const [attempt] = await services.db
    .select()
    .from(connectionAttempts)
    .where(
      and(
        eq(connectionAttempts.id, attemptId),
        eq(connectionAttempts.workspaceId, tenant.workspaceId),
      ),
    )
  if (!attempt || (tenant.profileId !== undefined && attempt.profileId !== tenant.profileId)) {
    throw new ProblemError('NOT_FOUND', `No connection ${attemptId}`)
  }
  return attempt
}

/**
 * Connects the accounts the person chose among those the login offered (headless flow), then
 * forgets the login's tokens.
 */
export async function chooseAccounts(
  services: Services,
  tenant: TenantContext,
  attemptId: string,
  accountIds: string[],
) {
  const attempt = await getAttempt(services, tenant, attemptId)
  if (attempt.status !== 'choosing' || attempt.expiresAt.getTime() <= Date.now()) {
    throw new ProblemError(
      'CONFLICT',
      `Connection ${attemptId} is ${attempt.status === 'choosing' ? 'expired' : attempt.status}; start again`,
    )
  }
  const offered = new Set((attempt.accounts ?? []).map((account) => account.id))
  const unknown = accountIds.filter((id) => !offered.has(id))
  if (unknown.length > 0) {
    throw new ProblemError('VALIDATION_FAILED', 'Choose among the accounts the login offered', {
      issues: unknown.map((id) => ({
        location: 'body',
        path: ['accountIds', accountIds.indexOf(id)],
        code: 'not_offered',
        message: `${id} is not among this connection's choices`,
      })),
    })
  }
  return connectChosenAccounts(services, attempt, accountIds, tenant.actor)
}

async function connectChosenAccounts(
  services: Services,
  attempt: Attempt,
  accountIds: string[],
  actor: TenantContext['actor'],
) {
  const { db, vault } = services
  if (!attempt.tokensSealed)
    throw new ProblemError('CONFLICT', 'This connection has no login to use; start again')
  const tokens = JSON.parse(
    vault.open(attempt.tokensSealed, attemptContext(attempt, 'tokens')),
  ) as LoginTokens
  const offered = new Map((attempt.accounts ?? []).map((account) => [account.id, account]))
  return db.transaction(async (tx) => {
    const connected: ConnectedAccount[] = []
    for (const accountId of accountIds) {
      const account = offered.get(accountId)
      if (!account) continue
      const row = await upsertConnectedAccount(tx, vault, {
        workspaceId: attempt.workspaceId,
        profileId: attempt.profileId,
        platform: attempt.platform,
        account,
        tokens: {
          ...tokens.login,
          accessToken: tokens.accountTokens[account.id] ?? tokens.login.accessToken,
          accessTokenExpiresAt: reviveDate(tokens.login.accessTokenExpiresAt),
          refreshTokenExpiresAt: reviveDate(tokens.login.refreshTokenExpiresAt),
        },
      })
      connected.push(row)
      await recordAccountEvent(tx, 'account.connected', row)
      await recordAudit(tx, actor, {
        action: 'account.connected',
        workspaceId: attempt.workspaceId,
        targetType: 'connected_account',
        targetId: row.id,
        details: { platform: attempt.platform, profileId: attempt.profileId },
      })
    }
    const [done] = await tx
      .update(connectionAttempts)
      .set({ status: 'connected', tokensSealed: null })
      .where(eq(connectionAttempts.id, attempt.id))
      .returning()
    return { attempt: done ?? attempt, accounts: connected }
  })
}

const reviveDate = (value: Date | string | undefined) =>
  value === undefined ? undefined : new Date(value)

/**
 * Stores a connected account, or updates it in place when the same platform account is connected
 * to the profile again: fresh tokens, active again, and a refresh token is never replaced by none.
 */
async function upsertConnectedAccount(
  tx: Transaction,
  vault: Services['vault'],
  input: {
    workspaceId: string
    profileId: string
    platform: string
    account: AttemptAccount
    tokens: OAuthTokens
  },
): Promise<ConnectedAccount> {
  const [existing] = await tx
    .select()
    .from(connectedAccounts)
    .where(
      and(
        eq(connectedAccounts.profileId, input.profileId),
        eq(connectedAccounts.platform, input.platform),
        eq(connectedAccounts.platformAccountId, input.account.id),
      ),
    )
    .for('update')
  const id = existing?.id ?? generateId('acct')
  const sealed = sealTokens(vault, { id, workspaceId: input.workspaceId }, input.tokens)
  const fields = {
    kind: input.account.kind,
    displayName: input.account.name,
    username: input.account.username ?? null,
    avatarURL: input.account.avatarURL ?? null,
    profileURL: input.account.profileURL ?? null,
    scopes: input.tokens.scopes,
    accessTokenSealed: sealed.accessTokenSealed,
    accessTokenExpiresAt: input.tokens.accessTokenExpiresAt ?? null,
    status: 'active' as const,
    statusReason: null,
    connectedAt: new Date(),
    disconnectedAt: null,
    updatedAt: new Date(),
    // Never replace a stored refresh token with none: some platforms omit it on re-consent.
    ...(sealed.refreshTokenSealed && {
      refreshTokenSealed: sealed.refreshTokenSealed,
      refreshTokenExpiresAt: input.tokens.refreshTokenExpiresAt ?? null,
    }),
  }
  const [row] = existing
    ? await tx.update(connectedAccounts).set(fields).where(eq(connectedAccounts.id, id)).returning()
    : await tx
        .insert(connectedAccounts)
        .values({
          id,
          workspaceId: input.workspaceId,
          profileId: input.profileId,
          platform: input.platform,
          platformAccountId: input.account.id,
          ...fields,
        })
        .returning()
  if (!row) throw new Error('the connected account write returned no row')
  return row
}
