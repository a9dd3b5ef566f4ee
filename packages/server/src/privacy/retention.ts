import { and, eq, inArray, sql } from 'drizzle-orm'
import { recordAudit } from '../audit/record.ts'
import type { TenantContext } from '../auth/principal.ts'
import { media, posts } from '../db/schema/index.ts'
import { purgeStorage } from '../media/cleanup.ts'
import type { Services } from '../services.ts'

/** Post statuses that are history: nothing of them is still to publish. */
export const HISTORY_STATUSES = ['published', 'partially_published', 'failed', 'canceled'] as const

/**
 * Deletes the posted history of the caller's workspace (or, for a profile token, its profile):
 * every post that is published, partially published, failed or canceled, with its publications
 * (platform ids, links, attempts). Posts still to publish stay. Media the deleted posts used are
 * then free for the media clean-up.
 *
 * @returns how many posts were deleted.
 */
export async function deletePostHistory(
  services: Pick<Services, 'db'>,
  tenant: TenantContext,
  filter: { profileId?: string | undefined },
) {
  const profileId = tenant.profileId ?? filter.profileId
  return services.db.transaction(async (tx) => {
    const deleted = await tx
      .delete(posts)
      .where(
        and(
          eq(posts.workspaceId, tenant.workspaceId),
          profileId === undefined ? undefined : eq(posts.profileId, profileId),
          inArray(posts.status, [...HISTORY_STATUSES]),
        ),
      )
      .returning({ id: posts.id })
    await recordAudit(tx, tenant.actor, {
      action: 'post.history_deleted',
      workspaceId: tenant.workspaceId,
      targetType: profileId ? 'profile' : 'workspace',
      targetId: profileId ?? tenant.workspaceId,
      details: { posts: deleted.length },
    })
    return { deleted: deleted.length }
  })
}

const uses = sql`(p.content->'mediaIds' @> jsonb_build_array(m.id) or exists (
  select 1 from jsonb_each(p.overrides) o where o.value->'mediaIds' @> jsonb_build_array(m.id)))`

/**
 * Removes media whose every post has been published, `MEDIA_PUBLISHED_GRACE_HOURS` after the
 * last of them was: the policy keeps content "until posted or manually deleted". Media still
 * referenced (a post to publish, a draft) or used by a post that failed are kept; the posts'
 * history (text, platform ids, links) stays.
 *
 * @returns how many media were removed.
 */
export async function removePublishedMedia(
  services: Pick<Services, 'db' | 'config' | 'media'>,
  now: Date,
): Promise<number> {
  const graceHours = services.config.privacy.publishedMediaGraceHours
  const candidates = await services.db.execute<{ id: string; workspace_id: string }>(sql`
    select m.id, m.workspace_id from ${media} m
    where not exists (select 1 from post_scheduler.media_references r where r.media_id = m.id)
      and exists (select 1 from ${posts} p where p.workspace_id = m.workspace_id and p.status = 'published' and ${uses})
      and not exists (
        select 1 from ${posts} p
        where p.workspace_id = m.workspace_id and p.status not in ('published', 'canceled') and ${uses})
      and (
        select max(pub.published_at) from post_scheduler.publications pub
        join ${posts} p on p.id = pub.post_id
        where p.workspace_id = m.workspace_id and ${uses}
      ) <= ${now.toISOString()}::timestamptz - make_interval(hours => ${graceHours})
    limit 500`)
  const keys: string[] = []
  for (const candidate of candidates) {
    await services.db.transaction(async (tx) => {
      const [row] = await tx
        .delete(media)
        .where(
          and(
            eq(media.id, candidate.id),
            sql`not exists (select 1 from post_scheduler.media_references r where r.media_id = ${candidate.id})`,
          ),
        )
        .returning()
      if (!row) return
      keys.push(row.storageKey, ...row.variants.map((variant) => variant.storageKey))
      await recordAudit(
        tx,
        { type: 'system', id: undefined, ip: undefined, requestId: undefined },
        {
          action: 'media.expired',
          workspaceId: candidate.workspace_id,
          targetType: 'media',
          targetId: candidate.id,
          details: { reason: 'published', publishedGraceHours: graceHours },
        },
      )
    })
  }
  await purgeStorage(services, keys)
  return candidates.length
}
