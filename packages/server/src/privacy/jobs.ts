import type { JobFeature } from '../jobs/feature.ts'
import { pruneRateLimits } from '../rate-limit/limiter.ts'
import type { Services } from '../services.ts'
import { pruneUsageEvents } from '../usage/retention.ts'
import { runDueErasures } from './erasure.ts'
import { buildExport, EXPORT_QUEUE, expireExports } from './exports.ts'
import { sendPolicyNotices } from './policy.ts'
import { removePublishedMedia } from './retention.ts'

/** The queues of the data-rights features. Payloads carry ids only. */
export const PRIVACY_QUEUES = {
  /** One job per export: `{ exportId }`. */
  exports: EXPORT_QUEUE,
  /**
   * Every minute, one at a time: due erasures (and interrupted ones), expired exports, policy
   * notices, media whose posts were all published past the grace period, stale rate-limit counters.
   */
  sweep: 'privacy.sweep',
  /** Daily: raw usage events older than 24 months. */
  pruneUsage: 'usage.prune',
} as const

/**
 * One pass of the privacy sweep at `now`: erasures due, expired exports, policy notices, published
 * media past their grace period, rate-limit counters past their window. Each part failing is
 * logged and does not stop the others.
 */
export async function sweepPrivacy(services: Services, now: Date) {
  const parts = {
    erasures: () => runDueErasures(services, now),
    expiredExports: () => expireExports(services, now),
    policyNotices: () => sendPolicyNotices(services),
    publishedMedia: () => removePublishedMedia(services, now),
    staleRateLimits: () => pruneRateLimits(services.db),
  }
  const result: Record<string, number> = {}
  for (const [name, part] of Object.entries(parts)) {
    try {
      result[name] = await part()
    } catch (error) {
      services.logger.error({ err: error, part: name }, 'privacy sweep: a part failed')
    }
  }
  return result
}

/**
 * The data-rights jobs: exports as they are requested, the privacy sweep every minute (one at a
 * time across workers), the usage prune daily.
 */
export const privacyJobs = {
  name: 'privacy',
  async createQueues(boss) {
    await boss.createQueue(PRIVACY_QUEUES.exports)
    // A sweep that runs long must not overlap the next: erasures are resumable, not concurrent.
    await boss.createQueue(PRIVACY_QUEUES.sweep, { policy: 'singleton' })
    await boss.createQueue(PRIVACY_QUEUES.pruneUsage)
  },
  async start(boss, services) {
    await boss.work<{ exportId: string }>(PRIVACY_QUEUES.exports, async ([job]) => {
      if (job) await buildExport(services(), job.data.exportId)
    })
    await boss.schedule(PRIVACY_QUEUES.sweep, '* * * * *')
    await boss.work(PRIVACY_QUEUES.sweep, async () => {
      await sweepPrivacy(services(), new Date())
    })
    await boss.schedule(PRIVACY_QUEUES.pruneUsage, '41 3 * * *')
    await boss.work(PRIVACY_QUEUES.pruneUsage, async () => {
      const pruned = await pruneUsageEvents(services().db, new Date())
      if (pruned > 0)
        services().logger.info({ pruned }, 'usage events older than 24 months deleted')
    })
    return undefined
  },
} satisfies JobFeature<Services>
