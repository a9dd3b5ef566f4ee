import type { PgBoss } from 'pg-boss'
import { connectionJobs } from '../connections/jobs.ts'
import { idempotencyJobs } from '../http/idempotency.ts'
import type { JobFeature, StartedWorkers } from '../jobs/feature.ts'
import { mediaJobs } from '../media/jobs.ts'
import { privacyJobs } from '../privacy/jobs.ts'
import { publishingJobs } from '../publishing/jobs.ts'
import type { Services } from '../services.ts'
import { webhookJobs } from '../webhooks/jobs.ts'

/**
 * Every feature's jobs: the one list of what the queue carries and what workers run. A new job
 * belongs to its feature's `jobs.ts`, added here. Job payloads carry ids only, never tokens or
 * personal data.
 */
export const JOB_FEATURES: readonly JobFeature<Services>[] = [
  connectionJobs,
  idempotencyJobs,
  publishingJobs,
  webhookJobs,
  mediaJobs,
  privacyJobs,
]

/**
 * Creates every feature's queues. Every process does this at start, API-only ones included: they
 * enqueue (publications, exports) and pg-boss refuses jobs for a queue that does not exist.
 */
export async function createQueues(boss: PgBoss) {
  for (const feature of JOB_FEATURES) await feature.createQueues(boss)
}

/** Workers started by {@link startWorkers}. */
export interface Workers {
  /** Stops the features' timers (sweepers); pg-boss's own stop drains the handlers. */
  stop(): void
}

/**
 * Starts every feature's workers in this process, in the order of {@link JOB_FEATURES}: their
 * periodic schedules (idempotent, so every worker may) and their handlers.
 */
export async function startWorkers(boss: PgBoss, services: () => Services): Promise<Workers> {
  const started: StartedWorkers[] = []
  for (const feature of JOB_FEATURES) {
    const workers = await feature.start(boss, services)
    if (workers) started.push(workers)
  }
  return {
    stop: () => {
      for (const workers of started) workers.stop()
    },
  }
}
