import { type Adapter, type CallOptions, isAdapterError } from '@post-scheduler/adapter-core'
import type { publications } from '../db/schema/index.ts'
import type { Finish } from './finish.ts'
import { publicationErrorOf } from './publication-error.ts'

type Publication = typeof publications.$inferSelect

/**
 * One check of a publication the platform is processing (`checkPublication`, from its saved
 * handles): published, processing again until the next check (never past `processingUntil`:
 * then `unconfirmed`), or failed as the platform classified it. A failure to ask is thrown, for
 * the engine to classify and retry like any attempt's; the retry checks again.
 *
 * @example
 * ```ts
 * if (claim.publication.processingUntil) return finish(await checkProcessing(adapter, call, target, claim.publication))
 * ```
 */
export async function checkProcessing(
  adapter: Adapter,
  call: CallOptions,
  target: { accessToken: string; accountId: string },
  publication: Pick<Publication, 'handles' | 'processingUntil' | 'platform'>,
): Promise<Finish> {
  if (!adapter.checkPublication) {
    return {
      status: 'unconfirmed',
      error: {
        code: 'OUTCOME_UNKNOWN',
        message: `The ${publication.platform} platform accepted the post to finish it later, but its adapter cannot check on it; check the account`,
        retryable: false,
      },
    }
  }
  const found = await adapter.checkPublication({ ...target, handles: publication.handles }, call)
  if (found.status === 'published') {
    return {
      status: 'published',
      platformPostId: found.platformPostId ?? null,
      url: found.url ?? null,
    }
  }
  if (found.status === 'failed') {
    const error = found.error
    const failure = isAdapterError(error)
      ? publicationErrorOf(error)
      : { code: 'PROCESSING_FAILED', message: String(error), retryable: false }
    return {
      status: 'failed',
      error: {
        ...failure,
        // The platform gave up on this post: trying the same one again would fail the same way.
        retryable: false,
        ...(isAdapterError(error, 'CONTENT_REJECTED') && { action: 'fix_content' as const }),
      },
    }
  }
  const remainingSeconds = ((publication.processingUntil?.getTime() ?? 0) - Date.now()) / 1000
  if (remainingSeconds <= 0) {
    return {
      status: 'unconfirmed',
      error: {
        code: 'PROCESSING_TIMEOUT',
        message: `The ${publication.platform} platform was still processing the post when Post Scheduler stopped waiting; check the account: it may still appear`,
        retryable: false,
      },
    }
  }
  return {
    status: 'processing',
    // The last check falls on the limit, not after it.
    dueInSeconds: Math.min(Math.max(0, found.checkAfterSeconds), remainingSeconds),
    handles: { ...found.handles },
    maxWaitSeconds: remainingSeconds,
  }
}
