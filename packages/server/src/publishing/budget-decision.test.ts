import { describe, expect, it } from 'vitest'
import {
  type BudgetCandidate,
  type BudgetCounts,
  decideBudgets,
  SLOT_FALLBACK_SECONDS,
} from './budget-decision.ts'

// The budget decision alone, without a database: which claimable publications start now and
// which wait, why and for how long. `budgets.test.ts` proves the same budgets end to end.

const limits = { accountConcurrency: 2, platformConcurrency: 3 }

function candidate(publicationId: string, fields: Partial<BudgetCandidate> = {}): BudgetCandidate {
  return {
    publicationId,
    accountId: 'acc_1',
    platform: 'x',
    appKey: 'x:app_1',
    accountPausedForSeconds: null,
    ...fields,
  }
}

function counts(fields: Partial<Record<keyof BudgetCounts, Record<string, number>>> = {}) {
  return {
    accounts: new Map(Object.entries(fields.accounts ?? {})),
    platforms: new Map(Object.entries(fields.platforms ?? {})),
    pausedApps: new Map(Object.entries(fields.pausedApps ?? {})),
  }
}

/** The decisions as `id: start` or `id: reason`, to read a batch at a glance. */
function outcomes(decisions: ReturnType<typeof decideBudgets>) {
  return decisions.map((decision) =>
    decision.start
      ? `${decision.publicationId}: start`
      : `${decision.publicationId}: ${decision.reason}`,
  )
}

const middle = () => 0.5

describe('the budget decision', () => {
  it('starts every publication when nothing is in flight or paused', () => {
    const decisions = decideBudgets(
      [candidate('pub_1'), candidate('pub_2', { accountId: 'acc_2' })],
      counts(),
      limits,
      middle,
    )
    expect(decisions).toEqual([
      { publicationId: 'pub_1', start: true },
      { publicationId: 'pub_2', start: true },
    ])
  })

  it('makes a publication wait for the account pause a rate limit set, however much room there is', () => {
    const [decision] = decideBudgets(
      [candidate('pub_1', { accountPausedForSeconds: 42 })],
      counts(),
      limits,
      middle,
    )
    expect(decision).toEqual({
      publicationId: 'pub_1',
      start: false,
      reason: 'account_paused',
      waitSeconds: 42,
      awaitingSlot: false,
    })
  })

  it('ignores an account pause that is already over', () => {
    const decisions = decideBudgets(
      [candidate('pub_1', { accountPausedForSeconds: -3 })],
      counts(),
      limits,
      middle,
    )
    expect(outcomes(decisions)).toEqual(['pub_1: start'])
  })

  it('makes every publication through a paused app wait, and only those through that app', () => {
    const decisions = decideBudgets(
      [
        candidate('pub_1', { appKey: 'sandbox:post-scheduler.ws_1' }),
        candidate('pub_2', { accountId: 'acc_2', appKey: 'sandbox:post-scheduler.ws_1' }),
        candidate('pub_3', { accountId: 'acc_3', appKey: 'sandbox:post-scheduler.ws_2' }),
      ],
      counts({ pausedApps: { 'sandbox:post-scheduler.ws_1': 30 } }),
      limits,
      middle,
    )
    expect(outcomes(decisions)).toEqual(['pub_1: app_paused', 'pub_2: app_paused', 'pub_3: start'])
    expect(decisions[0]).toMatchObject({ waitSeconds: 30, awaitingSlot: false })
  })

  it('waits until the later of the account and app pauses, naming the longer one', () => {
    const decisions = decideBudgets(
      [
        candidate('pub_1', { accountPausedForSeconds: 10 }),
        candidate('pub_2', { accountId: 'acc_2', accountPausedForSeconds: 90 }),
      ],
      counts({ pausedApps: { 'x:app_1': 60 } }),
      limits,
      middle,
    )
    expect(decisions).toMatchObject([
      { reason: 'app_paused', waitSeconds: 60 },
      { reason: 'account_paused', waitSeconds: 90 },
    ])
  })

  it('turns a publication back to wait for a place when its account is full, with a 15–22.5 s fallback', () => {
    const decide = (random: number) =>
      decideBudgets([candidate('pub_1')], counts({ accounts: { acc_1: 2 } }), limits, () => random)
    expect(decide(0)).toEqual([
      {
        publicationId: 'pub_1',
        start: false,
        reason: 'account_full',
        waitSeconds: SLOT_FALLBACK_SECONDS,
        awaitingSlot: true,
      },
    ])
    expect(decide(0.999)[0]).toMatchObject({ waitSeconds: expect.closeTo(22.5, 1) })
  })

  it('turns a publication back for 1–3 s when its platform is full', () => {
    const decide = (random: number) =>
      decideBudgets([candidate('pub_1')], counts({ platforms: { x: 3 } }), limits, () => random)
    expect(decide(0)).toEqual([
      {
        publicationId: 'pub_1',
        start: false,
        reason: 'platform_full',
        waitSeconds: 1,
        awaitingSlot: false,
      },
    ])
    expect(decide(0.999)[0]).toMatchObject({ waitSeconds: expect.closeTo(3, 1) })
  })

  it('counts the publications it starts, so later ones in the batch meet the full budgets', () => {
    const decisions = decideBudgets(
      [
        candidate('pub_1'),
        candidate('pub_2'),
        // The account has had its two places taken by the two before.
        candidate('pub_3'),
        // Another account, and the platform's last place.
        candidate('pub_4', { accountId: 'acc_2' }),
        candidate('pub_5', { accountId: 'acc_3' }),
        // Another platform is not held back by x's budget.
        candidate('pub_6', { accountId: 'acc_4', platform: 'linkedin', appKey: 'linkedin:app_1' }),
      ],
      counts(),
      limits,
      middle,
    )
    expect(outcomes(decisions)).toEqual([
      'pub_1: start',
      'pub_2: start',
      'pub_3: account_full',
      'pub_4: start',
      'pub_5: platform_full',
      'pub_6: start',
    ])
  })

  it('adds the places it takes to those already in flight', () => {
    const decisions = decideBudgets(
      [candidate('pub_1'), candidate('pub_2')],
      counts({ accounts: { acc_1: 1 }, platforms: { x: 1 } }),
      limits,
      middle,
    )
    expect(outcomes(decisions)).toEqual(['pub_1: start', 'pub_2: account_full'])
  })

  it('puts a pause before a full account, and a full account before a full platform', () => {
    const full = counts({ accounts: { acc_1: 2 }, platforms: { x: 3 } })
    const paused = decideBudgets(
      [candidate('pub_1', { accountPausedForSeconds: 5 })],
      full,
      limits,
      middle,
    )
    const waiting = decideBudgets([candidate('pub_1')], full, limits, middle)
    expect(outcomes(paused)).toEqual(['pub_1: account_paused'])
    expect(outcomes(waiting)).toEqual(['pub_1: account_full'])
  })

  it('holds a publication whose account is gone only to its platform budget', () => {
    const decisions = decideBudgets(
      [
        candidate('pub_1', { accountId: null, accountPausedForSeconds: 30 }),
        candidate('pub_2', { accountId: null }),
      ],
      counts({ pausedApps: { 'x:app_1': 30 }, platforms: { x: 2 } }),
      limits,
      middle,
    )
    // The first takes the platform's last place (its attempt then fails: no account); the second
    // finds the platform full.
    expect(outcomes(decisions)).toEqual(['pub_1: start', 'pub_2: platform_full'])
  })

  it('leaves the counts it was given as they were', () => {
    const given = counts({ accounts: { acc_1: 1 } })
    decideBudgets([candidate('pub_1')], given, limits, middle)
    expect(given.accounts.get('acc_1')).toBe(1)
    expect(given.platforms.size).toBe(0)
  })
})
