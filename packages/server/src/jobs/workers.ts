import type { PgBoss } from 'pg-boss'
import { refreshExpiringTokens } from '../connections/refresh.ts'
import { runPublication } from '../publishing/engine.ts'
import { createPublishQueue, PUBLISH_QUEUE, sweepPublications } from '../publishing/queue.ts'
import { materialiseSeries } from '../scheduling/series.ts'
import type { Services } from '../services.ts'

/** The queues this server's workers serve. Job payloads carry ids only, never tokens or personal data. */
export const QUEUES = {
  /** Every 5 minutes: refresh tokens about to expire; flag accounts that cannot be refreshed. */
  refreshTokens: 'connections.refresh-tokens',
  /** One job per publication attempt: `{ publicationId }`. */
  publish: PUBLISH_QUEUE,
} as const

/** Workers started by {@link startWorkers}. */
export interface Workers {
  /** Stops the sweeper; pg-boss's own stop drains the handlers. */
  stop(): void
}

/**
 * Creates the queues, schedules the periodic jobs and starts handling them in this process: token
 * refresh, publications (up to `PUBLISH_CONCURRENCY` at a time, polled twice a second so they start
 * within a second of their time), and the publication sweeper — at once, which publishes what fell
 * due while everything was down, then every `SWEEP_INTERVAL_SECONDS`. Safe to call from every
 * worker: queue creation and schedules are idempotent, and concurrent sweeps are harmless.
 */
export async function startWorkers(boss: PgBoss, services: () => Services): Promise<Workers> {
  const { publishing } = services().config
  const engine = { ...publishing, worker: `${process.pid}` }
  const jobOptions = { expireInSeconds: publishing.deadlineSeconds * 2 }

  await boss.createQueue(QUEUES.refreshTokens)
  await boss.schedule(QUEUES.refreshTokens, '*/5 * * * *')
  await boss.work(QUEUES.refreshTokens, async () => {
    await refreshExpiringTokens(services())
  })

  await createPublishQueue(boss)
  await boss.work<{ publicationId: string }>(
    QUEUES.publish,
    { batchSize: 1, localConcurrency: publishing.concurrency, pollingIntervalSeconds: 0.5 },
    async ([job]) => {
      if (job) await runPublication(services(), job.data.publicationId, engine)
    },
  )

  const sweep = async () => {
    try {
      await sweepPublications(services().db, boss, jobOptions)
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
}
