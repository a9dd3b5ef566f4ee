import { coalesce } from '../db/coalesce.ts'
import type { publications } from '../db/schema/index.ts'
import { type Checkpoint, runAttempt, type Steps, saveCheckpoints } from './attempt.ts'
import { claimPublications } from './claim.ts'
import { type Ending, finishAttempts } from './finish.ts'
import type { EngineOptions, EngineServices } from './options.ts'
import type { untilAnswered } from './until-answered.ts'

export type { EngineOptions } from './options.ts'

type Publication = typeof publications.$inferSelect

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
 *
 * A platform that finishes posts later (video processing, moderation) answers `processing`: the
 * attempt finishes into `processing` with its handles and the next check's time, holding no worker
 * slot, budget place or connection; each check is then claimed like an attempt and calls
 * `checkPublication` (never `publish` again) until the post is published, failed, or past the
 * platform's wait and `unconfirmed`.
 *
 * Where each part lives: `claim.ts` (the claim, its budgets decided by `budget-decision.ts` from
 * what `budgets.ts` reads), `attempt.ts` (an attempt: checkpoints, the adapter's call,
 * reconciliation), `processing.ts` (a check of a publication the platform is processing), `failures.ts` (classifying failures), `finish.ts` (the fenced finish and the
 * wake-ups of publications waiting for a place), `until-answered.ts` (waiting out the database).
 *
 * @example
 * ```ts
 * const publisher = createPublisher(() => services, { ...options, worker: 'worker-1' })
 * await publisher.publish('pub_1') // 'published'
 * ```
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
