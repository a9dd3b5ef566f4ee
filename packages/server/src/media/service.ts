import { randomUUID } from 'node:crypto'
import { createWriteStream, openAsBlob } from 'node:fs'
import { mkdir, readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type {
  Capabilities,
  ContentIssue,
  MediaDescription,
  PublishMedia,
} from '@post-scheduler/adapter-core'
import { validatePostContent } from '@post-scheduler/adapter-core/capabilities'
import { and, asc, eq, inArray, lt, ne, type SQL, sql } from 'drizzle-orm'
import { type Actor, recordAudit } from '../audit/record.ts'
import { generateId } from '../auth/secrets.ts'
import type { Database } from '../db/client.ts'
import { lockKey } from '../db/locks.ts'
import {
  type MediaDetails,
  media,
  mediaGarbage,
  mediaUploadParts,
  mediaUploads,
  profiles,
} from '../db/schema/index.ts'
import { chronological, toPage } from '../http/pagination.ts'
import { ProblemError } from '../http/problem.ts'
import type { Services } from '../services.ts'
import { type InspectedMedia, inspectMedia } from './inspect.ts'
import { assertDeclaredLength, bodyStream, type ReceivedFile, receiveStream } from './receive.ts'
import type { MediaReference } from './references.ts'
import { fetchRemote, RemoteFetchError } from './remote.ts'

type MediaRow = typeof media.$inferSelect
type UploadRow = typeof mediaUploads.$inferSelect
type MediaDeps = Pick<Services, 'db' | 'config' | 'media'>

/** Whose media a request may see: a workspace and, for profile tokens, their one profile. */
export interface MediaScope {
  workspaceId: string
  profileId: string | undefined
}

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
}

const visible = (scope: MediaScope, ...conditions: (SQL | undefined)[]) =>
  and(
    eq(media.workspaceId, scope.workspaceId),
    scope.profileId === undefined ? undefined : eq(media.profileId, scope.profileId),
    ...conditions,
  )

const notFound = (mediaId: string) =>
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
 * The profile new media go to: a profile token's own, the one named (in the caller's workspace),
 * or the workspace's default profile.
 *
 * @throws {ProblemError} `NOT_FOUND` for a profile the caller cannot see.
 */
export async function resolveMediaProfile(
  db: Database,
  scope: MediaScope,
  requested: string | undefined,
): Promise<string> {
  if (scope.profileId !== undefined) {
    if (requested !== undefined && requested !== scope.profileId) {
      throw new ProblemError('NOT_FOUND', `No profile ${requested} in this workspace`)
    }
    return scope.profileId
  }
  const [profile] = await db
    .select({ id: profiles.id })
    .from(profiles)
    .where(
      and(
        eq(profiles.workspaceId, scope.workspaceId),
        requested === undefined ? eq(profiles.isDefault, true) : eq(profiles.id, requested),
      ),
    )
  if (!profile) {
    throw new ProblemError(
      'NOT_FOUND',
      requested === undefined
        ? 'This workspace has no default profile; name a profileId'
        : `No profile ${requested} in this workspace`,
    )
  }
  return profile.id
}

/** Bytes a workspace keeps: its media and the declared sizes of its unfinished uploads. */
async function usedBytes(
  db: Pick<Database, 'select'>,
  workspaceId: string,
  excludeUploadId?: string,
): Promise<number> {
  const [stored] = await db
    .select({ total: sql<string>`coalesce(sum(${media.sizeBytes}), 0)` })
    .from(media)
    .where(eq(media.workspaceId, workspaceId))
  const [pending] = await db
    .select({ total: sql<string>`coalesce(sum(${mediaUploads.sizeBytes}), 0)` })
    .from(mediaUploads)
    .where(
      and(
        eq(mediaUploads.workspaceId, workspaceId),
        ne(mediaUploads.status, 'completed'),
        sql`${mediaUploads.expiresAt} > now()`,
        excludeUploadId === undefined ? undefined : ne(mediaUploads.id, excludeUploadId),
      ),
    )
  return Number(stored?.total ?? 0) + Number(pending?.total ?? 0)
}

/**
 * Refuses `addingBytes` more when the workspace would pass its quota. Inside a transaction it
 * first takes the workspace's quota lock, so concurrent uploads cannot overshoot together.
 *
 * @throws {ProblemError} `QUOTA_EXCEEDED` (413) with `quotaBytes`, `usedBytes` and `requiredBytes`.
 */
async function assertQuota(
  db: Database,
  config: Services['config'],
  workspaceId: string,
  addingBytes: number,
  options: { lock?: boolean; excludeUploadId?: string } = {},
) {
  const quota = config.media.workspaceQuotaBytes
  if (quota === 0) return
  if (options.lock) {
    await lockKey(db, `media-quota:${workspaceId}`)
  }
  const used = await usedBytes(db, workspaceId, options.excludeUploadId)
  if (used + addingBytes > quota) {
    throw new ProblemError(
      'QUOTA_EXCEEDED',
      `This workspace keeps ${used} of its ${quota} bytes of media; ${addingBytes} more do not fit. Delete media you no longer need, or ask the operator to raise MEDIA_WORKSPACE_QUOTA_BYTES.`,
      { quotaBytes: quota, usedBytes: used, requiredBytes: addingBytes },
    )
  }
}

/** Refuses up front a size over the per-file limit or the workspace quota. */
export async function assertRoomFor(services: MediaDeps, workspaceId: string, sizeBytes: number) {
  const max = services.config.media.maxFileBytes
  if (sizeBytes > max) {
    throw new ProblemError(
      'PAYLOAD_TOO_LARGE',
      `The file is ${sizeBytes} bytes; this server accepts media up to ${max} bytes`,
      { maxBytes: max },
    )
  }
  await assertQuota(services.db, services.config, workspaceId, sizeBytes)
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
  if (!row) throw notFound(mediaId)
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
    if (!row) throw notFound(mediaId)
    return presentMedia(services, row)
  }
  const altText = patch.altText
  const row = await services.db.transaction(async (tx) => {
    const [row] = await tx
      .update(media)
      .set({ altText })
      .where(visible(scope, eq(media.id, mediaId)))
      .returning()
    if (!row) throw notFound(mediaId)
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
    if (!row) throw notFound(mediaId)
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

/**
 * Deletes storage objects whose rows are gone and forgets them; whatever fails stays in
 * `media_garbage` for the cleanup job.
 */
export async function purgeStorage(services: Pick<Services, 'db' | 'media'>, keys: string[]) {
  const done: string[] = []
  for (const key of keys) {
    try {
      await services.media.storage.delete(key)
      done.push(key)
    } catch {
      // Left in media_garbage; the cleanup job tries again.
    }
  }
  if (done.length > 0) {
    await services.db.delete(mediaGarbage).where(inArray(mediaGarbage.storageKey, done))
  }
}

// ---------------------------------------------------------------- resumable uploads

function presentUpload(upload: UploadRow, parts: (typeof mediaUploadParts.$inferSelect)[]) {
  const partCount = Math.max(1, Math.ceil(upload.sizeBytes / upload.partSizeBytes))
  const received = new Set(parts.map((part) => part.partNumber))
  return {
    id: upload.id,
    profileId: upload.profileId,
    filename: upload.filename,
    sizeBytes: upload.sizeBytes,
    partSizeBytes: upload.partSizeBytes,
    partCount,
    receivedParts: parts
      .sort((a, b) => a.partNumber - b.partNumber)
      .map((part) => ({
        partNumber: part.partNumber,
        sizeBytes: part.sizeBytes,
        sha256: part.sha256,
      })),
    missingParts: Array.from({ length: partCount }, (_, index) => index + 1).filter(
      (partNumber) => !received.has(partNumber),
    ),
    receivedBytes: parts.reduce((total, part) => total + part.sizeBytes, 0),
    status: upload.status,
    mediaId: upload.mediaId,
    expiresAt: upload.expiresAt.toISOString(),
    createdAt: upload.createdAt.toISOString(),
  }
}

const visibleUpload = (scope: MediaScope, uploadId: string) =>
  and(
    eq(mediaUploads.id, uploadId),
    eq(mediaUploads.workspaceId, scope.workspaceId),
    scope.profileId === undefined ? undefined : eq(mediaUploads.profileId, scope.profileId),
  )

const uploadNotFound = (uploadId: string) =>
  new ProblemError('NOT_FOUND', `No upload ${uploadId} in this workspace (uploads expire)`)

async function findUpload(db: Database, scope: MediaScope, uploadId: string) {
  const [upload] = await db.select().from(mediaUploads).where(visibleUpload(scope, uploadId))
  if (!upload || (upload.expiresAt <= new Date() && upload.status !== 'completed')) {
    throw uploadNotFound(uploadId)
  }
  return upload
}

const partsOf = (db: Database, uploadId: string) =>
  db.select().from(mediaUploadParts).where(eq(mediaUploadParts.uploadId, uploadId))

/**
 * Starts a resumable upload of `sizeBytes`: the bytes are reserved against the quota, and the
 * answer says the part size and count. Parts can then be sent in any order, again after a
 * dropped connection, and the upload completed within `MEDIA_UPLOAD_TTL_HOURS`.
 *
 * @throws {ProblemError} `PAYLOAD_TOO_LARGE`, `QUOTA_EXCEEDED`, `NOT_FOUND` (profile).
 */
export async function createUpload(
  services: MediaDeps,
  scope: MediaScope,
  input: {
    sizeBytes: number
    filename?: string | undefined
    altText?: string | undefined
    profileId?: string | undefined
    sha256?: string | undefined
  },
  actor: Actor,
) {
  const profileId = await resolveMediaProfile(services.db, scope, input.profileId)
  await assertRoomFor(services, scope.workspaceId, input.sizeBytes)
  const upload = await services.db.transaction(async (tx) => {
    await assertQuota(tx, services.config, scope.workspaceId, input.sizeBytes, { lock: true })
    const [upload] = await tx
      .insert(mediaUploads)
      .values({
        id: generateId('mup'),
        workspaceId: scope.workspaceId,
        profileId,
        filename: input.filename ?? null,
        altText: input.altText ?? null,
        sizeBytes: input.sizeBytes,
        partSizeBytes: services.config.media.uploadPartBytes,
        sha256: input.sha256?.toLowerCase() ?? null,
        createdBy: actor.id ?? null,
        expiresAt: sql`now() + make_interval(hours => ${services.config.media.uploadTTLHours})`,
      })
      .returning()
    if (!upload) throw new Error('the upload insert returned no row')
    return upload
  })
  return presentUpload(upload, [])
}

/** A resumable upload's state: which parts arrived, which are missing. */
export async function getUpload(services: MediaDeps, scope: MediaScope, uploadId: string) {
  const upload = await findUpload(services.db, scope, uploadId)
  return presentUpload(upload, await partsOf(services.db, uploadId))
}

/**
 * Receives one part. Its size must be exactly `partSizeBytes` (the last part: the rest); a part
 * sent again replaces the earlier copy. A part whose body breaks off is not kept: send it again.
 *
 * @throws {ProblemError} `NOT_FOUND`, `CONFLICT` (upload completed), `VALIDATION_FAILED` (part
 * number or size), `PAYLOAD_TOO_LARGE`.
 */
export async function putUploadPart(
  services: MediaDeps,
  scope: MediaScope,
  uploadId: string,
  partNumber: number,
  request: Request,
) {
  const upload = await findUpload(services.db, scope, uploadId)
  if (upload.status !== 'open') {
    throw new ProblemError(
      'CONFLICT',
      `Upload ${uploadId} is ${upload.status}; it takes no more parts`,
    )
  }
  const partCount = Math.max(1, Math.ceil(upload.sizeBytes / upload.partSizeBytes))
  if (partNumber > partCount) {
    throw new ProblemError('VALIDATION_FAILED', `This upload has ${partCount} parts`, {
      issues: [
        {
          location: 'path',
          path: ['partNumber'],
          code: 'too_big',
          message: `Part numbers go from 1 to ${partCount}`,
        },
      ],
    })
  }
  const expected =
    partNumber < partCount
      ? upload.partSizeBytes
      : upload.sizeBytes - upload.partSizeBytes * (partCount - 1)
  assertDeclaredLength(request, expected)
  const received = await receiveStream(bodyStream(request), services.media.temporaryDir, expected)
  try {
    if (received.sizeBytes !== expected) {
      throw new ProblemError(
        'VALIDATION_FAILED',
        `Part ${partNumber} must be exactly ${expected} bytes; ${received.sizeBytes} arrived`,
        {
          issues: [
            {
              location: 'body',
              path: [],
              code: 'wrong_size',
              message: `Send bytes ${(partNumber - 1) * upload.partSizeBytes} to ${(partNumber - 1) * upload.partSizeBytes + expected - 1} of the file`,
            },
          ],
        },
      )
    }
    const storageKey = `uploads/${scope.workspaceId}/${uploadId}/part-${partNumber}`
    await services.media.storage.putFile(storageKey, received.path, {
      contentType: 'application/octet-stream',
    })
    await services.db
      .insert(mediaUploadParts)
      .values({
        uploadId,
        partNumber,
        sizeBytes: received.sizeBytes,
        sha256: received.sha256,
        storageKey,
      })
      .onConflictDoUpdate({
        target: [mediaUploadParts.uploadId, mediaUploadParts.partNumber],
        set: { sizeBytes: received.sizeBytes, sha256: received.sha256, createdAt: sql`now()` },
      })
    return { partNumber, sizeBytes: received.sizeBytes, sha256: received.sha256 }
  } finally {
    await rm(received.path, { force: true })
  }
}

/**
 * Joins the parts in order, checks the whole file's SHA-256 when one was announced, and stores the
 * result as a media file. Completing an upload that already completed answers its media again,
 * so a client whose connection dropped during completion can simply retry.
 *
 * @throws {ProblemError} `CONFLICT` while parts are missing (listing them) or another completion
 * runs, `VALIDATION_FAILED` on a checksum mismatch, and what {@link storeMedia} throws.
 */
export async function completeUpload(
  services: MediaDeps,
  scope: MediaScope,
  uploadId: string,
  input: { sha256?: string | undefined },
  actor: Actor,
) {
  const upload = await services.db.transaction(async (tx) => {
    const [upload] = await tx
      .select()
      .from(mediaUploads)
      .where(visibleUpload(scope, uploadId))
      .for('update')
    if (!upload || (upload.expiresAt <= new Date() && upload.status !== 'completed')) {
      throw uploadNotFound(uploadId)
    }
    if (upload.status === 'completing') {
      throw new ProblemError('CONFLICT', `Upload ${uploadId} is being completed; ask again shortly`)
    }
    if (upload.status === 'open') {
      const missing = presentUpload(upload, await partsOf(tx, uploadId)).missingParts
      if (missing.length > 0) {
        throw new ProblemError(
          'CONFLICT',
          `Upload ${uploadId} still lacks part${missing.length === 1 ? '' : 's'} ${missing.join(', ')}; send ${missing.length === 1 ? 'it' : 'them'}, then complete`,
          { missingParts: missing },
        )
      }
      await tx
        .update(mediaUploads)
        .set({ status: 'completing' })
        .where(eq(mediaUploads.id, uploadId))
    }
    return upload
  })
  if (upload.status === 'completed' && upload.mediaId) {
    return { created: false, media: await getMedia(services, scope, upload.mediaId) }
  }
  const reopen = () =>
    services.db.update(mediaUploads).set({ status: 'open' }).where(eq(mediaUploads.id, uploadId))
  try {
    const parts = (await partsOf(services.db, uploadId)).sort((a, b) => a.partNumber - b.partNumber)
    const source = Readable.from(
      (async function* () {
        for (const part of parts) yield* await services.media.storage.open(part.storageKey)
      })(),
    )
    const received = await receiveStream(source, services.media.temporaryDir, upload.sizeBytes)
    const wanted = (input.sha256 ?? upload.sha256 ?? '').toLowerCase()
    if (wanted && wanted !== received.sha256) {
      await rm(received.path, { force: true })
      throw new ProblemError(
        'VALIDATION_FAILED',
        `The joined file's SHA-256 is ${received.sha256}, not ${wanted}; compare each part's sha256 with your file and send the differing parts again`,
        {
          issues: [
            {
              location: 'body',
              path: ['sha256'],
              code: 'checksum_mismatch',
              message: 'The parts do not make up the announced file',
            },
          ],
        },
      )
    }
    const created = await storeMedia(
      services,
      { workspaceId: upload.workspaceId, profileId: upload.profileId },
      received,
      {
        filename: upload.filename ?? undefined,
        altText: upload.altText ?? undefined,
        source: 'resumable',
        uploadId,
      },
      actor,
    )
    await purgeStorage(
      services,
      parts.map((part) => part.storageKey),
    )
    return { created: true, media: { ...created, usedBy: [] as MediaReference[] } }
  } catch (error) {
    await reopen()
    throw error
  }
}

/** Abandons a resumable upload: its parts are deleted and its reserved bytes freed. */
export async function abortUpload(services: MediaDeps, scope: MediaScope, uploadId: string) {
  const parts = await services.db.transaction(async (tx) => {
    const [upload] = await tx
      .select()
      .from(mediaUploads)
      .where(visibleUpload(scope, uploadId))
      .for('update')
    if (!upload) throw uploadNotFound(uploadId)
    if (upload.status === 'completing') {
      throw new ProblemError('CONFLICT', `Upload ${uploadId} is being completed`)
    }
    const parts = await partsOf(tx, uploadId)
    await tx.delete(mediaUploads).where(eq(mediaUploads.id, uploadId))
    return parts
  })
  await purgeStorage(
    services,
    parts.map((part) => part.storageKey),
  )
}

// ---------------------------------------------------------------- for the posts engine

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
      if (!row) throw notFound(mediaId)
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

// ---------------------------------------------------------------- clean-up

/**
 * Periodic clean-up: expired resumable uploads (their parts), media nothing has referenced for
 * `MEDIA_UNREFERENCED_TTL_HOURS` (when not 0), and storage objects left by any deletion.
 *
 * @returns how many of each were removed.
 */
export async function cleanUpMedia(services: Pick<Services, 'db' | 'config' | 'media' | 'logger'>) {
  const { db, config } = services
  const expiredUploads = await db
    .delete(mediaUploads)
    .where(and(lt(mediaUploads.expiresAt, sql`now()`), ne(mediaUploads.status, 'completing')))
    .returning({ id: mediaUploads.id })
  let unreferenced = 0
  if (config.media.unreferencedTTLHours > 0) {
    const candidates = await db
      .select({ id: media.id, workspaceId: media.workspaceId })
      .from(media)
      .where(
        sql`${media.createdAt} < now() - make_interval(hours => ${config.media.unreferencedTTLHours})`,
      )
      .orderBy(asc(media.createdAt))
      .limit(500)
    const used = await services.media.references.find(
      db,
      candidates.map((candidate) => candidate.id),
    )
    const unused = candidates.filter((candidate) => !used.has(candidate.id))
    for (const candidate of unused) {
      await db.transaction(async (tx) => {
        const [locked] = await tx
          .select({ id: media.id })
          .from(media)
          .where(eq(media.id, candidate.id))
          .for('update')
        // A post may have taken it up since the first look.
        if (!locked || (await services.media.references.find(tx, [candidate.id])).size > 0) return
        await tx.delete(media).where(eq(media.id, candidate.id))
        await recordAudit(
          tx,
          { type: 'system', id: undefined, ip: undefined, requestId: undefined },
          {
            action: 'media.expired',
            workspaceId: candidate.workspaceId,
            targetType: 'media',
            targetId: candidate.id,
            details: { unreferencedTTLHours: config.media.unreferencedTTLHours },
          },
        )
      })
    }
    unreferenced = unused.length
  }
  const garbage = await db
    .select({ storageKey: mediaGarbage.storageKey })
    .from(mediaGarbage)
    .orderBy(asc(mediaGarbage.createdAt))
    .limit(1000)
  await purgeStorage(
    services,
    garbage.map((row) => row.storageKey),
  )
  await removeStaleTemporaryFiles(services.media.temporaryDir)
  const result = { expiredUploads: expiredUploads.length, unreferenced, objects: garbage.length }
  if (result.expiredUploads + result.unreferenced + result.objects > 0) {
    services.logger.info(result, 'media cleaned up')
  }
  return result
}

const STALE_TEMPORARY_FILE_MS = 24 * 60 * 60 * 1000

/** Temporary files of uploads a crashed or stopped process left behind. */
async function removeStaleTemporaryFiles(folder: string) {
  const names = await readdir(folder).catch(() => [] as string[])
  for (const name of names) {
    const path = join(folder, name)
    const info = await stat(path).catch(() => undefined)
    if (info && Date.now() - info.mtimeMs > STALE_TEMPORARY_FILE_MS) await rm(path, { force: true })
  }
}
