import { rm } from 'node:fs/promises'
import { eq } from 'drizzle-orm'
import { type Actor, recordAudit } from '../audit/record.ts'
import { generateId } from '../db/ids.ts'
import { type MediaDetails, media, mediaUploadParts, mediaUploads } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import { type InspectedMedia, inspectMedia } from './inspect.ts'
import { type MediaDeps, presentMedia } from './library.ts'
import { assertQuota, assertRoomFor } from './quota.ts'
import { type ReceivedFile, receiveStream } from './receive.ts'
import { fetchRemote, RemoteFetchError } from './remote.ts'

type MediaRow = typeof media.$inferSelect

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
}

/** Where a new media file came from. */
export interface MediaOrigin {
  /** The uploader's name for it, or the URL's last segment; its extension must match the content. */
  filename?: string | undefined
  altText?: string | undefined
  source: MediaDetails['source']
  sourceURL?: string | undefined
  /** The resumable upload it completes; its reserved bytes are not counted twice. */
  uploadId?: string | undefined
}

/**
 * Inspects a received file and keeps it: the cleaned copy and its thumbnail go to storage, the
 * metadata to PostgreSQL (after a final quota check under the workspace's lock), an audit entry
 * is written. Temporary files are removed whatever happens.
 *
 * @throws {ProblemError} `UNSUPPORTED_MEDIA`, `QUOTA_EXCEEDED`.
 * @example
 * ```ts
 * const created = await storeMedia(services, { workspaceId, profileId }, received, { source: 'upload' }, actor)
 * ```
 */
export async function storeMedia(
  services: MediaDeps,
  target: { workspaceId: string; profileId: string },
  received: ReceivedFile,
  origin: MediaOrigin,
  actor: Actor,
) {
  const { storage, temporaryDir } = services.media
  let inspected: InspectedMedia | undefined
  const stored: string[] = []
  try {
    inspected = await inspectMedia(received, temporaryDir, {
      filename: origin.filename,
    })
    const id = generateId('med')
    const folder = `media/${target.workspaceId}/${id}`
    const storageKey = `${folder}/original.${EXTENSIONS[inspected.mimeType] ?? 'bin'}`
    await storage.putFile(storageKey, inspected.path, { contentType: inspected.mimeType })
    stored.push(storageKey)
    const variants: MediaRow['variants'] = []
    const { thumbnail } = inspected
    if (thumbnail) {
      const thumbnailKey = `${folder}/thumbnail.webp`
      await storage.putFile(thumbnailKey, thumbnail.path, { contentType: thumbnail.mimeType })
      stored.push(thumbnailKey)
      variants.push({
        name: 'thumbnail',
        storageKey: thumbnailKey,
        mimeType: thumbnail.mimeType,
        sizeBytes: thumbnail.sizeBytes,
        width: thumbnail.width,
        height: thumbnail.height,
      })
    }
    const details: MediaDetails = {
      ...inspected.details,
      source: origin.source,
      ...(origin.sourceURL !== undefined && { sourceURL: origin.sourceURL }),
    }
    const file = inspected
    const row = await services.db.transaction(async (tx) => {
      await assertQuota(tx, services.config, target.workspaceId, file.sizeBytes, {
        lock: true,
        excludeUploadId: origin.uploadId,
      })
      const [row] = await tx
        .insert(media)
        .values({
          id,
          workspaceId: target.workspaceId,
          profileId: target.profileId,
          kind: file.kind,
          mimeType: file.mimeType,
          sizeBytes: file.sizeBytes,
          sha256: file.sha256,
          storageKey,
          filename: origin.filename ?? null,
          altText: origin.altText ?? null,
          width: file.width ?? null,
          height: file.height ?? null,
          durationSeconds: file.durationSeconds ?? null,
          frameRate: file.frameRate ?? null,
          bitRate: file.bitRate ?? null,
          hasAudio: file.hasAudio ?? null,
          details,
          variants,
          createdBy: actor.id ?? null,
        })
        .returning()
      if (!row) throw new Error('the media insert returned no row')
      if (origin.uploadId !== undefined) {
        await tx
          .update(mediaUploads)
          .set({ status: 'completed', mediaId: id })
          .where(eq(mediaUploads.id, origin.uploadId))
        await tx.delete(mediaUploadParts).where(eq(mediaUploadParts.uploadId, origin.uploadId))
      }
      await recordAudit(tx, actor, {
        action: 'media.created',
        workspaceId: target.workspaceId,
        targetType: 'media',
        targetId: id,
        details: { kind: file.kind, sizeBytes: file.sizeBytes, source: origin.source },
      })
      return row
    })
    return presentMedia(services, row)
  } catch (error) {
    await Promise.all(stored.map((key) => storage.delete(key).catch(() => {})))
    throw error
  } finally {
    await rm(received.path, { force: true })
    if (inspected) {
      await rm(inspected.path, { force: true })
      if (inspected.thumbnail) await rm(inspected.thumbnail.path, { force: true })
    }
  }
}

/**
 * Imports media from a public URL, with SSRF protection (see `fetchRemote`), the per-file limit
 * enforced on the declared and the received size, and `MEDIA_IMPORT_TIMEOUT_SECONDS` for the
 * whole download.
 *
 * @throws {ProblemError} `IMPORT_FAILED` saying why (refused address, HTTP status, timeout…),
 * `PAYLOAD_TOO_LARGE`, `UNSUPPORTED_MEDIA`, `QUOTA_EXCEEDED`.
 * @example
 * ```ts
 * await importMedia(services, target, { url: 'https://cdn.example.com/a.jpg' }, actor)
 * ```
 */
export async function importMedia(
  services: MediaDeps,
  target: { workspaceId: string; profileId: string },
  input: { url: string; altText?: string | undefined; filename?: string | undefined },
  actor: Actor,
) {
  const { config } = services
  const signal = AbortSignal.timeout(config.media.importTimeoutSeconds * 1000)
  const fail = (error: RemoteFetchError) =>
    new ProblemError('IMPORT_FAILED', error.message, { reason: error.reason }, { cause: error })
  try {
    const response = await fetchRemote(
      input.url,
      { allowedNetworks: config.media.importAllowedNetworks },
      signal,
    )
    if (response.contentLength !== undefined) {
      try {
        await assertRoomFor(services, target.workspaceId, response.contentLength)
      } catch (error) {
        response.body.destroy()
        throw error
      }
    }
    const filename =
      input.filename ??
      (decodeURIComponent(new URL(response.url).pathname.split('/').pop() ?? '') || undefined)
    const received = await receiveStream(
      response.body,
      services.media.temporaryDir,
      config.media.maxFileBytes,
    ).catch((error: unknown) => {
      if (signal.aborted) {
        throw fail(
          new RemoteFetchError(
            'timeout',
            `The download took longer than ${config.media.importTimeoutSeconds} seconds`,
          ),
        )
      }
      throw error
    })
    return await storeMedia(
      services,
      target,
      received,
      {
        // A name taken from the URL is held to the same rule as a chosen one; `filename` overrides it.
        filename,
        altText: input.altText,
        source: 'import',
        sourceURL: response.url,
      },
      actor,
    )
  } catch (error) {
    if (error instanceof RemoteFetchError) throw fail(error)
    throw error
  }
}
