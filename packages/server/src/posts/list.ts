import { and, asc, eq, gte, inArray, lt, sql } from 'drizzle-orm'
import type { TenantContext } from '../auth/principal.ts'
import { SNAPSHOT, type Transaction } from '../db/client.ts'
import { chronological, toPage } from '../db/pagination.ts'
import { connectedAccounts, posts, publicationAttempts, publications } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import { recurrenceOf } from '../scheduling/series.ts'
import type { Services } from '../services.ts'

type Post = typeof posts.$inferSelect
type Publication = typeof publications.$inferSelect
type Attempt = typeof publicationAttempts.$inferSelect

/** What the API shows of a post, with each publication and its attempts. */
export function presentPost(post: Post, rows: Publication[], attempts: Attempt[] = []) {
  return {
    id: post.id,
    profileId: post.profileId,
    status: post.status,
    content: post.content,
    overrides: post.overrides,
    accountIds: post.accountIds,
    scheduledAt: post.scheduledAt?.toISOString() ?? null,
    timezone: post.timezone,
    seriesId: post.seriesId ?? null,
    createdAt: post.createdAt.toISOString(),
    updatedAt: post.updatedAt.toISOString(),
    publications: rows.map((publication) => ({
      id: publication.id,
      accountId: publication.accountId,
      platform: publication.platform,
      status: publication.status,
      dueAt: publication.dueAt.toISOString(),
      attempts: publication.attempts,
      platformPostId: publication.platformPostId,
      url: publication.url,
      error: publication.error ?? null,
      publishedAt: publication.publishedAt?.toISOString() ?? null,
      timeline: attempts
        .filter((attempt) => attempt.publicationId === publication.id)
        .map((attempt) => ({
          attemptId: attempt.attemptId,
          startedAt: attempt.startedAt.toISOString(),
          finishedAt: attempt.finishedAt?.toISOString() ?? null,
          outcome: attempt.outcome,
          error: attempt.error ?? null,
        })),
    })),
  }
}

/** A post of the caller's workspace (and profile, for profile tokens), with its publications. */
export async function getPost(services: Services, tenant: TenantContext, postId: string) {
  // One snapshot: a publication finishing between two reads would show a post that contradicts
  // its publications.
  return services.db.transaction(readPost, SNAPSHOT)

  async function readPost(db: Transaction) {
    const [post] = await db
      .select()
      .from(posts)
      .where(
        and(
          eq(posts.id, postId),
          eq(posts.workspaceId, tenant.workspaceId),
          tenant.profileId === undefined ? undefined : eq(posts.profileId, tenant.profileId),
        ),
      )
    if (!post) throw new ProblemError('NOT_FOUND', `No post ${postId}`)
    const { rows, attempts } = await loadPublications(db, [postId])
    return {
      ...presentPost(post, rows, attempts),
      recurrence: await recurrenceOf(db, post.seriesId),
    }
  }
}

/** Filters and page of {@link listPosts}. */
export interface PostListQuery {
  limit: number
  cursor?: string | undefined
  status?: Post['status'] | undefined
  profileId?: string | undefined
  accountId?: string | undefined
  platform?: string | undefined
  /** Scheduled at or after this instant. */
  from?: string | undefined
  /** Scheduled before this instant. */
  to?: string | undefined
}

/**
 * Posts of the caller's workspace (a profile token's profile only), newest first, filtered by
 * status, profile, account, platform and a window of `scheduledAt`, with their publications.
 */
export async function listPosts(services: Services, tenant: TenantContext, query: PostListQuery) {
  // One snapshot, so no post contradicts its publications (see getPost).
  return services.db.transaction(async (db) => {
    const order = chronological(posts.createdAt, posts.id, query.cursor, 'desc')
    const found = await db
      .select({ post: posts, key: order.key })
      .from(posts)
      .where(
        and(
          eq(posts.workspaceId, tenant.workspaceId),
          tenant.profileId === undefined ? undefined : eq(posts.profileId, tenant.profileId),
          query.profileId === undefined ? undefined : eq(posts.profileId, query.profileId),
          query.status === undefined ? undefined : eq(posts.status, query.status),
          query.accountId === undefined
            ? undefined
            : sql`${query.accountId} = any(${posts.accountIds})`,
          query.platform === undefined
            ? undefined
            : sql`exists (select 1 from ${connectedAccounts} where ${connectedAccounts.id} = any(${posts.accountIds}) and ${connectedAccounts.platform} = ${query.platform})`,
          query.from === undefined ? undefined : gte(posts.scheduledAt, new Date(query.from)),
          query.to === undefined ? undefined : lt(posts.scheduledAt, new Date(query.to)),
          order.after,
        ),
      )
      .orderBy(...order.orderBy)
      .limit(query.limit + 1)
    const { rows, attempts } = await loadPublications(
      db,
      found.slice(0, query.limit).map((row) => row.post.id),
    )
    return toPage(
      found,
      query.limit,
      (row) => ({ key: row.key, id: row.post.id }),
      (row) =>
        presentPost(
          row.post,
          rows.filter((publication) => publication.postId === row.post.id),
          attempts,
        ),
    )
  }, SNAPSHOT)
}

/** The publications of posts, oldest first, with their attempts (for their timelines). */
export async function loadPublications(db: Transaction, postIds: string[]) {
  const rows = postIds.length
    ? await db
        .select()
        .from(publications)
        .where(inArray(publications.postId, postIds))
        .orderBy(asc(publications.createdAt))
    : []
  const attempts = rows.length
    ? await db
        .select()
        .from(publicationAttempts)
        .where(
          inArray(
            publicationAttempts.publicationId,
            rows.map((row) => row.id),
          ),
        )
        .orderBy(asc(publicationAttempts.startedAt))
    : []
  return { rows, attempts }
}
