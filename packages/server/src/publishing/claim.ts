import { and, asc, eq, getTableColumns, sql } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import type { ConnectedAccount } from '../connections/tokens.ts'
import type { Transaction } from '../db/client.ts'
import { generateId } from '../db/ids.ts'
import { anyOf } from '../db/predicates.ts'
import {
  connectedAccounts,
  oauthApps,
  posts,
  publicationAttempts,
  publications,
  publishingSettings,
} from '../db/schema/index.ts'
import type { OAuthApp } from '../platforms/registry.ts'
import { chooseOAuthApp } from '../platforms/service.ts'
import type { Services } from '../services.ts'
import { type BudgetDecision, decideBudgets } from './budget-decision.ts'
import { appKeyOf, readBudgets } from './budgets.ts'
import type { EngineOptions } from './options.ts'
import { markPostsPublishing } from './post-status.ts'
import { enqueuePublications } from './queue.ts'

type Publication = typeof publications.$inferSelect
type Post = typeof posts.$inferSelect

/** A publication claimed by this worker for one attempt, with what the attempt needs. */
export interface Claim {
  publication: Publication
  attemptId: string
  /** The attempt before this one, whose handles may mean a post was already made. */
  previousAttemptId: string | undefined
  post: Post
  account: ConnectedAccount | null
  /**
   * The OAuth app the attempt publishes through, resolved once at the claim (see
   * `chooseOAuthApp`), or why there is none: the attempt fails with that error when it needs it.
   */
  app: { app: OAuthApp } | { error: unknown }
  /** The app as `<platform>:<client id>`, the key of its pauses (see `appRateLimits`). */
  appKey: string
  /** Set when the publication is reached later than the workspace's missed-post policy allows. */
  missed?: { lateSeconds: number; limitSeconds: number }
}

/**
 * Publications that may be claimed now: due (or within a second of it) — a `processing` one is
 * due for its next check — or abandoned.
 */
const claimable = sql`(
  (${publications.status} in ('scheduled', 'queued', 'processing') and ${publications.dueAt} <= now() + interval '1 second')
  or (${publications.status} = 'publishing' and ${publications.deadlineAt} < now())
)`

type ClaimServices = Pick<Services, 'db' | 'queue' | 'platforms' | 'vault'>

/**
 * Claims publications in one short transaction, whatever their number: their posts' row locks
 * first, in id order (the lock order of every writer: posts, then publications), reading in the
 * same statement everything the attempts need (post, account, OAuth app, missed-post policy);
 * then the budgets (per account, per platform, the app's pause: see {@link decideBudgets}); then
 * one conditional update that makes each new attempt the only one whose writes count.
 *
 * @returns for each id given, its claim, `deferred` when a budget makes it wait, or
 * undefined when it is not claimable (not due, taken, finished, or given twice).
 * @example
 * ```ts
 * const claim = coalesce((ids: string[]) => claimPublications(services, ids, options))
 * ```
 */
export async function claimPublications(
  services: ClaimServices,
  requested: string[],
  options: EngineOptions & { worker?: string },
): Promise<(Claim | 'deferred' | undefined)[]> {
  const ids = [...new Set(requested)]
  const { found, apps, deferred, claimed } = await services.db.transaction(async (tx) => {
    const found = await readClaimable(tx, ids)
    const candidates = found.filter((row) => row.claimable)

    // The budgets: the platform asked the account or its app to wait, or enough publications of
    // the account or to the platform are in flight. Then the publication waits its turn, without
    // an attempt.
    const apps = new Map(
      candidates.map((row) => {
        const app = resolveApp(services, row)
        return [
          row.publicationId,
          { app, key: appKeyOf(row.platform, 'app' in app ? app.app : undefined) },
        ]
      }),
    )
    const budgets = await readBudgets(tx, {
      accounts: [...new Set(candidates.flatMap((row) => (row.account ? [row.account.id] : [])))],
      platforms: [...new Set(candidates.map((row) => row.platform))],
      apps: [...new Set([...apps.values()].map((app) => app.key))],
    })
    const decisions = decideBudgets(
      candidates.map((row) => ({
        publicationId: row.publicationId,
        accountId: row.account?.id ?? null,
        platform: row.platform,
        appKey: apps.get(row.publicationId)?.key as string,
        accountPausedForSeconds: row.rateLimitedForSeconds,
      })),
      budgets,
      options,
      Math.random,
    )
    const deferred = await deferPublications(tx, services, decisions, options)
    const claimed = await startAttempts(
      tx,
      decisions.flatMap((decision) => (decision.start ? [decision.publicationId] : [])),
      options,
    )
    return { found, apps, deferred, claimed }
  })

  const context = new Map(found.map((row) => [row.publicationId, row]))
  const postponed = new Set(deferred.map((row) => row.id))
  const claims = new Map<string, Claim>()
  for (const { lateSeconds, previousAttemptId, ...publication } of claimed) {
    const row = context.get(publication.id)
    const app = apps.get(publication.id)
    if (!row || !app) continue
    const limitSeconds = row.missedAfterSeconds
    claims.set(publication.id, {
      publication,
      attemptId: publication.attemptId as string,
      previousAttemptId: previousAttemptId ?? undefined,
      post: row.post,
      account: row.account,
      app: app.app,
      appKey: app.key,
      // Only a first attempt can be missed: a retry's or a check's time is the engine's, not the
      // user's.
      ...(limitSeconds !== null &&
        publication.attempts === 1 &&
        publication.processingUntil === null &&
        lateSeconds > limitSeconds && { missed: { lateSeconds, limitSeconds } }),
    })
  }
  const answered = new Set<string>()
  return requested.map((id) => {
    if (answered.has(id)) return undefined
    answered.add(id)
    return claims.get(id) ?? (postponed.has(id) ? 'deferred' : undefined)
  })
}

/**
 * Locks the posts of the given publications (in id order) and reads, in the same statement,
 * whether each is claimable and what its attempt and budgets need.
 */
async function readClaimable(tx: Transaction, ids: string[]) {
  // Aliased: PostgreSQL's `FOR UPDATE OF` takes an unqualified name.
  const post = alias(posts, 'post')
  return tx
    .select({
      publicationId: publications.id,
      workspaceId: publications.workspaceId,
      platform: publications.platform,
      claimable: sql<boolean>`${claimable}`,
      post,
      account: connectedAccounts,
      oauthApp: oauthApps,
      missedAfterSeconds: publishingSettings.missedAfterSeconds,
      rateLimitedForSeconds: sql<
        number | null
      >`extract(epoch from ${connectedAccounts.rateLimitedUntil} - now())::float8`,
    })
    .from(publications)
    .innerJoin(post, eq(post.id, publications.postId))
    .leftJoin(connectedAccounts, eq(connectedAccounts.id, publications.accountId))
    .leftJoin(
      oauthApps,
      and(
        eq(oauthApps.workspaceId, publications.workspaceId),
        eq(oauthApps.platform, publications.platform),
      ),
    )
    .leftJoin(publishingSettings, eq(publishingSettings.workspaceId, publications.workspaceId))
    .where(anyOf(publications.id, ids))
    .orderBy(asc(post.id))
    .for('update', { of: post })
}

/**
 * The OAuth app a publication's attempt will publish through. A platform or app that cannot be
 * had is kept as the error, for the attempt to fail with as it would have failed getting it: one
 * publication's missing app never fails the claims batched with it.
 */
function resolveApp(
  services: Pick<Services, 'platforms' | 'vault'>,
  row: { workspaceId: string; platform: string; oauthApp: typeof oauthApps.$inferSelect | null },
): Claim['app'] {
  try {
    const platform = services.platforms.get(row.platform)
    return { app: chooseOAuthApp(services, row.workspaceId, platform, row.oauthApp) }
  } catch (error) {
    return { error }
  }
}

/**
 * Turns back the publications a budget makes wait: `queued` until their wait is over, with a job
 * due then; those waiting for a place in their account's budget are marked so that an attempt of
 * the account that ends wakes them (see `promoteWaiting`).
 */
async function deferPublications(
  tx: Transaction,
  services: Pick<Services, 'queue'>,
  decisions: BudgetDecision[],
  options: EngineOptions,
): Promise<{ id: string; dueAt: Date }[]> {
  const waits = decisions.flatMap((decision) =>
    decision.start
      ? []
      : [
          {
            publication: decision.publicationId,
            wait_seconds: decision.waitSeconds,
            slot: decision.awaitingSlot,
          },
        ],
  )
  const deferred =
    waits.length === 0
      ? []
      : await tx
          .update(publications)
          .set({
            status: 'queued',
            dueAt: sql`now() + make_interval(secs => given.wait_seconds)`,
            awaitingSlotSince: sql`case when given.slot then coalesce(${publications.awaitingSlotSince}, now()) end`,
            updatedAt: sql`now()`,
          })
          .from(
            sql`jsonb_to_recordset(${JSON.stringify(waits)}::jsonb) as given(publication text, wait_seconds float8, slot boolean)`,
          )
          .where(
            and(
              anyOf(
                publications.id,
                waits.map((row) => row.publication),
              ),
              sql`${publications.id} = given.publication`,
              claimable,
            ),
          )
          .returning({ id: publications.id, dueAt: publications.dueAt })
  await enqueuePublications(tx, services.queue, deferred, {
    expireInSeconds: options.deadlineSeconds * 2,
  })
  return deferred
}

/**
 * Starts an attempt of each given publication still claimable: `publishing` under a new attempt
 * id, until the deadline; records the attempts and marks their posts publishing.
 */
async function startAttempts(
  tx: Transaction,
  publicationIds: string[],
  options: EngineOptions & { worker?: string },
) {
  const attempts = publicationIds.map((id) => ({ publication: id, attempt: generateId('att') }))
  const claimed =
    attempts.length === 0
      ? []
      : await tx
          .update(publications)
          .set({
            status: 'publishing',
            attemptId: sql`given.attempt`,
            // A check of a post the platform is processing is not another try at publishing.
            attempts: sql`case when ${publications.status} = 'processing' then ${publications.attempts} else ${publications.attempts} + 1 end`,
            deadlineAt: sql`now() + make_interval(secs => ${options.deadlineSeconds})`,
            awaitingSlotSince: null,
            updatedAt: sql`now()`,
          })
          // `previous`: the row as this statement found it, under the post's lock (which every
          // claim holds), so its attempt id is the one this claim replaces.
          .from(
            sql`jsonb_to_recordset(${JSON.stringify(attempts)}::jsonb) as given(publication text, attempt text)
                join ${publications} as previous on previous.id = given.publication`,
          )
          .where(
            and(
              anyOf(
                publications.id,
                attempts.map((row) => row.publication),
              ),
              sql`${publications.id} = given.publication`,
              claimable,
            ),
          )
          .returning({
            ...getTableColumns(publications),
            lateSeconds: sql<number>`extract(epoch from now() - ${publications.dueAt})::float8`,
            previousAttemptId: sql<string | null>`previous.attempt_id`,
          })
  if (claimed.length > 0) {
    await tx.insert(publicationAttempts).values(
      claimed.map((row) => ({
        attemptId: row.attemptId as string,
        publicationId: row.id,
        worker: options.worker ?? null,
      })),
    )
    await markPostsPublishing(
      tx,
      claimed.map((row) => row.postId),
    )
  }
  return claimed
}
