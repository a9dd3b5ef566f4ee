import { asc, eq } from 'drizzle-orm'
import type { Transaction } from '../db/client.ts'
import { type connectedAccounts, posts, publications } from '../db/schema/index.ts'
import { type EventData, type NewEvent, recordEvent } from './events.ts'

type Post = typeof posts.$inferSelect
type Publication = typeof publications.$inferSelect
type Account = typeof connectedAccounts.$inferSelect

/** The `post.*` event types. */
export type PostEventType =
  | 'post.scheduled'
  | 'post.published'
  | 'post.partially_published'
  | 'post.failed'
  | 'post.canceled'

const POST_OUTCOMES: Partial<Record<Post['status'], PostEventType>> = {
  published: 'post.published',
  partially_published: 'post.partially_published',
  failed: 'post.failed',
  canceled: 'post.canceled',
}

const PUBLICATION_OUTCOMES: Partial<
  Record<
    Publication['status'],
    | 'publication.published'
    | 'publication.failed'
    | 'publication.unconfirmed'
    | 'publication.processing'
  >
> = {
  processing: 'publication.processing',
  published: 'publication.published',
  failed: 'publication.failed',
  unconfirmed: 'publication.unconfirmed',
}

/** What a `post.*` event tells of a publication. */
type PublicationSummary = Pick<
  Publication,
  'id' | 'accountId' | 'platform' | 'status' | 'platformPostId' | 'url' | 'publishedAt' | 'error'
>

const summary = (publication: PublicationSummary) => ({
  publicationId: publication.id,
  accountId: publication.accountId,
  platform: publication.platform,
  status: publication.status,
  platformPostId: publication.platformPostId,
  url: publication.url,
  publishedAt: publication.publishedAt?.toISOString() ?? null,
  error: publication.error ?? null,
})

/** The `data` of a `post.*` event: the post and each of its publications. */
export function postEventData(
  post: Pick<Post, 'id' | 'profileId' | 'status' | 'scheduledAt' | 'timezone' | 'seriesId'>,
  rows: PublicationSummary[],
): EventData<'post.scheduled'> {
  return {
    postId: post.id,
    profileId: post.profileId,
    status: post.status,
    scheduledAt: post.scheduledAt?.toISOString() ?? null,
    timezone: post.timezone,
    seriesId: post.seriesId,
    publications: rows.map(summary),
  }
}

/**
 * Records a `post.*` event with the post as the transaction sees it now. Call it after the change,
 * in its transaction.
 */
export async function recordPostEvent(tx: Transaction, postId: string, type: PostEventType) {
  const [post] = await tx.select().from(posts).where(eq(posts.id, postId))
  if (!post) return
  const rows = await tx
    .select()
    .from(publications)
    .where(eq(publications.postId, postId))
    .orderBy(asc(publications.createdAt))
  await recordEvent(tx, {
    type,
    workspaceId: post.workspaceId,
    profileId: post.profileId,
    data: postEventData(post, rows),
  })
}

/**
 * The outcome event of a post whose status just changed, when it is one (`post.published`,
 * `post.partially_published`, `post.failed`, `post.canceled`): `post` and its publications `rows`
 * as they are after the change. Record it with `recordEvents`, in the change's transaction.
 */
export function postOutcomeEvent(post: Post, rows: Publication[]): NewEvent | undefined {
  const type = POST_OUTCOMES[post.status]
  if (!type) return undefined
  return {
    type,
    workspaceId: post.workspaceId,
    profileId: post.profileId,
    data: postEventData(post, rows),
  }
}

/**
 * The outcome event of a publication (of `post`) whose attempt just ended, when it is one
 * (`publication.published`, `publication.failed`, `publication.unconfirmed`, and
 * `publication.processing` when the platform accepted it and finishes it later); a retry or a
 * cancel has none. Record it with `recordEvents`, in the change's transaction.
 */
export function publicationOutcomeEvent(
  publication: Publication,
  post: Pick<Post, 'profileId'>,
): NewEvent | undefined {
  const type = PUBLICATION_OUTCOMES[publication.status]
  if (!type) return undefined
  return {
    type,
    workspaceId: publication.workspaceId,
    profileId: post.profileId,
    data: {
      ...summary(publication),
      postId: publication.postId,
      profileId: post.profileId,
      attempts: publication.attempts,
    },
  }
}

/** Records an `account.*` event with the account as it is after the change. */
export async function recordAccountEvent(
  tx: Transaction,
  type: 'account.connected' | 'account.disconnected' | 'account.reauth_required',
  account: Account,
) {
  await recordEvent(tx, {
    type,
    workspaceId: account.workspaceId,
    profileId: account.profileId,
    data: {
      accountId: account.id,
      profileId: account.profileId,
      platform: account.platform,
      platformAccountId: account.platformAccountId,
      displayName: account.displayName,
      username: account.username,
      status: account.status,
      statusReason: account.statusReason,
    },
  })
}
