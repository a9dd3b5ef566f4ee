/**
 * How long a publication turned back by its account's concurrency budget waits at most (plus up to
 * half again, spread): normally an attempt of the account that ends wakes it sooner.
 */
export const SLOT_FALLBACK_SECONDS = 15

/** What limits a batch of claims, as the claim read it: in-flight counts and the apps' pauses. */
export interface BudgetCounts {
  /** Publications in flight per account. */
  accounts: ReadonlyMap<string, number>
  /** Publications in flight per platform. */
  platforms: ReadonlyMap<string, number>
  /** Seconds until each paused app (by app key) may be called again. */
  pausedApps: ReadonlyMap<string, number>
}

/** A claimable publication, with what the budgets need to know of it. */
export interface BudgetCandidate {
  publicationId: string
  /** Its connected account; null when the account is gone (the attempt then fails on its own). */
  accountId: string | null
  platform: string
  /** The app it goes out through, as `<platform>:<client id>` (see {@link BudgetCounts.pausedApps}). */
  appKey: string
  /** Seconds until the platform lets its account be called again; null or ≤ 0 when not paused. */
  accountPausedForSeconds: number | null
}

/** The limits a claim keeps to (see `EngineOptions`). */
export interface BudgetLimits {
  accountConcurrency: number
  platformConcurrency: number
}

/** Why a publication must wait instead of starting an attempt. */
export type WaitReason =
  /** The platform asked its account to wait (a rate limit of the account's). */
  | 'account_paused'
  /** The platform asked every account of its app to wait (an app-wide rate limit). */
  | 'app_paused'
  /** Its account has as many publications in flight as it may. */
  | 'account_full'
  /** Its platform has as many publications in flight as it may. */
  | 'platform_full'

/** Whether a publication starts an attempt now, or waits — why, how long, and how it is woken. */
export type BudgetDecision =
  | { publicationId: string; start: true }
  | {
      publicationId: string
      start: false
      reason: WaitReason
      waitSeconds: number
      /**
       * Waiting for a place in its account's budget: an attempt of the account that ends wakes it
       * (`waitSeconds` is then only a fallback).
       */
      awaitingSlot: boolean
    }

/**
 * Decides, for a batch of claimable publications in claim order, which start an attempt now and
 * which wait. Pure: the claim reads `counts` (under the budget locks) and writes the outcome. In
 * order of precedence, a publication with an account waits
 *
 * 1. while the platform asked its account or its app to wait (a rate limit): until the later of
 *    the two pauses;
 * 2. while its account has `accountConcurrency` publications in flight: for a place, woken when
 *    one of them ends, else after 15–22.5 s;
 * 3. and any publication, while its platform has `platformConcurrency` in flight: for 1–3 s.
 *
 * A publication whose account is gone is held only by its platform's budget. Each publication
 * that starts takes a place in its account's and platform's counts, so later ones in the batch see
 * it. `random` (in [0, 1), like `Math.random`) spreads the waits so turned-back publications do not
 * come back all at once.
 *
 * @example
 * ```ts
 * decideBudgets([{ publicationId: 'pub_1', accountId: 'acc_1', platform: 'x', appKey: 'x:app', accountPausedForSeconds: null }],
 *   { accounts: new Map([['acc_1', 4]]), platforms: new Map(), pausedApps: new Map() },
 *   { accountConcurrency: 4, platformConcurrency: 200 }, Math.random)
 * // [{ publicationId: 'pub_1', start: false, reason: 'account_full', waitSeconds: 17.1, awaitingSlot: true }]
 * ```
 */
export function decideBudgets(
  candidates: readonly BudgetCandidate[],
  counts: BudgetCounts,
  limits: BudgetLimits,
  random: () => number,
): BudgetDecision[] {
  const accounts = new Map(counts.accounts)
  const platforms = new Map(counts.platforms)
  return candidates.map(({ publicationId, accountId, platform, appKey, ...candidate }) => {
    const accountBusy = accountId ? (accounts.get(accountId) ?? 0) : 0
    const platformBusy = platforms.get(platform) ?? 0
    const accountPause = accountId ? (candidate.accountPausedForSeconds ?? 0) : 0
    const appPause = counts.pausedApps.get(appKey) ?? 0
    const pause = Math.max(accountPause, appPause)
    if (accountId && pause > 0) {
      const reason = accountPause >= appPause ? 'account_paused' : 'app_paused'
      return { publicationId, start: false, reason, waitSeconds: pause, awaitingSlot: false }
    }
    if (accountId && accountBusy >= limits.accountConcurrency) {
      const waitSeconds = SLOT_FALLBACK_SECONDS * (1 + random() / 2)
      return {
        publicationId,
        start: false,
        reason: 'account_full',
        waitSeconds,
        awaitingSlot: true,
      }
    }
    if (platformBusy >= limits.platformConcurrency) {
      const waitSeconds = 1 + random() * 2
      return {
        publicationId,
        start: false,
        reason: 'platform_full',
        waitSeconds,
        awaitingSlot: false,
      }
    }
    if (accountId) accounts.set(accountId, accountBusy + 1)
    platforms.set(platform, platformBusy + 1)
    return { publicationId, start: true }
  })
}
