import {
  type Adapter,
  type AnyAdapterError,
  type CallOptions,
  isAdapterError,
  type PostContent,
  type PublicationHandles,
  type PublishedPost,
} from '@post-scheduler/adapter-core'
import { and, eq, gt, sql } from 'drizzle-orm'
import type { PgBoss } from 'pg-boss'
import { generateId } from '../auth/secrets.ts'
import { type ConnectedAccount, markReauthRequired, tokenContext } from '../connections/accounts.ts'
import type { Database } from '../db/client.ts'
import {
  connectedAccounts,
  type PublicationError,
  posts,
  publicationAttempts,
  publications,
} from '../db/schema/index.ts'
import { recordPublicationOutcome } from '../events/emit.ts'
import { loadPublishMedia } from '../media/service.ts'
import { resolveOAuthApp } from '../platforms/service.ts'
import type { Services } from '../services.ts'
import { lockPost, refreshPostStatus } from './post-status.ts'
import { enqueuePublication } from './queue.ts'

type Publication = typeof publications.$inferSelect
type Post = typeof posts.$inferSelect

/** How the engine is tuned; defaults suit production. */
export interface EngineOptions {
  /** A claim older than this is abandoned and may be taken over (after reconciling). */
  deadlineSeconds: number
  /** Attempts before a retryable failure becomes final. */
  maxAttempts: number
}

const SYSTEM = { type: 'system', id: undefined, ip: undefined, requestId: undefined } as const

/** The claim was lost (deadline passed, or another worker took over): stop, write nothing. */
class LostClaimError extends Error {
  override name = 'LostClaimError'
}

/** A publication claimed by this worker for one attempt. */
interface Claim {
  publication: Publication
  attemptId: string
  /** The attempt before this one, whose handles may mean a post was already made. */
  previousAttemptId: string | undefined
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
  const claim = await claimPublication(services.db, publicationId, options)
  if (!claim) return 'skipped'
  const finish = (patch: Finish) => finishAttempt(services, claim, patch, options)
  try {
    const [account] = await services.db
      .select()
      .from(connectedAccounts)
      .where(eq(connectedAccounts.id, claim.publication.accountId))
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
    const adapter = platform.adapter(await resolveOAuthApp(services, account.workspaceId, platform))
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

    const [post] = await services.db
      .select()
      .from(posts)
      .where(eq(posts.id, claim.publication.postId))
    if (!post) return finish({ status: 'canceled' })
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

async function claimPublication(
  db: Database,
  publicationId: string,
  options: EngineOptions & { worker?: string },
) {
  const attemptId = generateId('att')
  return db.transaction(async (tx): Promise<Claim | undefined> => {
    const [owner] = await tx
      .select({ postId: publications.postId })
      .from(publications)
      .where(eq(publications.id, publicationId))
    if (!owner) return undefined
    await lockPost(tx, owner.postId)
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
      .where(
        and(
          eq(publications.id, publicationId),
          sql`(
            (${publications.status} in ('scheduled', 'queued') and ${publications.dueAt} <= now() + interval '1 second')
            or (${publications.status} = 'publishing' and ${publications.deadlineAt} < now())
          )`,
        ),
      )
      .returning()
    if (!publication) return undefined
    await tx
      .insert(publicationAttempts)
      .values({ attemptId, publicationId, worker: options.worker ?? null })
    await refreshPostStatus(tx, publication.postId)
    return { publication, attemptId, previousAttemptId: current?.attemptId ?? undefined }
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
    await recordPublicationOutcome(tx, publication)
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
    case 'RATE_LIMITED':
      return attempts < options.maxAttempts * 2
        ? {
            status: 'queued',
            dueInSeconds: Math.max(1, adapterError.retryAfterSeconds ?? backoff()),
            error: failure,
          }
        : { status: 'failed', error: failure }
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
