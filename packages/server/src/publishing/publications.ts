import { generateId } from '../db/ids.ts'
import type { connectedAccounts, posts } from '../db/schema/index.ts'
import { HORIZON_SECONDS } from './queue.ts'

/** A publication row to insert, as {@link buildPublications} makes it. */
export interface NewPublication {
  id: string
  postId: string
  workspaceId: string
  accountId: string
  platform: string
  status: 'queued' | 'scheduled'
  dueAt: Date
}

/**
 * The instant up to which a new or moved publication is queued at once (its job enqueued in the
 * same transaction); later ones wait for the sweeper.
 */
export function publishingHorizon(now = Date.now()): Date {
  return new Date(now + HORIZON_SECONDS * 1000)
}

/**
 * The rows of a post's new publications, one per account, due at `dueAt`: `queued` when due
 * within `horizon`, else `scheduled`. Every place that creates publications (a new post, a
 * changed one, a series' occurrence) builds them here.
 *
 * @example
 * ```ts
 * const rows = buildPublications(post, accounts, scheduledAt, publishingHorizon())
 * await tx.insert(publications).values(rows)
 * ```
 */
export function buildPublications(
  post: Pick<typeof posts.$inferSelect, 'id' | 'workspaceId'>,
  accounts: Pick<typeof connectedAccounts.$inferSelect, 'id' | 'platform'>[],
  dueAt: Date,
  horizon: Date,
): NewPublication[] {
  const status: NewPublication['status'] =
    dueAt.getTime() <= horizon.getTime() ? 'queued' : 'scheduled'
  return accounts.map((account) => ({
    id: generateId('pub'),
    postId: post.id,
    workspaceId: post.workspaceId,
    accountId: account.id,
    platform: account.platform,
    status,
    dueAt,
  }))
}
