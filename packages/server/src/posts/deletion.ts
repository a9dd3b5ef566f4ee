import { isAdapterError } from '@post-scheduler/adapter-core'
import { and, eq } from 'drizzle-orm'
import { recordAudit } from '../audit/record.ts'
import type { TenantContext } from '../auth/principal.ts'
import { openAccountAdapter } from '../connections/adapter.ts'
import {
  connectedAccounts,
  type PublicationError,
  posts,
  type publications,
} from '../db/schema/index.ts'
import { publicationErrorOf } from '../publishing/publication-error.ts'
import type { Services } from '../services.ts'
import { cancelPending, conflict, isPending, lockPost } from './changes.ts'

type Publication = typeof publications.$inferSelect

/** How deleting one published copy from its platform went. */
export interface PlatformDeletion {
  publicationId: string
  accountId: string
  platform: string
  platformPostId: string
  outcome: 'deleted' | 'not_supported' | 'failed'
  error: PublicationError | null
}

/**
 * Deletes a post and its publications. With `fromPlatforms`, published copies are first deleted
 * from their platforms where the adapter can (`deletePost`); each outcome is reported, and a
 * failure never keeps the post. Pending publications are canceled before any platform call, so no
 * worker publishes meanwhile.
 *
 * @throws {ProblemError} `CONFLICT` while a publication is being published.
 */
export async function deletePost(
  services: Services,
  tenant: TenantContext,
  postId: string,
  options: { fromPlatforms: boolean },
) {
  const rows = await services.db.transaction(async (tx) => {
    const { rows } = await lockPost(tx, tenant, postId)
    // Processing: the platform has the post and is finishing it; the engine still follows it.
    const inFlight = rows.filter(
      (row) => row.status === 'publishing' || row.status === 'processing',
    )
    if (inFlight.length > 0) {
      throw conflict(
        'A publication is being published right now; cancel the post, wait for the attempt to end, then delete it',
      )
    }
    await cancelPending(tx, services, rows.filter(isPending))
    return rows
  })
  const platformDeletions: PlatformDeletion[] = []
  if (options.fromPlatforms) {
    for (const row of rows) {
      if (row.status !== 'published' || !row.platformPostId) continue
      platformDeletions.push(await deleteFromPlatform(services, row, row.platformPostId))
    }
  }
  await services.db.transaction(async (tx) => {
    await tx
      .delete(posts)
      .where(and(eq(posts.id, postId), eq(posts.workspaceId, tenant.workspaceId)))
    await recordAudit(tx, tenant.actor, {
      action: 'post.deleted',
      workspaceId: tenant.workspaceId,
      targetType: 'post',
      targetId: postId,
      details: {
        fromPlatforms: options.fromPlatforms,
        platformDeletions: platformDeletions.map(({ publicationId, outcome }) => ({
          publicationId,
          outcome,
        })),
      },
    })
  })
  return { id: postId, deleted: true as const, platformDeletions }
}

async function deleteFromPlatform(
  services: Services,
  row: Publication,
  platformPostId: string,
): Promise<PlatformDeletion> {
  const result = {
    publicationId: row.id,
    accountId: row.accountId,
    platform: row.platform,
    platformPostId,
  }
  const [account] = await services.db
    .select()
    .from(connectedAccounts)
    .where(eq(connectedAccounts.id, row.accountId))
  const platform = services.platforms.get(row.platform)
  if (!platform.capabilities.features.deletePost) {
    return { ...result, outcome: 'not_supported', error: null }
  }
  if (account?.status !== 'active' || !account.accessTokenSealed) {
    return {
      ...result,
      outcome: 'failed',
      error: {
        code: 'ACCOUNT_NOT_CONNECTED',
        message: `The ${row.platform} account needs to be reconnected to delete the post there`,
        retryable: false,
        action: 'reconnect',
      },
    }
  }
  try {
    const { adapter, openToken } = await openAccountAdapter(services, account)
    if (!adapter.deletePost) return { ...result, outcome: 'not_supported', error: null }
    await adapter.deletePost(
      {
        accessToken: openToken('access_token'),
        accountId: account.platformAccountId,
        platformPostId,
      },
      platform.callOptions,
    )
    return { ...result, outcome: 'deleted', error: null }
  } catch (error) {
    if (!isAdapterError(error)) {
      services.logger.error({ err: error, publication: row.id }, 'deleting a published post failed')
    }
    return {
      ...result,
      outcome: 'failed',
      error: isAdapterError(error)
        ? publicationErrorOf(error)
        : {
            code: 'INTERNAL_ERROR',
            message: 'Deleting the post on the platform failed on our side',
            retryable: true,
          },
    }
  }
}
