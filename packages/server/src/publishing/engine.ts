import {
  type Adapter,
  type AnyAdapterError,
  type CallOptions,
  isAdapterError,
  type PostContent,
  type PublicationHandles,
  type PublishedPost,
} from '@post-scheduler/adapter-core'
import { and, eq, getTableColumns, gt, sql } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import type { PgBoss } from 'pg-boss'
import { generateId } from '../auth/secrets.ts'
import { type ConnectedAccount, markReauthRequired, tokenContext } from '../connections/accounts.ts'
import type { Database, Transaction } from '../db/client.ts'
import { lockKey } from '../db/locks.ts'
import {
  connectedAccounts,
  oauthApps,
  type PublicationError,
  posts,
  publicationAttempts,
  publications,
  publishingSettings,
} from '../db/schema/index.ts'
import { recordPublicationOutcome } from '../events/emit.ts'
import { loadPublishMedia } from '../media/service.ts'
import { chooseOAuthApp } from '../platforms/service.ts'
import type { Services } from '../services.ts'
import { lockPost, markPostPublishing, refreshPostStatus } from './post-status.ts'
import { enqueuePublication } from './queue.ts'

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
  /** Set when the publication is reached later than the workspace's missed-post policy allows. */
  missed?: { lateSeconds: number; limitSeconds: number }
}

/**
 * Runs one attempt of a publication, exactly-once in effect: claims it with a conditional update
 * (a new attempt id fences every later write), reconciles with the platform before any retry of an
 * attempt that may have reached it, saves the adapter's handles before its irreversible call, and
 * classifies failures by the adapter taxonomy (retry with backoff honouring `Retry-After`,
 * reconnect, rejected content, unknown outcome → reconcile or `unconfirmed`).
 *
 * Safe to run concurrently and repeatedly for the same publication: only one claim succeeds, and
 * a worker that loses its claim stops without writing.
 */
export async function runPublication(
  services: Services & { queue: PgBoss },
  publicationId: string,
  options: EngineOptions & { worker?: string },
): Promise<Publication['status'] | 'skipped'> {
  const claim = await claimPublication(services, publicationId, options)
  if (claim === 'deferred') return 'queued'
  if (!claim) return 'skipped'
  const finish = (patch: Finish) => finishAttempt(services, claim, patch, options)
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
        checkpoint: (handles) => checkpoint(services.db, claim, handles),
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

/**
 * Publications of an account in flight: claimed, within their deadline. Claims of one account
 * take turns (a lock until the claim commits), so two cannot both take its last place.
 */
async function inFlight(tx: Transaction, accountId: string): Promise<number> {
  await lockKey(tx, `publishing-account:${accountId}`)
  const [row] = await tx
    .select({ count: sql<number>`count(*)::int` })
    .from(publications)
    .where(
      and(
        eq(publications.accountId, accountId),
        eq(publications.status, 'publishing'),
        gt(publications.deadlineAt, sql`now()`),
      ),
    )
  return row?.count ?? 0
}

/** "90 s", "12 min", "3 h": a delay for people. */
function formatDelay(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`
  return `${Math.round(seconds / 3600)} h`
}

/**
 * Claims a publication in one short transaction: the post's row lock first (the lock order of
 * every writer: post, then publications), reading in the same statement everything the attempt
 * needs (post, account, OAuth app, missed-post policy), then the conditional update that makes
 * this attempt the only one whose writes count.
 */
async function claimPublication(
  services: Pick<Services, 'db' | 'queue'>,
  publicationId: string,
  options: EngineOptions & { worker?: string },
) {
  const attemptId = generateId('att')
  return services.db.transaction(async (tx): Promise<Claim | 'deferred' | undefined> => {
    // Aliased: PostgreSQL's `FOR UPDATE OF` takes an unqualified name.
    const post = alias(posts, 'post')
    const [found] = await tx
      .select({
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
      .where(eq(publications.id, publicationId))
      .for('update', { of: post })
    if (!found) return undefined
    const claimable = sql`(
      (${publications.status} in ('scheduled', 'queued') and ${publications.dueAt} <= now() + interval '1 second')
      or (${publications.status} = 'publishing' and ${publications.deadlineAt} < now())
    )`

    // The account's budgets: the platform asked to wait, or enough of its publications are in
    // flight. Then the publication waits its turn, without an attempt.
    const waitSeconds =
      found.account === null
        ? undefined
        : (found.rateLimitedForSeconds ?? 0) > 0
          ? (found.rateLimitedForSeconds as number)
          : (await inFlight(tx, found.account.id)) >= options.accountConcurrency
            ? 1 + Math.random() * 2
            : undefined
    if (waitSeconds !== undefined) {
      const [deferred] = await tx
        .update(publications)
        .set({
          status: 'queued',
          dueAt: sql`now() + make_interval(secs => ${waitSeconds})`,
          updatedAt: sql`now()`,
        })
        .where(and(eq(publications.id, publicationId), claimable))
        .returning()
      if (!deferred) return undefined
      await enqueuePublication(tx, services.queue, deferred, {
        expireInSeconds: options.deadlineSeconds * 2,
      })
      return 'deferred'
    }

    const [current] = await tx
      .select({ attemptId: publications.attemptId })
      .from(publications)
      .where(eq(publications.id, publicationId))
      .for('update')
    const [publication] = await tx
      .update(publications)
      .set({
        status: 'publishing',
        attemptId,
        attempts: sql`${publications.attempts} + 1`,
        deadlineAt: sql`now() + make_interval(secs => ${options.deadlineSeconds})`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(publications.id, publicationId), claimable))
      .returning({
        ...getTableColumns(publications),
        lateSeconds: sql<number>`extract(epoch from now() - ${publications.dueAt})::float8`,
      })
    if (!publication) return undefined
    await tx
      .insert(publicationAttempts)
      .values({ attemptId, publicationId, worker: options.worker ?? null })
    await markPostPublishing(tx, publication.postId)
    const { lateSeconds, ...row } = publication
    const limitSeconds = found.missedAfterSeconds
    return {
      publication: row,
      attemptId,
      previousAttemptId: current?.attemptId ?? undefined,
      post: found.post,
      account: found.account,
      oauthApp: found.oauthApp,
      // Only a first attempt can be missed: a retry's time is the engine's, not the user's.
      ...(limitSeconds !== null &&
        row.attempts === 1 &&
        lateSeconds > limitSeconds && { missed: { lateSeconds, limitSeconds } }),
    }
  })
}

/**
 * Saves the adapter's handles, fenced by the attempt and its deadline: when it fails, the claim is
 * lost and the adapter must not make its irreversible call.
 */
async function checkpoint(db: Database, claim: Claim, handles: PublicationHandles) {
  const [saved] = await db
    .update(publications)
    .set({
      handles: sql`${publications.handles} || ${JSON.stringify(handles)}::jsonb`,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(publications.id, claim.publication.id),
        eq(publications.attemptId, claim.attemptId),
        eq(publications.status, 'publishing'),
        gt(publications.deadlineAt, sql`now()`),
      ),
    )
    .returning({ id: publications.id })
  if (!saved)
    throw new LostClaimError('the claim expired or was taken over before the irreversible call')
}

/** How an attempt ends. */
type Finish =
  | { status: 'published'; platformPostId: string; url: string | null; outcome?: string }
  | { status: 'failed' | 'unconfirmed'; error: PublicationError; outcome?: string }
  | { status: 'queued'; dueInSeconds: number; error?: PublicationError; outcome?: string }
  | { status: 'canceled' }

async function finishAttempt(
  services: Services & { queue: PgBoss },
  claim: Claim,
  patch: Finish,
  options: EngineOptions,
): Promise<Publication['status'] | 'skipped'> {
  return services.db.transaction(async (tx) => {
    await lockPost(tx, claim.publication.postId)
    const [publication] = await tx
      .update(publications)
      .set({
        status: patch.status,
        deadlineAt: null,
        updatedAt: sql`now()`,
        ...(patch.status === 'published' && {
          platformPostId: patch.platformPostId,
          url: patch.url,
          publishedAt: sql`now()`,
          error: null,
        }),
        ...((patch.status === 'failed' || patch.status === 'unconfirmed') && {
          error: patch.error,
        }),
        ...(patch.status === 'queued' && {
          dueAt: sql`now() + make_interval(secs => ${patch.dueInSeconds})`,
          error: patch.error ?? null,
        }),
      })
      .where(
        and(
          eq(publications.id, claim.publication.id),
          eq(publications.attemptId, claim.attemptId),
          eq(publications.status, 'publishing'),
        ),
      )
      .returning()
    // Another worker took over: its attempt decides.
    if (!publication) return 'skipped'
    const outcome =
      'outcome' in patch && patch.outcome
        ? patch.outcome
        : patch.status === 'queued'
          ? 'retry'
          : patch.status
    await tx
      .update(publicationAttempts)
      .set({
        finishedAt: sql`now()`,
        outcome,
        error: 'error' in patch ? (patch.error ?? null) : null,
      })
      .where(eq(publicationAttempts.attemptId, claim.attemptId))
    if (publication.status === 'queued') {
      await enqueuePublication(tx, services.queue, publication, {
        expireInSeconds: options.deadlineSeconds * 2,
      })
    }
    await recordPublicationOutcome(tx, publication, claim.post)
    await refreshPostStatus(tx, publication.postId)
    return publication.status
  })
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
      // The whole account waits: its other publications do not call the platform before then.
      const seconds = Math.max(1, adapterError.retryAfterSeconds ?? backoff())
      await services.db
        .update(connectedAccounts)
        .set({
          rateLimitedUntil: sql`greatest(coalesce(${connectedAccounts.rateLimitedUntil}, now()), now() + make_interval(secs => ${seconds}))`,
        })
        .where(eq(connectedAccounts.id, claim.publication.accountId))
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
