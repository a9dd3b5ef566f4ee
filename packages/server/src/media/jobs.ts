import type { PgBoss } from 'pg-boss'
import type { Services } from '../services.ts'
import { cleanUpMedia } from './cleanup.ts'

/** The media feature's queue. Its jobs carry no payload. */
export const MEDIA_QUEUES = {
  /** Every 15 minutes: expired uploads, unreferenced media, storage objects of deleted rows. */
  cleanUp: 'media.clean-up',
} as const

/**
 * Creates the media queue, schedules the clean-up and handles it in this process. Idempotent, so
 * every worker process may call it.
 *
 * @example
 * ```ts
 * if (worker) await startMediaWorkers(queue, services)
 * ```
 */
export async function startMediaWorkers(boss: PgBoss, services: () => Services) {
  await boss.createQueue(MEDIA_QUEUES.cleanUp)
  await boss.schedule(MEDIA_QUEUES.cleanUp, '*/15 * * * *')
  await boss.work(MEDIA_QUEUES.cleanUp, async () => {
    await cleanUpMedia(services())
  })
}
