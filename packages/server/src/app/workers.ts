import type { PgBoss } from 'pg-boss'
import { refreshExpiringTokens } from '../connections/refresh.ts'
import { purgeIdempotencyKeys } from '../http/idempotency.ts'
import { createPrivacyQueues } from '../privacy/jobs.ts'
import { createPublisher } from '../publishing/engine.ts'
import { createPublishQueue, PUBLISH_QUEUE, sweepPublications } from '../publishing/queue.ts'
import { materialiseSeries } from '../scheduling/series.ts'
import type { Services } from '../services.ts'
import { createWebhookQueue, startWebhookWorkers } from '../webhooks/jobs.ts'

/** The queues this server's workers serve. Job payloads carry ids only, never tokens or personal data. */
export const QUEUES = {
  /** Every 5 minutes: refresh tokens about to expire; flag accounts that cannot be refreshed. */
  refreshTokens: 'connections.refresh-tokens',
  /** Hourly: delete idempotency keys whose 24 hours are over. */
  purgeIdempotencyKeys: 'http.purge-idempotency-keys',
  /** One job per publication attempt: `{ publicationId }`. */
  publish: PUBLISH_QUEUE,
} as const

/**
 * Creates every queue. Every process does this at start, API-only ones included: they enqueue
 * (publications) and pg-boss refuses jobs for a queue that does not exist.
 */
export async function createQueues(boss: PgBoss) {
  await boss.createQueue(QUEUES.refreshTokens)
  await boss.createQueue(QUEUES.purgeIdempotencyKeys)
  await createPublishQueue(boss)
  await createWebhookQueue(boss)
  await createPrivacyQueues(boss)
}

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

/** Workers started by {@link startWorkers}. */
export interface Workers {
  /** Stops the sweeper; pg-boss's own stop drains the handlers. */
  stop(): void
}

/**
 * Schedules the periodic jobs and starts handling the queues in this process: token
 * refresh, publications (up to `PUBLISH_CONCURRENCY` at a time, polled twice a second so they start
 * within a second of their time), and the publication sweeper — at once, which publishes what fell
 * due while everything was down, then every `SWEEP_INTERVAL_SECONDS`. Safe to call from every
 * worker: schedules are idempotent, and concurrent sweeps are harmless.
 */
export async function startWorkers(boss: PgBoss, services: () => Services): Promise<Workers> {
  const { publishing } = services().config
  const engine = { ...publishing, worker: `${process.pid}` }
  const jobOptions = { expireInSeconds: publishing.deadlineSeconds * 2 }

  await boss.schedule(QUEUES.refreshTokens, '*/5 * * * *')
  await boss.work(QUEUES.refreshTokens, async () => {
    await refreshExpiringTokens(services())
  })

  await boss.schedule(QUEUES.purgeIdempotencyKeys, '17 * * * *')
  await boss.work(QUEUES.purgeIdempotencyKeys, async () => {
    await purgeIdempotencyKeys(services().db)
  })

  const publisher = createPublisher(services as () => Services & { queue: PgBoss }, engine)
  await boss.work<{ publicationId: string }>(
    QUEUES.publish,
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

  const webhooks = await startWebhookWorkers(boss, services)

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
  return {
    stop: () => {
      clearInterval(timer)
      webhooks.stop()
    },
  }
}
