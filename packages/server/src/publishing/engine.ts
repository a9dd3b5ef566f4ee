import {
  type Adapter,
  type AnyAdapterError,
  type CallOptions,
  isAdapterError,
  type PostContent,
  type PublicationHandles,
  type PublishedPost,
} from '@post-scheduler/adapter-core'
import { and, asc, eq, getTableColumns, gt, sql } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import type { PgBoss } from 'pg-boss'
import { markReauthRequired } from '../connections/accounts.ts'
import { type ConnectedAccount, tokenContext } from '../connections/tokens.ts'
import type { Database, Transaction } from '../db/client.ts'
import { coalesce } from '../db/coalesce.ts'
import { isDatabaseUnavailable } from '../db/errors.ts'
import { generateId } from '../db/ids.ts'
import { lockKeys } from '../db/locks.ts'
import { anyOf } from '../db/predicates.ts'
import {
  appRateLimits,
  connectedAccounts,
  oauthApps,
  type PublicationError,
  posts,
  publicationAttempts,
  publications,
  publishingSettings,
} from '../db/schema/index.ts'
import { publicationOutcomeEvent } from '../events/emit.ts'
import { loadPublishMedia } from '../media/service.ts'
import { chooseOAuthApp } from '../platforms/service.ts'
import type { Services } from '../services.ts'
import { lockPosts, markPostsPublishing, refreshPostStatuses } from './post-status.ts'
import { enqueuePublications, withdrawWaitingJobs } from './queue.ts'

type Publication = typeof publications.$inferSelect
type Post = typeof posts.$inferSelect

/** How the engine is tuned; defaults suit production. */
export interface EngineOptions {
  /** A claim older than this is abandoned and may be taken over (after reconciling). */
  deadlineSeconds: number
  /** Attempts before a retryable failure becomes final. */
  maxAttempts: number
  /** Publications of one connected account in flight at once, across every worker. */
  accountConcurrency: number
  /** Publications to one platform in flight at once, across every worker and account. */
  platformConcurrency: number
}

const SYSTEM = { type: 'system', id: undefined, ip: undefined, requestId: undefined } as const

/** The claim was lost (deadline passed, or another worker took over): stop, write nothing. */
class LostClaimError extends Error {
  override name = 'LostClaimError'
}

/** A publication claimed by this worker for one attempt, with what the attempt needs. */
interface Claim {
  publication: Publication
  attemptId: string
  /** The attempt before this one, whose handles may mean a post was already made. */
  previousAttemptId: string | undefined
  post: Post
  account: ConnectedAccount | null
  /** The workspace's own OAuth app for the platform, if it registered one. */
  oauthApp: typeof oauthApps.$inferSelect | null
  /** The app it is published through, as `<platform>:<client id>` (see `appRateLimits`). */
  appKey: string
  /** Set when the publication is reached later than the workspace's missed-post policy allows. */
  missed?: { lateSeconds: number; limitSeconds: number }
}

type EngineServices = Services & { queue: PgBoss }

/** Runs attempts of publications; see {@link createPublisher}. */
export interface Publisher {
  /**
   * Runs one attempt of the publication, when it is due and not taken (else `skipped`, or
   * `queued` when its account's budget makes it wait), and resolves with how the attempt left it.
   */
  publish(publicationId: string): Promise<Publication['status'] | 'skipped'>
}

/**
 * The publishing engine of one worker process. Each attempt is exactly-once in effect: it claims
 * its publication with a conditional update (a new attempt id fences every later write),
 * reconciles with the platform before any retry of an attempt that may have reached it, saves the
 * adapter's handles before its irreversible call, and classifies failures by the adapter taxonomy
 * (retry with backoff honouring `Retry-After`, reconnect, rejected content, unknown outcome →
 * reconcile or `unconfirmed`).
 *
 * The engine's own writes are set-based: the claims, checkpoints and finishes of attempts running
 * at the same time are each made in one transaction (see {@link coalesce}), so under load a
 * publication costs a fraction of a statement of each, and nothing waits when it is quiet.
 *
 * Safe to run in any number of processes, repeatedly for the same publication: only one claim
 * succeeds, and a worker that loses its claim stops without writing.
 *
 * A live worker outlasts a database that stops answering for a moment (a restart, a failover):
 * it keeps what its attempt learned — published with the platform's ids, or a classified failure —
 * and writes it, still fenced by the attempt id, once PostgreSQL answers again (see
 * {@link untilAnswered}); its claim and checkpoint writes wait the same way. Only a dead worker's
 * claim waits out its deadline.
 */
export function createPublisher(
  services: () => EngineServices,
  options: EngineOptions & { worker?: string },
): Publisher {
  const steps: Steps = {
    claim: coalesce((ids: string[]) => claimPublications(services(), ids, options)),
    checkpoint: coalesce((items: Checkpoint[]) => saveCheckpoints(services().db, items)),
    finish: coalesce((items: Ending[]) => finishAttempts(services(), items, options)),
  }
  return { publish: (publicationId) => runAttempt(services(), publicationId, steps, options) }
}

/** The engine's writes, each batched across the attempts running at the same time. */
interface Steps {
  claim(publicationId: string): Promise<Claim | 'deferred' | undefined>
  /** Whether the handles were saved: false when the claim was lost. */
  checkpoint(item: Checkpoint): Promise<boolean>
  finish(item: Ending): Promise<Publication['status'] | 'skipped'>
}

async function runAttempt(
  services: EngineServices,
  publicationId: string,
  steps: Steps,
  options: EngineOptions,
): Promise<Publication['status'] | 'skipped'> {
  const deadlineMs = options.deadlineSeconds * 1000
  const log = services.logger.child({ publication: publicationId })
  const claim = await untilAnswered(() => steps.claim(publicationId), Date.now() + deadlineMs, log)
  if (claim === 'deferred') return 'queued'
  if (!claim) return 'skipped'
  // The claim's deadline as this worker sees it: no earlier than the database's (which started
  // counting before the answer arrived). Past it, the claim may be taken over and reconciled.
  const claimedUntil = Date.now() + deadlineMs
  const finish = (patch: Finish) =>
    untilAnswered(() => steps.finish({ claim, patch }), claimedUntil, log)
  try {
    const { account, post, missed } = claim
    if (missed) {
      return finish({
        status: 'failed',
        error: {
          code: 'MISSED',
          message: `Not published: it was reached ${formatDelay(missed.lateSeconds)} after its time (Post Scheduler was not running), later than the workspace's missed-post limit of ${formatDelay(missed.limitSeconds)}; retry it to publish it now`,
          retryable: false,
        },
      })
    }
    if (account?.status !== 'active' || !account.accessTokenSealed) {
      return finish({
        status: 'failed',
        error: {
          code: 'ACCOUNT_NOT_CONNECTED',
          message: `The ${claim.publication.platform} account needs to be reconnected`,
          retryable: false,
          action: 'reconnect',
        },
      })
    }
    const platform = services.platforms.get(account.platform)
    const adapter = platform.adapter(
      chooseOAuthApp(services, account.workspaceId, platform, claim.oauthApp),
    )
    const accessToken = services.vault.open(
      account.accessTokenSealed,
      tokenContext(account, 'access_token'),
    )
    const call: CallOptions = {
      ...platform.callOptions,
      // Every platform request ends well before the claim's deadline.
      timeoutMs: Math.min(60_000, Math.floor((options.deadlineSeconds * 1000) / 3)),
    }
    const target = { accessToken, accountId: account.platformAccountId }

    // An earlier attempt saved handles: it may have made the post. Ask before publishing again.
    if (Object.keys(claim.publication.handles).length > 0) {
      const found = await reconcile(adapter, call, target, claim)
      if (found) return finish(found)
    }

    const media = await loadPublishMedia(
      services,
      post.workspaceId,
      mediaIdsFor(post, account.platform),
    )
    const published = await adapter.publish(
      {
        ...target,
        attemptId: claim.attemptId,
        post: { ...contentFor(post, account.platform), ...(media.length > 0 && { media }) },
        handles: claim.publication.handles,
        checkpoint: async (handles) => {
          // Fenced by the attempt and its deadline: when it fails, the claim is lost and the
          // adapter must not make its irreversible call.
          const saved = await untilAnswered(
            () => steps.checkpoint({ claim, handles }),
            claimedUntil,
            log,
          ).catch((error: unknown) => {
            // Past the deadline without an answer: the claim is as good as lost.
            if (isDatabaseUnavailable(error)) return false
            throw error
          })
          if (!saved)
            throw new LostClaimError(
              'the claim expired or was taken over before the irreversible call',
            )
        },
      },
      call,
    )
    return finish(publishedPatch(published))
  } catch (error) {
    if (error instanceof LostClaimError) return 'skipped'
    return finish(await classifyFailure(services, claim, error, options))
  }

  async function reconcile(
    adapter: Adapter,
    call: CallOptions,
    target: { accessToken: string; accountId: string },
    current: Claim,
  ): Promise<Finish | undefined> {
    const [fresh] = await services.db
      .select({ handles: publications.handles })
      .from(publications)
      .where(eq(publications.id, current.publication.id))
    const found = await adapter.lookUpPublication(
      {
        ...target,
        attemptId: current.previousAttemptId ?? current.attemptId,
        handles: fresh?.handles ?? {},
      },
      call,
    )
    if (found.status === 'published') return { ...publishedPatch(found), outcome: 'reconciled' }
    if (found.status === 'not_found') return undefined
    if (
      found.retryAfterSeconds !== undefined &&
      current.publication.attempts < options.maxAttempts
    ) {
      return { status: 'queued', dueInSeconds: found.retryAfterSeconds, outcome: 'retry' }
    }
    return {
      status: 'unconfirmed',
      error: {
        code: 'OUTCOME_UNKNOWN',
        message: `The platform could not tell whether the post was made (${found.reason}); check the account before retrying`,
        retryable: false,
      },
    }
  }
}

/**
 * Runs one of the engine's writes until PostgreSQL answers it. While the database does not answer
 * (restarting, failing over, unreachable: {@link isDatabaseUnavailable}), the write is tried again
 * after 100 ms, doubling to 1 s (jittered), until `untilMs`; any other error, or no answer by
 * then, is thrown. Every retried write is idempotent: a claim is conditional (a claim that
 * committed unanswered finds its row taken and answers `skipped`), a checkpoint merges the same
 * handles, and a finish is fenced by the attempt id (one that committed unanswered then matches
 * nothing: `skipped`, the outcome recorded).
 */
async function untilAnswered<T>(
  write: () => Promise<T>,
  untilMs: number,
  logger: EngineServices['logger'],
): Promise<T> {
  let retried = 0
  for (let delayMs = 100; ; delayMs = Math.min(delayMs * 2, 1000)) {
    try {
      const result = await write()
      if (retried > 0) logger.info({ retried }, 'the database answers again; write recorded')
      return result
    } catch (error) {
      if (!isDatabaseUnavailable(error) || Date.now() + delayMs > untilMs) throw error
      if (retried === 0) {
        logger.warn(
          { reason: error instanceof Error ? error.message : String(error) },
          'the database did not answer; keeping the attempt and retrying the write',
        )
      }
      retried += 1
      await new Promise((resolve) => setTimeout(resolve, delayMs * (0.5 + Math.random())))
    }
  }
}

function publishedPatch(published: PublishedPost): Extract<Finish, { status: 'published' }> {
  return {
    status: 'published',
    platformPostId: published.platformPostId,
    url: published.url ?? null,
  }
}

/** The media ids a platform gets: its override's, else the post's. */
export function mediaIdsFor(post: Pick<Post, 'content' | 'overrides'>, platform: string): string[] {
  return post.overrides[platform]?.mediaIds ?? post.content.mediaIds
}

/**
 * The content of a post for one platform, without its media: shared content with that
 * platform's overrides (see {@link mediaIdsFor} for the media).
 */
export function contentFor(post: Post, platform: string): PostContent<never> {
  const override = post.overrides[platform] ?? {}
  return {
    text: override.text ?? post.content.text,
    ...(post.content.thread && { thread: post.content.thread }),
    ...(post.content.firstComment && { firstComment: post.content.firstComment }),
    ...(override.options && { options: override.options }),
  }
}

/** What limits a batch of claims: in-flight counts and the platform apps' pauses. */
interface Budgets {
  /** Publications in flight per account. */
  accounts: Map<string, number>
  /** Publications in flight per platform. */
  platforms: Map<string, number>
  /** Seconds until each paused app may be called again. */
  pausedApps: Map<string, number>
}

/**
 * Reads the budgets of the given accounts, platforms and apps. Claims sharing an account or a
 * platform take turns (locks until the claim commits), so two cannot both take its last place.
 */
async function readBudgets(
  tx: Transaction,
  wanted: { accounts: string[]; platforms: string[]; apps: string[] },
): Promise<Budgets> {
  const budgets: Budgets = { accounts: new Map(), platforms: new Map(), pausedApps: new Map() }
  if (wanted.accounts.length + wanted.platforms.length + wanted.apps.length === 0) return budgets
  await lockKeys(tx, [
    ...wanted.accounts.map((id) => `publishing-account:${id}`),
    ...wanted.platforms.map((id) => `publishing-platform:${id}`),
  ])
  // After the locks, in a statement of its own: it sees the claims committed while it waited.
  const live = sql`${publications.status} = 'publishing' and ${publications.deadlineAt} > now()`
  const rows = await tx.execute<{ kind: keyof Budgets; key: string; value: number }>(sql`
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

/** "90 s", "12 min", "3 h": a delay for people. */
function formatDelay(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`
  return `${Math.round(seconds / 3600)} h`
}

/** The app a publication goes out through, as `<platform>:<client id>`: the workspace's, else the server's. */
function appKeyOf(
  services: Pick<Services, 'platforms'>,
  platform: string,
  own: { clientId: string } | null,
): string {
  const clientId =
    own?.clientId ??
    services.platforms.list().find((installed) => installed.id === platform)?.serverApp?.clientId
  return `${platform}:${clientId ?? 'none'}`
}

/** Publications that may be claimed now: due (or within a second of it), or abandoned. */
const claimable = sql`(
  (${publications.status} in ('scheduled', 'queued') and ${publications.dueAt} <= now() + interval '1 second')
  or (${publications.status} = 'publishing' and ${publications.deadlineAt} < now())
)`

/**
 * Claims publications in one short transaction, whatever their number: their posts' row locks
 * first, in id order (the lock order of every writer: posts, then publications), reading in the
 * same statement everything the attempts need (post, account, OAuth app, missed-post policy);
 * then the budgets (per account, per platform, the app's pause); then one conditional update that
 * makes each new attempt the only one whose writes count.
 *
 * @returns for each id given, its claim, `deferred` when a budget makes it wait, or
 * undefined when it is not claimable (not due, taken, finished, or given twice).
 */
async function claimPublications(
  services: Pick<Services, 'db' | 'queue' | 'platforms'>,
  requested: string[],
  options: EngineOptions & { worker?: string },
): Promise<(Claim | 'deferred' | undefined)[]> {
  const ids = [...new Set(requested)]
  const { found, appKeys, deferred, claimed } = await services.db.transaction(async (tx) => {
    // Aliased: PostgreSQL's `FOR UPDATE OF` takes an unqualified name.
    const post = alias(posts, 'post')
    const found = await tx
      .select({
        publicationId: publications.id,
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
    const candidates = found.filter((row) => row.claimable)

    // The budgets: the platform asked the account or its app to wait, or enough publications of
    // the account or to the platform are in flight. Then the publication waits its turn, without
    // an attempt.
    const appKeys = new Map(
      candidates.map((row) => [row.publicationId, appKeyOf(services, row.platform, row.oauthApp)]),
    )
    const budgets = await readBudgets(tx, {
      accounts: [...new Set(candidates.flatMap((row) => (row.account ? [row.account.id] : [])))],
      platforms: [...new Set(candidates.map((row) => row.platform))],
      apps: [...new Set(appKeys.values())],
    })
    const waits: { publication: string; wait_seconds: number; slot: boolean }[] = []
    const attempts: { publication: string; attempt: string }[] = []
    for (const row of candidates) {
      const account = row.account
      const accountBusy = account ? (budgets.accounts.get(account.id) ?? 0) : 0
      const platformBusy = budgets.platforms.get(row.platform) ?? 0
      const pause = Math.max(
        account ? (row.rateLimitedForSeconds ?? 0) : 0,
        budgets.pausedApps.get(appKeys.get(row.publicationId) as string) ?? 0,
      )
      if (account && pause > 0) {
        waits.push({ publication: row.publicationId, wait_seconds: pause, slot: false })
      } else if (account && accountBusy >= options.accountConcurrency) {
        // Woken by the account's next attempt to end (see promoteWaiting); the time is a fallback.
        waits.push({
          publication: row.publicationId,
          wait_seconds: SLOT_FALLBACK_SECONDS * (1 + Math.random() / 2),
          slot: true,
        })
      } else if (platformBusy >= options.platformConcurrency) {
        waits.push({
          publication: row.publicationId,
          wait_seconds: 1 + Math.random() * 2,
          slot: false,
        })
      } else {
        if (account) budgets.accounts.set(account.id, accountBusy + 1)
        budgets.platforms.set(row.platform, platformBusy + 1)
        attempts.push({ publication: row.publicationId, attempt: generateId('att') })
      }
    }

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

    const claimed =
      attempts.length === 0
        ? []
        : await tx
            .update(publications)
            .set({
              status: 'publishing',
              attemptId: sql`given.attempt`,
              attempts: sql`${publications.attempts} + 1`,
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
    return { found, appKeys, deferred, claimed }
  })

  const context = new Map(found.map((row) => [row.publicationId, row]))
  const postponed = new Set(deferred.map((row) => row.id))
  const claims = new Map<string, Claim>()
  for (const { lateSeconds, previousAttemptId, ...publication } of claimed) {
    const row = context.get(publication.id)
    if (!row) continue
    const limitSeconds = row.missedAfterSeconds
    claims.set(publication.id, {
      publication,
      attemptId: publication.attemptId as string,
      previousAttemptId: previousAttemptId ?? undefined,
      post: row.post,
      account: row.account,
      oauthApp: row.oauthApp,
      appKey: appKeys.get(publication.id) as string,
      // Only a first attempt can be missed: a retry's time is the engine's, not the user's.
      ...(limitSeconds !== null &&
        publication.attempts === 1 &&
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

/** Handles an adapter asks to save before its irreversible call. */
interface Checkpoint {
  claim: Claim
  handles: PublicationHandles
}

/**
 * Saves the handles of several attempts in one statement, each fenced by its attempt and its
 * deadline. Answers, for each, whether it was saved (false: the claim was lost).
 */
async function saveCheckpoints(db: Database, items: Checkpoint[]): Promise<boolean[]> {
  const merged = new Map<string, { publication: string; attempt: string; saved: object }>()
  for (const { claim, handles } of items) {
    const earlier = merged.get(claim.attemptId)?.saved
    merged.set(claim.attemptId, {
      publication: claim.publication.id,
      attempt: claim.attemptId,
      saved: { ...earlier, ...handles },
    })
  }
  const saved = await db
    .update(publications)
    .set({ handles: sql`${publications.handles} || given.saved`, updatedAt: sql`now()` })
    .from(
      sql`jsonb_to_recordset(${JSON.stringify([...merged.values()])}::jsonb) as given(publication text, attempt text, saved jsonb)`,
    )
    .where(
      and(
        anyOf(
          publications.id,
          [...merged.values()].map((row) => row.publication),
        ),
        sql`${publications.id} = given.publication`,
        sql`${publications.attemptId} = given.attempt`,
        eq(publications.status, 'publishing'),
        gt(publications.deadlineAt, sql`now()`),
      ),
    )
    .returning({ attemptId: publications.attemptId })
  const fenced = new Set(saved.map((row) => row.attemptId))
  return items.map((item) => fenced.has(item.claim.attemptId))
}

/** How an attempt ends. */
type Finish =
  | { status: 'published'; platformPostId: string; url: string | null; outcome?: string }
  | { status: 'failed' | 'unconfirmed'; error: PublicationError; outcome?: string }
  | { status: 'queued'; dueInSeconds: number; error?: PublicationError; outcome?: string }

/** An attempt that ended, and how. */
interface Ending {
  claim: Claim
  patch: Finish
}

/**
 * Records how attempts ended, in one transaction whatever their number: their posts' locks (in id
 * order), one fenced update of their publications (an attempt taken over writes nothing: its
 * successor decides), one of their attempts, the jobs of retries, the outcome events, and their
 * posts' statuses.
 *
 * @returns for each attempt, its publication's new status, or `skipped` when it was taken over.
 */
async function finishAttempts(
  services: EngineServices,
  items: Ending[],
  options: EngineOptions,
): Promise<(Publication['status'] | 'skipped')[]> {
  const given = items.map(({ claim, patch }) => ({
    publication: claim.publication.id,
    attempt: claim.attemptId,
    next_status: patch.status,
    platform_post: patch.status === 'published' ? patch.platformPostId : null,
    link: patch.status === 'published' ? patch.url : null,
    failure: patch.status === 'published' ? null : (patch.error ?? null),
    wait_seconds: patch.status === 'queued' ? patch.dueInSeconds : null,
    result: patch.outcome ?? (patch.status === 'queued' ? 'retry' : patch.status),
  }))
  const table = sql`jsonb_to_recordset(${JSON.stringify(given)}::jsonb) as given(publication text, attempt text, next_status text, platform_post text, link text, failure jsonb, wait_seconds float8, result text)`
  const finished = await services.db.transaction(async (tx) => {
    await lockPosts(
      tx,
      items.map((item) => item.claim.publication.postId),
    )
    const published = sql`given.next_status = 'published'`
    const finished = await tx
      .update(publications)
      .set({
        status: sql`given.next_status`,
        deadlineAt: null,
        updatedAt: sql`now()`,
        platformPostId: sql`case when ${published} then given.platform_post else ${publications.platformPostId} end`,
        url: sql`case when ${published} then given.link else ${publications.url} end`,
        publishedAt: sql`case when ${published} then now() else ${publications.publishedAt} end`,
        error: sql`given.failure`,
        dueAt: sql`case when given.next_status = 'queued' then now() + make_interval(secs => given.wait_seconds) else ${publications.dueAt} end`,
      })
      .from(table)
      .where(
        and(
          anyOf(
            publications.id,
            given.map((row) => row.publication),
          ),
          sql`${publications.id} = given.publication`,
          sql`${publications.attemptId} = given.attempt`,
          eq(publications.status, 'publishing'),
        ),
      )
      .returning(getTableColumns(publications))
    if (finished.length === 0) return finished
    await tx
      .update(publicationAttempts)
      .set({ finishedAt: sql`now()`, outcome: sql`given.result`, error: sql`given.failure` })
      .from(table)
      .where(
        and(
          sql`${publicationAttempts.attemptId} = given.attempt`,
          anyOf(
            publicationAttempts.attemptId,
            finished.map((row) => row.attemptId as string),
          ),
        ),
      )
    await enqueuePublications(
      tx,
      services.queue,
      [
        ...finished.filter((row) => row.status === 'queued'),
        ...(await promoteWaiting(tx, services.config.queueSchema, finished)),
      ],
      { expireInSeconds: options.deadlineSeconds * 2 },
    )
    const posts = new Map(items.map((item) => [item.claim.attemptId, item.claim.post]))
    await refreshPostStatuses(
      tx,
      finished.map((row) => row.postId),
      {
        events: finished.flatMap((row) => {
          const post = posts.get(row.attemptId as string)
          return (post && publicationOutcomeEvent(row, post)) ?? []
        }),
      },
    )
    return finished
  })
  const statuses = new Map(finished.map((row) => [row.attemptId, row.status]))
  return items.map((item) => statuses.get(item.claim.attemptId) ?? 'skipped')
}

/**
 * How long a publication turned back by its account's concurrency budget waits at most (plus up to
 * half again, spread): normally an attempt of the account that ends wakes it sooner.
 */
const SLOT_FALLBACK_SECONDS = 15

/**
 * Wakes the publications that wait longest for a place in the budget of the accounts whose
 * attempts just ended, one per ended attempt: due now, their waiting job replaced (by the caller,
 * with the retries' jobs). Waiting rows another transaction holds are skipped (their fallback time
 * stands), so this never waits on a publication's lock without its post's.
 */
async function promoteWaiting(
  tx: Transaction,
  queueSchema: string,
  ended: Pick<Publication, 'accountId'>[],
): Promise<{ id: string; dueAt: Date }[]> {
  const freed = new Map<string, number>()
  for (const row of ended) freed.set(row.accountId, (freed.get(row.accountId) ?? 0) + 1)
  if (freed.size === 0) return []
  // The claims' account locks (after the posts', as in a claim): a claim turning a publication
  // back commits before this reads, or reads the budget after this commits. No wake-up is lost.
  await lockKeys(
    tx,
    [...freed.keys()].map((account) => `publishing-account:${account}`),
  )
  const slots = [...freed].map(([account, count]) => ({ account, count }))
  const woken = await tx.execute<{ id: string; due_at: string }>(sql`
    update ${publications} set due_at = now(), updated_at = now()
    where ${publications.id} in (
      select waiting.id
      from jsonb_to_recordset(${JSON.stringify(slots)}::jsonb) as freed(account text, count int)
      cross join lateral (
        select ${publications.id} as id from ${publications}
        where ${publications.accountId} = freed.account and ${publications.status} = 'queued'
          and ${publications.awaitingSlotSince} is not null and ${publications.dueAt} > now()
        order by ${publications.awaitingSlotSince}, ${publications.id}
        limit freed.count
        for update skip locked) waiting)
    returning ${publications.id} as id, ${publications.dueAt} as due_at`)
  const rows = woken.map((row) => ({ id: row.id, dueAt: new Date(row.due_at) }))
  await withdrawWaitingJobs(
    tx,
    queueSchema,
    rows.map((row) => row.id),
  )
  return rows
}

/** Turns a failure into how the attempt ends, per the adapter error taxonomy. */
async function classifyFailure(
  services: Services & { queue: PgBoss },
  claim: Claim,
  error: unknown,
  options: EngineOptions,
): Promise<Finish> {
  const attempts = claim.publication.attempts
  const backoff = () => Math.min(3600, 30 * 4 ** (attempts - 1)) * (0.8 + Math.random() * 0.4)
  if (!isAdapterError(error) && isDatabaseUnavailable(error)) {
    // A read of ours failed before the platform was called (the engine's writes wait instead, and
    // the adapter's platform errors are its own): try again in a moment, reconciling first when
    // handles were saved.
    const failure: PublicationError = {
      code: 'INTERNAL_ERROR',
      message: 'The database did not answer during publishing; it will be retried',
      retryable: true,
      action: 'retry_later',
    }
    return attempts < options.maxAttempts
      ? { status: 'queued', dueInSeconds: 1 + Math.random(), error: failure }
      : {
          status: 'failed',
          error: {
            ...failure,
            message: 'Publishing failed: the database did not answer',
            retryable: false,
          },
        }
  }
  if (!isAdapterError(error)) {
    services.logger.error(
      { err: error, publication: claim.publication.id },
      'publication attempt failed unexpectedly',
    )
    const failure: PublicationError = {
      code: 'INTERNAL_ERROR',
      message: 'Publishing failed on our side; it will be retried',
      retryable: true,
      action: 'retry_later',
    }
    return attempts < options.maxAttempts
      ? { status: 'queued', dueInSeconds: backoff(), error: failure }
      : {
          status: 'failed',
          error: { ...failure, message: 'Publishing failed on our side', retryable: false },
        }
  }
  const adapterError = error as AnyAdapterError
  const failure: PublicationError = {
    code: adapterError.code,
    message: adapterError.message,
    retryable: adapterError.retryable,
    action: adapterError.action,
    ...('platformCode' in adapterError &&
      typeof adapterError.platformCode === 'string' && { platformCode: adapterError.platformCode }),
  }
  switch (adapterError.code) {
    case 'OUTCOME_UNKNOWN':
      // The irreversible call was sent and no answer came: retry only through reconciliation.
      return attempts < options.maxAttempts
        ? { status: 'queued', dueInSeconds: 2, error: failure, outcome: 'unknown' }
        : { status: 'unconfirmed', error: failure }
    case 'RATE_LIMITED': {
      // Whoever's limit it is waits as a whole: the account, or every account of the app. None of
      // their publications calls the platform before then.
      const seconds = Math.max(1, adapterError.retryAfterSeconds ?? backoff())
      const until = sql`now() + make_interval(secs => ${seconds})`
      if (adapterError.scope === 'app') {
        await services.db
          .insert(appRateLimits)
          .values({ key: claim.appKey, rateLimitedUntil: until })
          .onConflictDoUpdate({
            target: appRateLimits.key,
            set: {
              rateLimitedUntil: sql`greatest(${appRateLimits.rateLimitedUntil}, excluded.rate_limited_until)`,
            },
          })
      } else {
        await services.db
          .update(connectedAccounts)
          .set({
            rateLimitedUntil: sql`greatest(coalesce(${connectedAccounts.rateLimitedUntil}, now()), ${until})`,
          })
          .where(eq(connectedAccounts.id, claim.publication.accountId))
      }
      return attempts < options.maxAttempts * 2
        ? { status: 'queued', dueInSeconds: seconds, error: failure }
        : { status: 'failed', error: failure }
    }
    case 'RECONNECT_REQUIRED': {
      const [account] = await services.db
        .select()
        .from(connectedAccounts)
        .where(eq(connectedAccounts.id, claim.publication.accountId))
      if (account)
        await markReauthRequired(services, account as ConnectedAccount, 'publish_refused', SYSTEM)
      return { status: 'failed', error: { ...failure, action: 'reconnect' } }
    }
    case 'CONTENT_REJECTED':
      return { status: 'failed', error: { ...failure, action: 'fix_content' } }
    default:
      return adapterError.retryable && attempts < options.maxAttempts
        ? { status: 'queued', dueInSeconds: backoff(), error: failure }
        : { status: 'failed', error: failure }
  }
}
