import type { PgBoss } from 'pg-boss'

/** What a started feature's workers need to stop (their timers; pg-boss drains the handlers). */
export interface StartedWorkers {
  stop(): void
}

/**
 * A feature's part of the job queue: the queues it owns and the workers that serve them. Every
 * process creates every feature's queues at start (API processes enqueue too); worker processes
 * also start the workers. Both must be idempotent, since every process does this.
 *
 * @example
 * ```ts
 * export const mediaJobs = {
 *   name: 'media',
 *   createQueues: (boss) => boss.createQueue('media.clean-up'),
 *   start: async (boss, services) => { await boss.work('media.clean-up', () => cleanUp(services())) },
 * } satisfies JobFeature<Services>
 * ```
 */
export interface JobFeature<S> {
  /** For logs and errors: the feature's folder name. */
  name: string
  createQueues(boss: PgBoss): Promise<unknown>
  /** Schedules the feature's periodic jobs and handles its queues in this process. */
  start(boss: PgBoss, services: () => S): Promise<StartedWorkers | undefined>
}
