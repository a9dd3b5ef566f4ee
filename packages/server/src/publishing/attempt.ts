import {
  type Adapter,
  type CallOptions,
  isProcessing,
  type ProcessingPublication,
  type PublicationHandles,
  type PublishedPost,
} from '@post-scheduler/adapter-core'
import { and, eq, gt, sql } from 'drizzle-orm'
import { openAccountAdapter } from '../connections/adapter.ts'
import type { Database } from '../db/client.ts'
import { isDatabaseUnavailable } from '../db/errors.ts'
import { anyOf } from '../db/predicates.ts'
import { publications } from '../db/schema/index.ts'
import { loadPublishMedia } from '../media/publishing.ts'
import { contentFor, mediaIdsFor } from '../posts/content.ts'
import type { Claim } from './claim.ts'
import { classifyFailure } from './failures.ts'
import type { Ending, Finish } from './finish.ts'
import type { EngineOptions, EngineServices } from './options.ts'
import { checkProcessing } from './processing.ts'
import { untilAnswered } from './until-answered.ts'

type Publication = typeof publications.$inferSelect

/** The claim was lost (deadline passed, or another worker took over): stop, write nothing. */
class LostClaimError extends Error {
  override name = 'LostClaimError'
}

/** Handles an adapter asks to save before its irreversible call. */
export interface Checkpoint {
  claim: Claim
  handles: PublicationHandles
}

/** The engine's writes, each batched across the attempts running at the same time. */
export interface Steps {
  claim(publicationId: string): Promise<Claim | 'deferred' | undefined>
  /** Whether the handles were saved: false when the claim was lost. */
  checkpoint(item: Checkpoint): Promise<boolean>
  finish(item: Ending): Promise<Publication['status'] | 'skipped'>
}

/**
 * Runs one attempt of a publication: claims it, reconciles with the platform when an earlier
 * attempt saved handles, publishes through the account's adapter (saving its handles before the
 * irreversible call), and finishes it with the outcome or the classified failure. A publication
 * the platform accepted and is still processing is only ever checked (`checkPublication`),
 * never published again; `processing` answers finish it into `processing`, freeing the worker. Each write waits
 * out a database that does not answer, until the claim's deadline ({@link untilAnswered}).
 *
 * @returns how the attempt left the publication: `queued` when a budget made it wait, `skipped`
 * when it was not claimable or the claim was lost.
 * @example
 * ```ts
 * const status = await runAttempt(services, 'pub_1', steps, options)
 * ```
 */
export async function runAttempt(
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
    // The app the claim resolved (and keyed the app's pauses by); without one, the attempt fails
    // as getting it failed.
    if ('error' in claim.app) throw claim.app.error
    const { adapter, platform, openToken } = await openAccountAdapter(
      services,
      account,
      claim.app.app,
    )
    const call: CallOptions = {
      ...platform.callOptions,
      // Every platform request ends well before the claim's deadline.
      timeoutMs: Math.min(60_000, Math.floor((options.deadlineSeconds * 1000) / 3)),
    }
    const target = { accessToken: openToken('access_token'), accountId: account.platformAccountId }

    // The platform accepted it earlier and is finishing it: check, never publish again.
    if (claim.publication.processingUntil) {
      return finish(await checkProcessing(adapter, call, target, claim.publication))
    }

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
    if (isProcessing(published)) return finish(processingPatch(published, options))
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
    if (found.status === 'processing') return processingPatch(found, options)
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

/**
 * The platform accepted the post and finishes it later: `processing`, checked after the
 * platform's wait, until the adapter's or the engine's limit.
 */
function processingPatch(
  processing: ProcessingPublication,
  options: EngineOptions,
): Extract<Finish, { status: 'processing' }> {
  const limit = options.maxProcessingSeconds ?? DEFAULT_MAX_PROCESSING_SECONDS
  return {
    status: 'processing',
    dueInSeconds: Math.max(0, processing.checkAfterSeconds),
    handles: { ...processing.handles },
    maxWaitSeconds: Math.min(limit, processing.maxWaitSeconds ?? limit),
  }
}

/** How long the platform may take to finish a post, unless configured: a day. */
const DEFAULT_MAX_PROCESSING_SECONDS = 86_400

/** "90 s", "12 min", "3 h": a delay for people. */
export function formatDelay(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`
  return `${Math.round(seconds / 3600)} h`
}

/**
 * Saves the handles of several attempts in one statement, each fenced by its attempt and its
 * deadline. Answers, for each, whether it was saved (false: the claim was lost).
 *
 * @example
 * ```ts
 * const checkpoint = coalesce((items: Checkpoint[]) => saveCheckpoints(db, items))
 * ```
 */
export async function saveCheckpoints(db: Database, items: Checkpoint[]): Promise<boolean[]> {
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
