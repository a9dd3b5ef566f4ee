import { PgBoss } from 'pg-boss'
import type { Logger } from '../logging/logger.ts'

/** What a process does with the queue: `worker` runs jobs, `api` only enqueues them. */
export type QueueRole = 'api' | 'worker'

/** Instance name under which worker processes register in pg-boss's instance registry. */
export const WORKER_INSTANCE_NAME = 'post-scheduler-worker'

/**
 * Starts pg-boss on the given database, in its own schema, creating or upgrading that schema as
 * needed. Workers also run pg-boss's maintenance and cron; every instance records a heartbeat in
 * pg-boss's instance registry, which readiness reads.
 *
 * @example
 * ```ts
 * const boss = await startQueue({ databaseURL, schema: 'pgboss', role: 'worker', heartbeatSeconds: 10, logger })
 * await boss.stop({ graceful: true })
 * ```
 */
export async function startQueue(options: {
  databaseURL: string
  schema: string
  role: QueueRole
  heartbeatSeconds: number
  logger: Logger
}): Promise<PgBoss> {
  const { role, logger } = options
  const boss = new PgBoss({
    connectionString: options.databaseURL,
    schema: options.schema,
    application_name: `post-scheduler-${role}`,
    instanceName: role === 'worker' ? WORKER_INSTANCE_NAME : 'post-scheduler-api',
    instanceHeartbeatSeconds: options.heartbeatSeconds,
    supervise: role === 'worker',
    schedule: role === 'worker',
  })
  boss.on('error', (error) => logger.error({ err: error }, 'job queue error'))
  boss.on('warning', (warning) => logger.warn({ warning }, 'job queue warning'))
  await boss.start()
  return boss
}
