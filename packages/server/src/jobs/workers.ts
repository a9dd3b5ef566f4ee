import type { PgBoss } from 'pg-boss'
import { refreshExpiringTokens } from '../connections/refresh.ts'
import type { Services } from '../services.ts'

/** The queues this server's workers serve. Job payloads carry ids only, never tokens or personal data. */
export const QUEUES = {
  /** Every 5 minutes: refresh tokens about to expire; flag accounts that cannot be refreshed. */
  refreshTokens: 'connections.refresh-tokens',
} as const

/**
 * Creates the queues, schedules the periodic jobs and starts handling them in this process.
 * Safe to call from every worker: queue creation and schedules are idempotent.
 */
export async function startWorkers(boss: PgBoss, services: () => Services) {
  await boss.createQueue(QUEUES.refreshTokens)
  await boss.schedule(QUEUES.refreshTokens, '*/5 * * * *')
  await boss.work(QUEUES.refreshTokens, async () => {
    await refreshExpiringTokens(services())
  })
}
