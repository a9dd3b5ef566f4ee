import { randomUUID } from 'node:crypto'
import { createWriteStream, openAsBlob } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type {
  Capabilities,
  ContentIssue,
  MediaDescription,
  PublishMedia,
} from '@post-scheduler/adapter-core'
import { validatePostContent } from '@post-scheduler/adapter-core/capabilities'
import { and, eq, inArray } from 'drizzle-orm'
import { media } from '../db/schema/index.ts'
import type { Services } from '../services.ts'
import { mediaNotFound } from './library.ts'

type MediaRow = typeof media.$inferSelect

/**
 * What validation needs to know of a media file, from its row.
 *
 * @example
 * ```ts
 * validatePostContent({ text, media: rows.map(describeMedia) }, capabilities)
 * ```
 */
export function describeMedia(row: MediaRow): MediaDescription {
  return {
    kind: row.kind,
    mimeType: row.mimeType,
    sizeBytes: row.sizeBytes,
    ...(row.width !== null && { width: row.width }),
    ...(row.height !== null && { height: row.height }),
    ...(row.durationSeconds !== null && { durationSeconds: row.durationSeconds }),
    ...(row.altText !== null && { altText: row.altText }),
  }
}

/** A media problem for one platform, at the path of the offending value. */
export interface MediaIssue extends ContentIssue {
  /** The platform whose limits the media breaks; absent for problems on every platform. */
  platform?: string
}

/**
 * Checks media against each platform's capabilities — formats, sizes, dimensions, aspect ratios,
 * durations and the combinations allowed in one post — with exactly the rules `validatePostContent`
 * applies to a whole post. Paths are `['media', index, field]`, the index in `mediaIds`; unknown
 * ids (or another workspace's) are `MEDIA_NOT_FOUND`.
 *
 * @example
 * ```ts
 * const issues = await validateMediaForPlatforms(services, 'ws_1', ['med_1'], ['x', 'linkedin'])
 * // [{ platform: 'x', path: ['media', 0, 'durationSeconds'], code: 'MEDIA_DURATION_OUT_OF_RANGE', message: '…' }]
 * ```
 */
export async function validateMediaForPlatforms(
  services: Pick<Services, 'db' | 'platforms'>,
  workspaceId: string,
  mediaIds: string[],
  platformIds: string[],
): Promise<MediaIssue[]> {
  const rows =
    mediaIds.length === 0
      ? []
      : await services.db
          .select()
          .from(media)
          .where(and(eq(media.workspaceId, workspaceId), inArray(media.id, mediaIds)))
  const byId = new Map(rows.map((row) => [row.id, row]))
  const issues: MediaIssue[] = []
  const described: MediaDescription[] = []
  mediaIds.forEach((mediaId, index) => {
    const row = byId.get(mediaId)
    if (!row) {
      issues.push({
        path: ['media', index],
        code: 'MEDIA_NOT_FOUND',
        message: `No media ${mediaId} in this workspace; upload it again or remove it from the post.`,
      })
      return
    }
    described.push(describeMedia(row))
  })
  if (issues.length > 0) return issues
  for (const platformId of platformIds) {
    const { capabilities } = services.platforms.get(platformId)
    for (const issue of validateMediaAgainst(described, capabilities)) {
      issues.push({ ...issue, platform: platformId })
    }
  }
  return issues
}

/**
 * What the workspace's media `mediaIds` are (kind, type, size, dimensions, duration, alt text), in
 * the order given, skipping unknown ids: what an adapter's `validatePost` reads of a post's media.
 *
 * @example
 * ```ts
 * const media = await describeWorkspaceMedia(services, 'ws_1', ['med_1'])
 * ```
 */
export async function describeWorkspaceMedia(
  services: Pick<Services, 'db'>,
  workspaceId: string,
  mediaIds: string[],
): Promise<MediaDescription[]> {
  if (mediaIds.length === 0) return []
  const rows = await services.db
    .select()
    .from(media)
    .where(and(eq(media.workspaceId, workspaceId), inArray(media.id, mediaIds)))
  const byId = new Map(rows.map((row) => [row.id, row]))
  return mediaIds.flatMap((mediaId) => {
    const row = byId.get(mediaId)
    return row ? [describeMedia(row)] : []
  })
}

/**
 * The media issues `validatePostContent` finds for `items` on a platform, and only those (text,
 * thread and options are the posts engine's to check with the post itself).
 */
export function validateMediaAgainst(
  items: MediaDescription[],
  capabilities: Capabilities,
): ContentIssue[] {
  const mediaOnly: Capabilities = {
    ...capabilities,
    text: { ...capabilities.text, required: false },
  }
  return validatePostContent(
    { text: items.length === 0 ? '' : ' ', media: items },
    mediaOnly,
  ).filter((issue) => issue.path[0] === 'media')
}

/**
 * The media of a post, ready for an adapter: descriptions, a signed URL for platforms that pull,
 * and `open()` giving the bytes as a file-backed Blob (no whole-file buffering). In `mediaIds`
 * order.
 *
 * @throws {ProblemError} `NOT_FOUND` when one is gone.
 * @example
 * ```ts
 * const media = await loadPublishMedia(services, 'ws_1', post.mediaIds)
 * await adapter.publish({ text, media }, …)
 * ```
 */
export async function loadPublishMedia(
  services: Pick<Services, 'db' | 'config' | 'media'>,
  workspaceId: string,
  mediaIds: string[],
): Promise<PublishMedia[]> {
  const rows =
    mediaIds.length === 0
      ? []
      : await services.db
          .select()
          .from(media)
          .where(and(eq(media.workspaceId, workspaceId), inArray(media.id, mediaIds)))
  const byId = new Map(rows.map((row) => [row.id, row]))
  const { storage, temporaryDir } = services.media
  return Promise.all(
    mediaIds.map(async (mediaId) => {
      const row = byId.get(mediaId)
      if (!row) throw mediaNotFound(mediaId)
      return {
        ...describeMedia(row),
        id: row.id,
        publicURL: await storage.signedURL(row.storageKey, {
          expiresInSeconds: services.config.media.signedURLTTLSeconds,
          contentType: row.mimeType,
        }),
        async open() {
          const local = storage.localPath?.(row.storageKey)
          if (local) return openAsBlob(local, { type: row.mimeType })
          await mkdir(temporaryDir, { recursive: true })
          const path = join(temporaryDir, randomUUID())
          await pipeline(await storage.open(row.storageKey), createWriteStream(path))
          // The cleanup job removes leftover temporary files.
          return openAsBlob(path, { type: row.mimeType })
        },
      } satisfies PublishMedia
    }),
  )
}
