import type { JobFeature } from '../jobs/feature.ts'
import type { Services } from '../services.ts'
import { cleanUpMedia } from './cleanup.ts'

/** The media feature's queue. Its jobs carry no payload. */
export const MEDIA_QUEUES = {
  /** Every 15 minutes: expired uploads, unreferenced media, storage objects of deleted rows. */
  cleanUp: 'media.clean-up',
} as const

/** The media feature's jobs: every 15 minutes, clean-up (one at a time across workers). */
export const mediaJobs = {
  name: 'media',
  createQueues: (boss) => boss.createQueue(MEDIA_QUEUES.cleanUp),
  async start(boss, services) {
    await boss.schedule(MEDIA_QUEUES.cleanUp, '*/15 * * * *')
    await boss.work(MEDIA_QUEUES.cleanUp, async () => {
      await cleanUpMedia(services())
    })
    return undefined
  },
} satisfies JobFeature<Services>
