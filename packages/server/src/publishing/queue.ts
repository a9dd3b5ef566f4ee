import { and, eq, inArray, lt, lte, or, sql } from 'drizzle-orm'
import { fromDrizzle, type PgBoss } from 'pg-boss'
import type { Database, Transaction } from '../db/client.ts'
import { anyOf } from '../db/predicates.ts'
import { publications } from '../db/schema/index.ts'

/**
 * The queue of publication jobs; payloads are `{ publicationId }` and nothing else. (Named
 * `publishing.attempts`: the first queue, `publishing.publish`, was `stately`, and pg-boss cannot
 * change a queue's policy.)
 */
export const PUBLISH_QUEUE = 'publishing.attempts'

/** Publications due within this window get their job now, with a precise `startAfter`. */
export const HORIZON_SECONDS = 5 * 60

/**
 * Creates the publish queue. `short` with the publication id as `singletonKey` allows one waiting
 * job per publication, so the sweeper can re-send freely, and any number of running ones: a job
 * stranded on a dead or frozen worker must not stop another from taking over once the claim's
 * deadline has passed (the claim, not the queue, makes an attempt exclusive).
 */
export async function createPublishQueue(boss: PgBoss) {
  await boss.createQueue(PUBLISH_QUEUE, { policy: 'short' })
}

/**
 * Enqueues a publication's job inside the caller's transaction: the job exists exactly when the
 * write that causes it commits.
 */
export async function enqueuePublication(
  tx: Transaction,
  boss: PgBoss,
  publication: { id: string; dueAt: Date },
  options: { expireInSeconds: number },
) {
  await enqueuePublications(tx, boss, [publication], options)
}

/** {@link enqueuePublication} for several publications, in one statement. */
export async function enqueuePublications(
  tx: Transaction,
  boss: PgBoss,
  rows: { id: string; dueAt: Date }[],
  options: { expireInSeconds: number },
) {
  if (rows.length === 0) return
  await boss.insert(
    PUBLISH_QUEUE,
    rows.map((publication) => ({
      data: { publicationId: publication.id },
      ...jobOptions(publication, options),
    })),
    { db: fromDrizzle(tx, sql) },
  )
}

/**
 * Deletes the waiting jobs of publications, inside the caller's transaction, before they get a
 * new time and a new job: the queue allows one waiting job per publication (`short`), so the new
 * one would be refused while the old one waits (a stale job would only find its claim refused).
 * Raw SQL on pg-boss's job table: pg-boss has no call for it.
 */
export async function withdrawWaitingJobs(tx: Transaction, queueSchema: string, ids: string[]) {
  if (ids.length === 0) return
  await tx.execute(
    sql`delete from ${sql.identifier(queueSchema)}.job
        where name = ${PUBLISH_QUEUE} and state = 'created' and ${anyOf(sql`singleton_key`, ids)}`,
  )
}

/** A publication job's options: due at its time, one per publication, never retried by pg-boss. */
function jobOptions(
  publication: { id: string; dueAt: Date },
  options: { expireInSeconds: number },
) {
  return {
    startAfter: publication.dueAt,
    singletonKey: publication.id,
    // Retries are the engine's decision (it reconciles first), never pg-boss's.
    retryLimit: 0,
    expireInSeconds: options.expireInSeconds,
  }
}

/**
 * Gives every publication that needs one a job: those due within the horizon that have none yet
 * (far-future posts never depend on a job surviving the queue's retention), those whose job was
 * lost, and those whose worker died (claim past its deadline). Run by every worker, at start —
 * which publishes what fell due while everything was down — and then every few seconds;
 * concurrent sweeps are harmless (conditional updates, one job per publication).
 *
 * @returns how many publications were (re)enqueued.
 */
export async function sweepPublications(
  db: Database,
  boss: PgBoss,
  options: { expireInSeconds: number; queueSchema: string; batch?: number },
): Promise<number> {
  const batch = options.batch ?? 1000
  let total = 0
  for (;;) {
    const swept = await sweepBatch(db, boss, { ...options, batch })
    total += swept
    if (swept < batch) return total
  }
}

async function sweepBatch(
  db: Database,
  boss: PgBoss,
  options: { expireInSeconds: number; queueSchema: string; batch: number },
): Promise<number> {
  const horizon = sql`now() + make_interval(secs => ${HORIZON_SECONDS})`
  return db.transaction(async (tx) => {
    const due = await tx
      .update(publications)
      .set({
        status: sql`case when ${publications.status} = 'scheduled' then 'queued' else ${publications.status} end`,
        // Marks the re-send, so the same publication is not re-sent by every sweep.
        updatedAt: sql`now()`,
      })
      .where(
        inArray(
          publications.id,
          tx
            .select({ id: publications.id })
            .from(publications)
            .where(
              or(
                and(eq(publications.status, 'scheduled'), lte(publications.dueAt, horizon)),
                // A queued publication overdue by a while with no job waiting has lost its job
                // (re-sent at most every 10 s). One still waiting is only behind a backlog:
                // touching it would add to the work of a busy queue.
                // The same for a processing publication's next check.
                and(
                  inArray(publications.status, ['queued', 'processing']),
                  lt(publications.dueAt, sql`now() - interval '10 seconds'`),
                  lt(publications.updatedAt, sql`now() - interval '10 seconds'`),
                  // The predicate of pg-boss's index of waiting jobs of `short` queues.
                  sql`not exists (
                    select 1 from ${sql.identifier(options.queueSchema)}.job j
                    where j.name = ${PUBLISH_QUEUE} and j.state = 'created' and j.policy = 'short'
                      and coalesce(j.singleton_key, '') = ${publications.id}
                  )`,
                ),
                // A claim past its deadline: its worker died or froze; another may take over.
                and(
                  eq(publications.status, 'publishing'),
                  lt(publications.deadlineAt, sql`now()`),
                  lt(publications.updatedAt, sql`now() - interval '5 seconds'`),
                ),
              ),
            )
            .orderBy(publications.dueAt)
            .limit(options.batch)
            .for('update', { skipLocked: true }),
        ),
      )
      .returning({ id: publications.id, dueAt: publications.dueAt })
    // One statement for the whole batch: the rows stay locked as briefly as possible.
    await enqueuePublications(tx, boss, due, options)
    return due.length
  })
}
