import type { JobFeature } from '../jobs/feature.ts'
import type { Services } from '../services.ts'
import {
  attemptDelivery,
  purgeDeliveryLog,
  sweepWebhookDeliveries,
  WEBHOOK_QUEUE,
} from './delivery.ts'

/** Daily: delete the delivery log past its retention. */
const PURGE_QUEUE = 'webhooks.purge-delivery-log'

/** How often each worker looks for deliveries that are due. */
const SWEEP_INTERVAL_MS = 1000

/**
 * The webhooks feature's jobs: deliveries handled in this process, up to `WEBHOOK_CONCURRENCY` attempts at a time, and
 * every second a sweep that enqueues the deliveries that are due (new events, retries whose time
 * came, claims abandoned by a worker that died). A failing attempt never fails the others. Daily,
 * the delivery log past its retention is deleted.
 */
export const webhookJobs = {
  name: 'webhooks',
  async createQueues(boss) {
    await boss.createQueue(WEBHOOK_QUEUE)
    await boss.createQueue(PURGE_QUEUE)
  },
  async start(boss, services) {
    const { concurrency, timeoutSeconds } = services().config.webhooks
    const batchSize = Math.min(4, concurrency)
    await boss.work<{ endpointId: string; eventId: string }>(
      WEBHOOK_QUEUE,
      {
        batchSize,
        localConcurrency: Math.max(1, Math.floor(concurrency / batchSize)),
        pollingIntervalSeconds: 0.5,
      },
      async (jobs) => {
        const results = await Promise.allSettled(
          jobs.map((job) => attemptDelivery(services(), job.data, { now: new Date() })),
        )
        for (const result of results) {
          if (result.status === 'rejected') {
            services().logger.error({ err: result.reason }, 'a webhook delivery attempt crashed')
          }
        }
      },
    )
    await boss.schedule(PURGE_QUEUE, '41 3 * * *')
    await boss.work(PURGE_QUEUE, async () => {
      await purgeDeliveryLog(services().db, { now: new Date() })
    })

    let sweeping = false
    const sweep = async () => {
      if (sweeping) return
      sweeping = true
      try {
        await sweepWebhookDeliveries(services().db, boss, {
          now: new Date(),
          expireInSeconds: timeoutSeconds * 2 + 30,
        })
      } catch (error) {
        services().logger.error({ err: error }, 'the webhook sweep failed; retrying in a second')
      } finally {
        sweeping = false
      }
    }
    await sweep()
    const timer = setInterval(sweep, SWEEP_INTERVAL_MS)
    return { stop: () => clearInterval(timer) }
  },
} satisfies JobFeature<Services>
