import { and, eq, type SQL } from 'drizzle-orm'
import { type Actor, recordAudit } from '../audit/record.ts'
import { chronological, toPage } from '../db/pagination.ts'
import { media } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import type { Services } from '../services.ts'
import { purgeStorage } from './cleanup.ts'
import type { MediaReference } from './references.ts'

type MediaRow = typeof media.$inferSelect

/** What the media services need of {@link Services}. */
export type MediaDeps = Pick<Services, 'db' | 'config' | 'media'>

/** Whose media a request may see: a workspace and, for profile tokens, their one profile. */
export interface MediaScope {
  workspaceId: string
  profileId: string | undefined
}

const visible = (scope: MediaScope, ...conditions: (SQL | undefined)[]) =>
  and(
    eq(media.workspaceId, scope.workspaceId),
    scope.profileId === undefined ? undefined : eq(media.profileId, scope.profileId),
    ...conditions,
  )

/** The `NOT_FOUND` for a media file the caller cannot see (or that is gone). */
export const mediaNotFound = (mediaId: string) =>
  new ProblemError('NOT_FOUND', `No media ${mediaId} in this workspace`)

/**
 * What the API shows of a media file, with short-lived signed URLs of the file and its variants.
 */
export async function presentMedia(services: Pick<Services, 'config' | 'media'>, row: MediaRow) {
  const ttl = services.config.media.signedURLTTLSeconds
  const expiresAt = new Date(Date.now() + ttl * 1000).toISOString()
  const sign = (key: string, contentType: string) =>
    services.media.storage.signedURL(key, {
      expiresInSeconds: ttl,
      contentType,
      filename: row.filename ?? undefined,
    })
  return {
    id: row.id,
    profileId: row.profileId,
    kind: row.kind,
    mimeType: row.mimeType,
    sizeBytes: row.sizeBytes,
    sha256: row.sha256,
    filename: row.filename,
    altText: row.altText,
    width: row.width,
    height: row.height,
    durationSeconds: row.durationSeconds,
    frameRate: row.frameRate,
    bitRate: row.bitRate,
    hasAudio: row.hasAudio,
    container: row.details.container,
    videoCodec: row.details.videoCodec ?? null,
    audioCodec: row.details.audioCodec ?? null,
    metadataRemoved: row.details.metadataRemoved ?? false,
    source: row.details.source,
    url: await sign(row.storageKey, row.mimeType),
    urlExpiresAt: expiresAt,
    variants: await Promise.all(
      row.variants.map(async (variant) => ({
        name: variant.name,
        mimeType: variant.mimeType,
        sizeBytes: variant.sizeBytes,
        width: variant.width,
        height: variant.height,
        url: await sign(variant.storageKey, variant.mimeType),
      })),
    ),
    createdAt: row.createdAt.toISOString(),
  }
}

/**
 * The media the caller can see, newest first, optionally of one profile or kind.
 *
 * @example
 * ```ts
 * const { data, nextCursor } = await listMedia(services, scope, { limit: 20, kind: 'video' })
 * ```
 */
export async function listMedia(
  services: MediaDeps,
  scope: MediaScope,
  query: {
    limit: number
    cursor?: string | undefined
    profileId?: string | undefined
    kind?: MediaRow['kind'] | undefined
  },
) {
  const order = chronological(media.createdAt, media.id, query.cursor, 'desc')
  const rows = await services.db
    .select({ media, key: order.key })
    .from(media)
    .where(
      visible(
        scope,
        query.profileId === undefined ? undefined : eq(media.profileId, query.profileId),
        query.kind === undefined ? undefined : eq(media.kind, query.kind),
        order.after,
      ),
    )
    .orderBy(...order.orderBy)
    .limit(query.limit + 1)
  const page = toPage(
    rows,
    query.limit,
    (row) => ({ key: row.key, id: row.media.id }),
    (row) => row.media,
  )
  return {
    data: await Promise.all(page.data.map((row) => presentMedia(services, row))),
    nextCursor: page.nextCursor,
  }
}

/**
 * One media file with its variants and what uses it.
 *
 * @throws {ProblemError} `NOT_FOUND`.
 */
export async function getMedia(services: MediaDeps, scope: MediaScope, mediaId: string) {
  const [row] = await services.db
    .select()
    .from(media)
    .where(visible(scope, eq(media.id, mediaId)))
  if (!row) throw mediaNotFound(mediaId)
  const references = await services.media.references.find(services.db, [mediaId])
  return { ...(await presentMedia(services, row)), usedBy: references.get(mediaId) ?? [] }
}

/**
 * Changes a media file's alternative text (or clears it with `null`). An empty patch changes
 * nothing and records nothing: it answers the media as it is, like every PATCH of the API.
 *
 * @throws {ProblemError} `NOT_FOUND`.
 */
export async function updateMedia(
  services: MediaDeps,
  scope: MediaScope,
  mediaId: string,
  patch: { altText?: string | null | undefined },
  actor: Actor,
) {
  if (patch.altText === undefined) {
    const [row] = await services.db
      .select()
      .from(media)
      .where(visible(scope, eq(media.id, mediaId)))
    if (!row) throw mediaNotFound(mediaId)
    return presentMedia(services, row)
  }
  const altText = patch.altText
  const row = await services.db.transaction(async (tx) => {
    const [row] = await tx
      .update(media)
      .set({ altText })
      .where(visible(scope, eq(media.id, mediaId)))
      .returning()
    if (!row) throw mediaNotFound(mediaId)
    await recordAudit(tx, actor, {
      action: 'media.updated',
      workspaceId: scope.workspaceId,
      targetType: 'media',
      targetId: mediaId,
      details: { fields: Object.keys(patch) },
    })
    return row
  })
  return presentMedia(services, row)
}

/**
 * Deletes a media file. While something uses it (a scheduled post) it is refused, unless
 * `force` — then the references go too and the posts engine finds the media missing.
 *
 * @throws {ProblemError} `NOT_FOUND`, or `MEDIA_IN_USE` (409) listing the references.
 */
export async function deleteMedia(
  services: MediaDeps,
  scope: MediaScope,
  mediaId: string,
  options: { force: boolean },
  actor: Actor,
): Promise<void> {
  const keys = await services.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(media)
      .where(visible(scope, eq(media.id, mediaId)))
      .for('update')
    if (!row) throw mediaNotFound(mediaId)
    const references: MediaReference[] =
      (await services.media.references.find(tx, [mediaId])).get(mediaId) ?? []
    if (references.length > 0 && !options.force) {
      throw new ProblemError(
        'MEDIA_IN_USE',
        `Media ${mediaId} is used by ${references.map((ref) => `${ref.kind} ${ref.refId}`).join(', ')}; remove it from them first, or delete with force=true`,
        { usedBy: references },
      )
    }
    await tx.delete(media).where(eq(media.id, mediaId))
    await recordAudit(tx, actor, {
      action: 'media.deleted',
      workspaceId: scope.workspaceId,
      targetType: 'media',
      targetId: mediaId,
      details: { forced: references.length > 0, usedBy: references },
    })
    return [row.storageKey, ...row.variants.map((variant) => variant.storageKey)]
  })
  await purgeStorage(services, keys)
}
