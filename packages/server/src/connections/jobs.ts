import type { JobFeature } from '../jobs/feature.ts'
import type { Services } from '../services.ts'
import { refreshExpiringTokens } from './refresh.ts'

/** The connections feature's queues. Their jobs carry no payload. */
export const CONNECTION_QUEUES = {
  /** Every 5 minutes: refresh tokens about to expire; flag accounts that cannot be refreshed. */
  refreshTokens: 'connections.refresh-tokens',
} as const

/** The connections feature's jobs: token refresh every 5 minutes. */
export const connectionJobs = {
  name: 'connections',
  createQueues: (boss) => boss.createQueue(CONNECTION_QUEUES.refreshTokens),
  async start(boss, services) {
    await boss.schedule(CONNECTION_QUEUES.refreshTokens, '*/5 * * * *')
    await boss.work(CONNECTION_QUEUES.refreshTokens, async () => {
      await refreshExpiringTokens(services())
    })
    return undefined
  },
} satisfies JobFeature<Services>
