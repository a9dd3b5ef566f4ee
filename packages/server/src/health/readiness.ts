import { sql } from 'drizzle-orm'
import type { PgBoss } from 'pg-boss'
import type { Database } from '../db/client.ts'
import { countPendingMigrations } from '../db/migrate.ts'
import { WORKER_INSTANCE_NAME } from '../jobs/queue.ts'

/** The outcome of one readiness check. */
export interface ReadinessCheck {
  ok: boolean
  detail: string
}

/** Whether this process should receive traffic, and why (not). */
export interface ReadinessReport {
  ready: boolean
  checks: { database: ReadinessCheck; migrations: ReadinessCheck; worker: ReadinessCheck }
}

/**
 * Checks that the database answers, that its schema is at this version's migrations, and that a
 * worker process has sent a heartbeat recently (pg-boss counts an instance live until it misses
 * three heartbeats).
 */
export async function checkReadiness(deps: {
  db: Database
  queue: PgBoss
}): Promise<ReadinessReport> {
  const database = await deps.db.execute(sql`select 1`).then(
    () => ({ ok: true, detail: 'PostgreSQL answers' }),
    (error: unknown) => ({ ok: false, detail: `PostgreSQL does not answer: ${messageOf(error)}` }),
  )
  if (!database.ok) {
    const skipped = { ok: false, detail: 'not checked: the database does not answer' }
    return { ready: false, checks: { database, migrations: skipped, worker: skipped } }
  }
  const [migrations, worker] = await Promise.all([
    countPendingMigrations(deps.db).then(
      (pending) =>
        pending === 0
          ? { ok: true, detail: 'the schema is current' }
          : {
              ok: false,
              detail: `${pending} migration(s) not applied; run "post-scheduler migrate"`,
            },
      (error: unknown) => ({ ok: false, detail: `cannot read migrations: ${messageOf(error)}` }),
    ),
    deps.queue.getInstances().then(
      (instances) => {
        const live = instances.filter((i) => i.name === WORKER_INSTANCE_NAME && i.live).length
        return live > 0
          ? { ok: true, detail: `${live} worker(s) alive` }
          : {
              ok: false,
              detail: 'no worker heartbeat seen recently; start "post-scheduler worker"',
            }
      },
      (error: unknown) => ({
        ok: false,
        detail: `cannot read worker heartbeats: ${messageOf(error)}`,
      }),
    ),
  ])
  return { ready: migrations.ok && worker.ok, checks: { database, migrations, worker } }
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error))
