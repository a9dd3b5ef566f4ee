import { and, asc, getTableColumns, inArray, sql } from 'drizzle-orm'
import type { Transaction } from '../db/client.ts'
import { anyOf } from '../db/predicates.ts'
import { POST_STATUSES, posts, publications } from '../db/schema/index.ts'
import { postOutcomeEvent } from '../events/emit.ts'
import { type NewEvent, recordEvents } from '../events/events.ts'

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
  await refreshPostStatuses(tx, [postId])
}

/**
 * {@link refreshPostStatus} for several posts, in three statements whatever their number (read
 * their publications, update those whose status changed, record their events). The caller holds
 * every post's lock. `options.events`: events of the same change to record before the posts'
 * (in the same statement).
 */
export async function refreshPostStatuses(
  tx: Transaction,
  postIds: string[],
  options: { events?: NewEvent[] } = {},
) {
  const earlier = options.events ?? []
  if (postIds.length === 0) {
    await recordEvents(tx, earlier)
    return
  }
  const rows = await tx
    .select()
    .from(publications)
    .where(anyOf(publications.postId, [...new Set(postIds)]))
    .orderBy(asc(publications.createdAt), asc(publications.id))
  const byPost = new Map<string, Publication[]>()
  for (const row of rows) byPost.set(row.postId, [...(byPost.get(row.postId) ?? []), row])
  const statuses = [...byPost].flatMap(([id, of]) => {
    const status = postStatusOf(of)
    return status ? [{ id, status }] : []
  })
  const changed =
    statuses.length === 0
      ? []
      : await tx
          .update(posts)
          .set({ status: sql`given.status::text`, updatedAt: sql`now()` })
          .from(
            sql`jsonb_to_recordset(${JSON.stringify(statuses)}::jsonb) as given(id text, status text)`,
          )
          .where(
            and(
              anyOf(
                posts.id,
                statuses.map((row) => row.id),
              ),
              sql`${posts.id} = given.id`,
              sql`${posts.status}::text <> given.status`,
              inArray(posts.status, [...POST_ENGINE_STATUSES]),
            ),
          )
          .returning(getTableColumns(posts))
  // In the transaction of the change (see src/events).
  await recordEvents(tx, [
    ...earlier,
    ...changed.flatMap((post) => postOutcomeEvent(post, byPost.get(post.id) ?? []) ?? []),
  ])
}

/** A post's status as its publications make it (undefined without publications). */
function postStatusOf(rows: Pick<Publication, 'status'>[]): Post['status'] | undefined {
  const count = (...statuses: Publication['status'][]) =>
    rows.filter((row) => statuses.includes(row.status)).length
  const total = rows.length
  if (total === 0) return undefined
  return count('canceled') === total
    ? 'canceled'
    : // Processing: the platform is finishing it; the post is still being published.
      count('publishing', 'processing') > 0
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
 * What {@link refreshPostStatuses} concludes when one of each post's publications has just been
 * claimed, without reading the others: a publication being published makes its post `publishing`.
 * The caller holds the posts' locks.
 */
export async function markPostsPublishing(tx: Transaction, postIds: string[]) {
  if (postIds.length === 0) return
  await tx
    .update(posts)
    .set({ status: 'publishing', updatedAt: sql`now()` })
    .where(
      and(
        anyOf(posts.id, [...new Set(postIds)]),
        sql`${posts.status} <> 'publishing'`,
        inArray(posts.status, [...POST_ENGINE_STATUSES]),
      ),
    )
}

/** Post statuses the engine manages (a draft stays a draft until scheduled). */
const POST_ENGINE_STATUSES = POST_STATUSES.filter((status) => status !== 'draft')

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
    .where(anyOf(posts.id, postIds))
    .orderBy(asc(posts.id))
    .for('update')
}
