import { and, asc, eq, inArray, sql } from 'drizzle-orm'
import type { Transaction } from '../db/client.ts'
import { posts, publications } from '../db/schema/index.ts'
import { recordPostOutcome } from '../events/emit.ts'

type Publication = typeof publications.$inferSelect
type Post = typeof posts.$inferSelect

/**
 * Recomputes a post's status from its publications, recording the outcome event (`post.published`,
 * `post.failed`…) when it changes to one. The caller holds the post's lock ({@link lockPosts}),
 * taken before it changed any publication: concurrent finishes of one post's publications are
 * serialised by it, each reading the others' committed states, so the last to commit sets the
 * final status.
 */
export async function refreshPostStatus(tx: Transaction, postId: string) {
  const rows = await tx
    .select()
    .from(publications)
    .where(eq(publications.postId, postId))
    .orderBy(asc(publications.createdAt))
  const status = postStatusOf(rows)
  if (!status) return
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
    .returning()
  // In the transaction of the change (see src/events).
  if (changed) await recordPostOutcome(tx, changed, rows)
}

/** A post's status as its publications make it (undefined without publications). */
function postStatusOf(rows: Pick<Publication, 'status'>[]): Post['status'] | undefined {
  const count = (...statuses: Publication['status'][]) =>
    rows.filter((row) => statuses.includes(row.status)).length
  const total = rows.length
  if (total === 0) return undefined
  return count('canceled') === total
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
  await lockPosts(tx, [postId])
}

/** {@link lockPost} for several posts, in one order (by id) so two callers cannot deadlock. */
export async function lockPosts(tx: Transaction, postIds: string[]) {
  if (postIds.length === 0) return
  await tx
    .select({ id: posts.id })
    .from(posts)
    .where(inArray(posts.id, postIds))
    .orderBy(asc(posts.id))
    .for('update')
}
