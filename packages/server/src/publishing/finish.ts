import { and, eq, getTableColumns, sql } from 'drizzle-orm'
import type { Transaction } from '../db/client.ts'
import { lockKeys } from '../db/locks.ts'
import { anyOf } from '../db/predicates.ts'
import { type PublicationError, publicationAttempts, publications } from '../db/schema/index.ts'
import { publicationOutcomeEvent } from '../events/emit.ts'
import type { Claim } from './claim.ts'
import type { EngineOptions, EngineServices } from './options.ts'
import { lockPosts, refreshPostStatuses } from './post-status.ts'
import { enqueuePublications, withdrawWaitingJobs } from './queue.ts'

type Publication = typeof publications.$inferSelect

/** How an attempt ends. */
export type Finish =
  /** `platformPostId` null: published, the platform gives its public id later (TikTok). */
  | { status: 'published'; platformPostId: string | null; url: string | null; outcome?: string }
  | { status: 'failed' | 'unconfirmed'; error: PublicationError; outcome?: string }
  | { status: 'queued'; dueInSeconds: number; error?: PublicationError; outcome?: string }
  /**
   * The platform accepted the post and finishes it later: checked again in `dueInSeconds`, with
   * `handles` saved; checking stops `maxWaitSeconds` after the first time (kept on later checks).
   */
  | {
      status: 'processing'
      dueInSeconds: number
      handles: Record<string, string>
      maxWaitSeconds: number
      outcome?: string
    }

/** An attempt that ended, and how. */
export interface Ending {
  claim: Claim
  patch: Finish
}

/**
 * Records how attempts ended, in one transaction whatever their number: their posts' locks (in id
 * order), one fenced update of their publications (an attempt taken over writes nothing: its
 * successor decides), one of their attempts, the jobs of retries, the wake-ups of publications
 * waiting for their accounts' places, the outcome events, and their posts' statuses.
 *
 * @returns for each attempt, its publication's new status, or `skipped` when it was taken over.
 * @example
 * ```ts
 * const finish = coalesce((items: Ending[]) => finishAttempts(services, items, options))
 * ```
 */
export async function finishAttempts(
  services: EngineServices,
  items: Ending[],
  options: EngineOptions,
): Promise<(Publication['status'] | 'skipped')[]> {
  const given = items.map(({ claim, patch }) => ({
    publication: claim.publication.id,
    attempt: claim.attemptId,
    next_status: patch.status,
    platform_post: patch.status === 'published' ? patch.platformPostId : null,
    link: patch.status === 'published' ? patch.url : null,
    failure:
      patch.status === 'published' || patch.status === 'processing' ? null : (patch.error ?? null),
    wait_seconds:
      patch.status === 'queued' || patch.status === 'processing' ? patch.dueInSeconds : null,
    saved: patch.status === 'processing' ? patch.handles : {},
    max_wait_seconds: patch.status === 'processing' ? patch.maxWaitSeconds : null,
    result: patch.outcome ?? (patch.status === 'queued' ? 'retry' : patch.status),
  }))
  const table = sql`jsonb_to_recordset(${JSON.stringify(given)}::jsonb) as given(publication text, attempt text, next_status text, platform_post text, link text, failure jsonb, wait_seconds float8, saved jsonb, max_wait_seconds float8, result text)`
  const finished = await services.db.transaction(async (tx) => {
    await lockPosts(
      tx,
      items.map((item) => item.claim.publication.postId),
    )
    const published = sql`given.next_status = 'published'`
    const finished = await tx
      .update(publications)
      .set({
        status: sql`given.next_status`,
        deadlineAt: null,
        updatedAt: sql`now()`,
        platformPostId: sql`case when ${published} then given.platform_post else ${publications.platformPostId} end`,
        url: sql`case when ${published} then given.link else ${publications.url} end`,
        publishedAt: sql`case when ${published} then now() else ${publications.publishedAt} end`,
        error: sql`given.failure`,
        dueAt: sql`case when given.next_status in ('queued', 'processing') then now() + make_interval(secs => given.wait_seconds) else ${publications.dueAt} end`,
        handles: sql`${publications.handles} || given.saved`,
        // Set by the first `processing`, kept through its checks and their retries; cleared at the
        // end, so a person's retry of a failed or unconfirmed one starts over (reconciling first).
        processingUntil: sql`case
          when given.next_status = 'processing' then coalesce(${publications.processingUntil}, now() + make_interval(secs => given.max_wait_seconds))
          when given.next_status = 'queued' then ${publications.processingUntil}
          end`,
      })
      .from(table)
      .where(
        and(
          anyOf(
            publications.id,
            given.map((row) => row.publication),
          ),
          sql`${publications.id} = given.publication`,
          sql`${publications.attemptId} = given.attempt`,
          eq(publications.status, 'publishing'),
        ),
      )
      .returning(getTableColumns(publications))
    if (finished.length === 0) return finished
    await tx
      .update(publicationAttempts)
      .set({ finishedAt: sql`now()`, outcome: sql`given.result`, error: sql`given.failure` })
      .from(table)
      .where(
        and(
          sql`${publicationAttempts.attemptId} = given.attempt`,
          anyOf(
            publicationAttempts.attemptId,
            finished.map((row) => row.attemptId as string),
          ),
        ),
      )
    await enqueuePublications(
      tx,
      services.queue,
      [
        ...finished.filter((row) => row.status === 'queued' || row.status === 'processing'),
        ...(await promoteWaiting(tx, services.config.queueSchema, finished)),
      ],
      { expireInSeconds: options.deadlineSeconds * 2 },
    )
    const claims = new Map(items.map((item) => [item.claim.attemptId, item.claim]))
    await refreshPostStatuses(
      tx,
      finished.map((row) => row.postId),
      {
        events: finished.flatMap((row) => {
          const claim = claims.get(row.attemptId as string)
          // `publication.processing` once, when the platform first accepts it; not at each check.
          if (!claim || (row.status === 'processing' && claim.publication.processingUntil))
            return []
          return publicationOutcomeEvent(row, claim.post) ?? []
        }),
      },
    )
    return finished
  })
  const statuses = new Map(finished.map((row) => [row.attemptId, row.status]))
  return items.map((item) => statuses.get(item.claim.attemptId) ?? 'skipped')
}

/**
 * Wakes the publications that wait longest for a place in the budget of the accounts whose
 * attempts just ended, one per ended attempt: due now, their waiting job replaced (by the caller,
 * with the retries' jobs). Waiting rows another transaction holds are skipped (their fallback time
 * stands), so this never waits on a publication's lock without its post's.
 */
async function promoteWaiting(
  tx: Transaction,
  queueSchema: string,
  ended: Pick<Publication, 'accountId'>[],
): Promise<{ id: string; dueAt: Date }[]> {
  const freed = new Map<string, number>()
  for (const row of ended) freed.set(row.accountId, (freed.get(row.accountId) ?? 0) + 1)
  if (freed.size === 0) return []
  // The claims' account locks (after the posts', as in a claim): a claim turning a publication
  // back commits before this reads, or reads the budget after this commits. No wake-up is lost.
  await lockKeys(
    tx,
    [...freed.keys()].map((account) => `publishing-account:${account}`),
  )
  const slots = [...freed].map(([account, count]) => ({ account, count }))
  const woken = await tx.execute<{ id: string; due_at: string }>(sql`
    update ${publications} set due_at = now(), updated_at = now()
    where ${publications.id} in (
      select waiting.id
      from jsonb_to_recordset(${JSON.stringify(slots)}::jsonb) as freed(account text, count int)
      cross join lateral (
        select ${publications.id} as id from ${publications}
        where ${publications.accountId} = freed.account and ${publications.status} = 'queued'
          and ${publications.awaitingSlotSince} is not null and ${publications.dueAt} > now()
        order by ${publications.awaitingSlotSince}, ${publications.id}
        limit freed.count
        for update skip locked) waiting)
    returning ${publications.id} as id, ${publications.dueAt} as due_at`)
  const rows = woken.map((row) => ({ id: row.id, dueAt: new Date(row.due_at) }))
  await withdrawWaitingJobs(
    tx,
    queueSchema,
    rows.map((row) => row.id),
  )
  return rows
}
