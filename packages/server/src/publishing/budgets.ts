import { eq, sql } from 'drizzle-orm'
import type { Database, Transaction } from '../db/client.ts'
import { lockKeys } from '../db/locks.ts'
import { anyOf } from '../db/predicates.ts'
import { appRateLimits, connectedAccounts, publications } from '../db/schema/index.ts'
import type { OAuthApp } from '../platforms/registry.ts'
import type { BudgetCounts } from './budget-decision.ts'

/**
 * The key of the app a publication goes out through, as `<platform>:<client id>`: the app the
 * attempt publishes with (the workspace's own, else the one the platform gives the workspace,
 * else the server's; see `chooseOAuthApp`), `<platform>:none` when there is none. Workspaces
 * sharing an app share its pauses; a workspace's own app (or its own sandbox client) has its own.
 *
 * @example
 * ```ts
 * appKeyOf('sandbox', { clientId: 'post-scheduler.ws_1', clientSecret }) // 'sandbox:post-scheduler.ws_1'
 * ```
 */
export function appKeyOf(platform: string, app: Pick<OAuthApp, 'clientId'> | undefined): string {
  return `${platform}:${app?.clientId ?? 'none'}`
}

/**
 * Reads the budgets of the given accounts, platforms and apps. Claims sharing an account or a
 * platform take turns (locks until the claim commits), so two cannot both take its last place.
 *
 * @example
 * ```ts
 * const counts = await readBudgets(tx, { accounts: ['acc_1'], platforms: ['x'], apps: ['x:app'] })
 * ```
 */
export async function readBudgets(
  tx: Transaction,
  wanted: { accounts: string[]; platforms: string[]; apps: string[] },
): Promise<BudgetCounts> {
  const budgets = {
    accounts: new Map<string, number>(),
    platforms: new Map<string, number>(),
    pausedApps: new Map<string, number>(),
  }
  if (wanted.accounts.length + wanted.platforms.length + wanted.apps.length === 0) return budgets
  await lockKeys(tx, [
    ...wanted.accounts.map((id) => `publishing-account:${id}`),
    ...wanted.platforms.map((id) => `publishing-platform:${id}`),
  ])
  // After the locks, in a statement of its own: it sees the claims committed while it waited.
  const live = sql`${publications.status} = 'publishing' and ${publications.deadlineAt} > now()`
  const rows = await tx.execute<{ kind: keyof BudgetCounts; key: string; value: number }>(sql`
    select 'accounts' as kind, ${publications.accountId} as key, count(*)::float8 as value
    from ${publications} where ${live} and ${anyOf(publications.accountId, wanted.accounts)}
    group by ${publications.accountId}
    union all
    select 'platforms', ${publications.platform}, count(*)::float8
    from ${publications} where ${live} and ${anyOf(publications.platform, wanted.platforms)}
    group by ${publications.platform}
    union all
    select 'pausedApps', ${appRateLimits.key},
      extract(epoch from ${appRateLimits.rateLimitedUntil} - now())::float8
    from ${appRateLimits}
    where ${anyOf(appRateLimits.key, wanted.apps)} and ${appRateLimits.rateLimitedUntil} > now()`)
  for (const row of rows) budgets[row.kind].set(row.key, Number(row.value))
  return budgets
}

/**
 * Pauses whoever's limit a platform's rate limit is — the account, or (`scope: 'app'`) every
 * account of the app — for `seconds`, never shortening a longer pause already set. Claims read the
 * pause (see {@link readBudgets}), so none of their publications calls the platform before then.
 *
 * @example
 * ```ts
 * await pauseRateLimited(db, { scope: 'app', appKey: claim.appKey, accountId, seconds: 30 })
 * ```
 */
export async function pauseRateLimited(
  db: Database,
  limited: { scope: 'account' | 'app'; appKey: string; accountId: string; seconds: number },
): Promise<void> {
  const until = sql`now() + make_interval(secs => ${limited.seconds})`
  if (limited.scope === 'app') {
    await db
      .insert(appRateLimits)
      .values({ key: limited.appKey, rateLimitedUntil: until })
      .onConflictDoUpdate({
        target: appRateLimits.key,
        set: {
          rateLimitedUntil: sql`greatest(${appRateLimits.rateLimitedUntil}, excluded.rate_limited_until)`,
        },
      })
  } else {
    await db
      .update(connectedAccounts)
      .set({
        rateLimitedUntil: sql`greatest(coalesce(${connectedAccounts.rateLimitedUntil}, now()), ${until})`,
      })
      .where(eq(connectedAccounts.id, limited.accountId))
  }
}
