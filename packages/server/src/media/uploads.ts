import { rm } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { and, eq, sql } from 'drizzle-orm'
import type { Actor } from '../audit/record.ts'
import type { Database } from '../db/client.ts'
import { generateId } from '../db/ids.ts'
import { mediaUploadParts, mediaUploads } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import { resolveProfileId } from '../profiles/resolve.ts'
import { purgeStorage } from './cleanup.ts'
import { storeMedia } from './intake.ts'
import { getMedia, type MediaDeps, type MediaScope } from './library.ts'
import { assertQuota, assertRoomFor } from './quota.ts'
import { assertDeclaredLength, bodyStream, receiveStream } from './receive.ts'
import type { MediaReference } from './references.ts'

type UploadRow = typeof mediaUploads.$inferSelect

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
  const profileId = await resolveProfileId(services.db, scope, input.profileId)
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
