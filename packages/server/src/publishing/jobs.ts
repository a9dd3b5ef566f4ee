import type { PgBoss } from 'pg-boss'
import type { JobFeature } from '../jobs/feature.ts'
import { materialiseSeries } from '../scheduling/series.ts'
import type { Services } from '../services.ts'
import { createPublisher } from './engine.ts'
import { createPublishQueue, PUBLISH_QUEUE, sweepPublications } from './queue.ts'

/**
 * How workers fetch publication jobs: in batches of up to 4 (fetching again at once while batches
 * come back full, so a backlog drains without waiting for the poll), polling twice a second
 * otherwise so a job starts within a second of its time, `concurrency` jobs at most in flight.
 */
export function publishWorkOptions(concurrency: number) {
  const batchSize = Math.min(4, concurrency)
  return {
    batchSize,
    burstWhenBatchFull: batchSize > 1,
    localConcurrency: Math.max(1, Math.floor(concurrency / batchSize)),
    pollingIntervalSeconds: 0.5,
  }
}

/**
 * Publishing's jobs: one job per publication attempt (`{ publicationId }`), up to
 * `PUBLISH_CONCURRENCY` at a time, polled twice a second so they start within a second of their
 * time; and the sweeper — at once, which publishes what fell due while everything was down, then
 * every `SWEEP_INTERVAL_SECONDS` — which also makes the next posts of recurring series. Safe in
 * every worker: concurrent sweeps are harmless.
 */
export const publishingJobs = {
  name: 'publishing',
  createQueues: (boss) => createPublishQueue(boss),
  async start(boss, services) {
    const { publishing } = services().config
    const engine = { ...publishing, worker: `${process.pid}` }
    const jobOptions = { expireInSeconds: publishing.deadlineSeconds * 2 }
    const publisher = createPublisher(services as () => Services & { queue: PgBoss }, engine)
    await boss.work<{ publicationId: string }>(
      PUBLISH_QUEUE,
      publishWorkOptions(publishing.concurrency),
      async (jobs) => {
        // Publications are independent: a batch runs side by side, and one failing never fails
        // the others (the engine keeps its state in our tables, not in the job).
        const results = await Promise.allSettled(
          jobs.map((job) => publisher.publish(job.data.publicationId)),
        )
        for (const result of results) {
          if (result.status === 'rejected') {
            services().logger.error({ err: result.reason }, 'a publication attempt crashed')
          }
        }
      },
    )
    const sweep = async () => {
      try {
        await sweepPublications(services().db, boss, {
          ...jobOptions,
          queueSchema: services().config.queueSchema,
        })
        await materialiseSeries({ db: services().db, queue: boss }, jobOptions)
      } catch (error) {
        services().logger.error(
          { err: error },
          'the publication sweep failed; retrying at the next interval',
        )
      }
    }
    await sweep()
    const timer = setInterval(sweep, publishing.sweepIntervalSeconds * 1000)
    return { stop: () => clearInterval(timer) }
  },
} satisfies JobFeature<Services>
