import { and, eq, inArray, sql } from 'drizzle-orm'
import type { Transaction } from '../db/client.ts'
import { posts, publications } from '../db/schema/index.ts'
import { recordPostOutcome } from '../events/emit.ts'

type Publication = typeof publications.$inferSelect
type Post = typeof posts.$inferSelect

/** Recomputes a post's status from its publications. */
export async function refreshPostStatus(tx: Transaction, postId: string) {
  // Serialises concurrent finishes of one post's publications: each reads the others' committed
  // states after the lock (READ COMMITTED), so the last one to commit sets the final status.
  await lockPost(tx, postId)
  const rows = await tx
    .select({ status: publications.status, count: sql<number>`count(*)::int` })
    .from(publications)
    .where(eq(publications.postId, postId))
    .groupBy(publications.status)
  const count = (...statuses: Publication['status'][]) =>
    rows.filter((row) => statuses.includes(row.status)).reduce((sum, row) => sum + row.count, 0)
  const total = count(
    'scheduled',
    'queued',
    'publishing',
    'published',
    'failed',
    'unconfirmed',
    'canceled',
  )
  if (total === 0) return
  const status: Post['status'] =
    count('canceled') === total
      ? 'canceled'
      : count('publishing') > 0
        ? 'publishing'
        : count('scheduled', 'queued') > 0
          ? 'scheduled'
          : count('published') === total - count('canceled')
            ? 'published'
            : count('published') > 0
              ? 'partially_published'
              : 'failed'
  const [changed] = await tx
    .update(posts)
    .set({ status, updatedAt: sql`now()` })
    .where(
      and(
        eq(posts.id, postId),
        sql`${posts.status} <> ${status}`,
        inArray(posts.status, [...POST_ENGINE_STATUSES]),
      ),
    )
    .returning({ id: posts.id })
  // post.published, post.failed… in the transaction of the change (see src/events).
  if (changed) await recordPostOutcome(tx, postId, status)
}

/**
 * What {@link refreshPostStatus} concludes when one of a post's publications has just been
 * claimed, without reading the others: a publication being published makes its post `publishing`.
 * The caller holds the post's lock.
 */
export async function markPostPublishing(tx: Transaction, postId: string) {
  await tx
    .update(posts)
    .set({ status: 'publishing', updatedAt: sql`now()` })
    .where(
      and(
        eq(posts.id, postId),
        sql`${posts.status} <> 'publishing'`,
        inArray(posts.status, [...POST_ENGINE_STATUSES]),
      ),
    )
}

/** Post statuses the engine manages (a draft stays a draft until scheduled). */
const POST_ENGINE_STATUSES = [
  'scheduled',
  'publishing',
  'published',
  'partially_published',
  'failed',
  'canceled',
] as const

/**
 * Locks a post's row until the transaction ends. Everything that changes a post's publications
 * takes this lock first (post, then publications), so they never deadlock with each other.
 */
export async function lockPost(tx: Transaction, postId: string) {
  await tx.select({ id: posts.id }).from(posts).where(eq(posts.id, postId)).for('update')
}
