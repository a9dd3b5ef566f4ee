import { createWriteStream } from 'node:fs'
import { mkdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { and, desc, eq, lte, sql } from 'drizzle-orm'
import { fromDrizzle } from 'pg-boss'
import { ZipFile } from 'yazl'
import { type Actor, recordAudit } from '../audit/record.ts'
import { generateId } from '../db/ids.ts'
import { privacyExports } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import { recordEvent } from '../events/events.ts'
import { deliver } from '../mail/transport.ts'
import { purgeStorage } from '../media/cleanup.ts'
import type { Services } from '../services.ts'
import { type DataSubject, findDataSubject, readPersonalData } from './inventory.ts'
import { privacyMessages } from './messages.ts'

type Export = typeof privacyExports.$inferSelect

/** The queue of export builds; payloads are `{ exportId }`. */
export const EXPORT_QUEUE = 'privacy.exports'

const HOUR_MS = 60 * 60 * 1000

/** What the API shows of an export; `downloadURL` (short-lived) once it is ready. */
export async function presentExport(services: Pick<Services, 'config' | 'media'>, row: Export) {
  const downloadURL =
    row.status === 'ready' && row.storageKey
      ? await services.media.storage.signedURL(row.storageKey, {
          expiresInSeconds: services.config.privacy.exportLinkTTLSeconds,
          contentType: 'application/zip',
          filename: `post-scheduler-export-${row.id}.zip`,
        })
      : null
  return {
    id: row.id,
    status: row.status,
    sizeBytes: row.sizeBytes,
    error: row.error,
    createdAt: row.createdAt.toISOString(),
    readyAt: row.readyAt?.toISOString() ?? null,
    expiresAt: row.expiresAt.toISOString(),
    downloadURL,
    downloadURLExpiresAt: downloadURL
      ? new Date(Date.now() + services.config.privacy.exportLinkTTLSeconds * 1000).toISOString()
      : null,
  }
}

/**
 * Asks for an export of everything held about the signed-in person: a job builds a ZIP (one JSON
 * file per table, the media files), then the person is emailed and `export.ready` is sent to the
 * workspaces they own. One export is built at a time.
 *
 * @throws {ProblemError} `CONFLICT` while another export is being built.
 */
export async function requestExport(services: Services, userId: string, actor: Actor) {
  const row = await services.db.transaction(async (tx) => {
    await tx.execute(sql`select 1 from post_scheduler.users where id = ${userId} for update`)
    const [pending] = await tx
      .select({ id: privacyExports.id })
      .from(privacyExports)
      .where(and(eq(privacyExports.userId, userId), eq(privacyExports.status, 'pending')))
    if (pending) {
      throw new ProblemError(
        'CONFLICT',
        `Export ${pending.id} is being built; wait for it (GET /v1/me/exports/${pending.id})`,
      )
    }
    const [created] = await tx
      .insert(privacyExports)
      .values({
        id: generateId('exp'),
        userId,
        expiresAt: new Date(Date.now() + services.config.privacy.exportTTLHours * HOUR_MS),
      })
      .returning()
    const exported = created as Export
    await recordAudit(tx, actor, {
      action: 'user.export_requested',
      targetType: 'privacy_export',
      targetId: exported.id,
      subjectUserId: userId,
    })
    await services.queue.send(
      EXPORT_QUEUE,
      { exportId: exported.id },
      { db: fromDrizzle(tx, sql), singletonKey: exported.id, retryLimit: 5, retryBackoff: true },
    )
    return exported
  })
  return presentExport(services, row)
}

/** The person's exports, newest first. */
export async function listExports(services: Services, userId: string) {
  const rows = await services.db
    .select()
    .from(privacyExports)
    .where(eq(privacyExports.userId, userId))
    .orderBy(desc(privacyExports.createdAt))
  return { data: await Promise.all(rows.map((row) => presentExport(services, row))) }
}

/**
 * One of the person's exports; when ready, with a fresh short-lived download link (issuing it is
 * audited).
 *
 * @throws {ProblemError} `NOT_FOUND`.
 */
export async function getExport(
  services: Services,
  userId: string,
  exportId: string,
  actor: Actor,
) {
  const [row] = await services.db
    .select()
    .from(privacyExports)
    .where(and(eq(privacyExports.id, exportId), eq(privacyExports.userId, userId)))
  if (!row) throw new ProblemError('NOT_FOUND', `No export ${exportId} (exports expire)`)
  if (row.status === 'ready') {
    await recordAudit(services.db, actor, {
      action: 'user.export_link_issued',
      targetType: 'privacy_export',
      targetId: row.id,
      subjectUserId: userId,
    })
  }
  return presentExport(services, row)
}

const README = `Post Scheduler: export of your data

Each <table>.json file holds the rows of one table that are about you or that you own (the
workspaces where you are an owner), with column names in camelCase. Credentials are never
included: password and token hashes, platform tokens, signing secrets.

media/<mediaId>/ holds the files of your media.
`

/**
 * Builds an export's ZIP and stores it with the media driver under `exports/<id>.zip`; then
 * emails the person and records `export.ready` in each workspace they own. Running it again
 * after a crash builds the file again; a finished export is left alone. A build that fails is
 * marked `failed` (the person may ask again).
 */
export async function buildExport(services: Services, exportId: string) {
  const [row] = await services.db
    .select()
    .from(privacyExports)
    .where(eq(privacyExports.id, exportId))
  if (row?.status !== 'pending') return
  const subject = await findDataSubject(services.db, row.userId)
  if (!subject) return
  const storageKey = `exports/${row.id}.zip`
  await mkdir(services.media.temporaryDir, { recursive: true })
  const path = join(services.media.temporaryDir, `${row.id}.zip`)
  try {
    await writeArchive(services, subject, path)
    const { size } = await stat(path)
    await services.media.storage.putFile(storageKey, path, { contentType: 'application/zip' })
    const ready = await services.db.transaction(async (tx) => {
      const [updated] = await tx
        .update(privacyExports)
        .set({ status: 'ready', storageKey, sizeBytes: size, readyAt: sql`now()` })
        .where(and(eq(privacyExports.id, row.id), eq(privacyExports.status, 'pending')))
        .returning()
      if (!updated) return undefined
      for (const workspaceId of subject.ownedWorkspaceIds) {
        await recordEvent(tx, {
          type: 'export.ready',
          workspaceId,
          data: { exportId: row.id, expiresAt: row.expiresAt.toISOString() },
        })
      }
      return updated
    })
    if (ready) {
      await deliver(services, privacyMessages.exportReady(subject.email, row.id, row.expiresAt))
    }
  } catch (error) {
    services.logger.error({ err: error, export: row.id }, 'an export could not be built')
    await services.db
      .update(privacyExports)
      .set({ status: 'failed', error: 'The export could not be built; ask for a new one' })
      .where(and(eq(privacyExports.id, row.id), eq(privacyExports.status, 'pending')))
  } finally {
    await rm(path, { force: true })
  }
}

async function writeArchive(services: Services, subject: DataSubject, path: string) {
  const data = await readPersonalData(services.db, subject)
  const zip = new ZipFile()
  const written = pipeline(zip.outputStream, createWriteStream(path))
  zip.addBuffer(Buffer.from(README), 'README.txt')
  for (const [table, rows] of Object.entries(data)) {
    zip.addBuffer(Buffer.from(JSON.stringify(rows, null, 2)), `${table}.json`)
  }
  for (const media of data.media ?? []) {
    const key = media.storageKey as string
    const name = key.split('/').pop() ?? 'file'
    try {
      const stream = await services.media.storage.open(key)
      zip.addReadStream(stream, `media/${media.id}/${name}`)
    } catch (error) {
      services.logger.warn({ err: error, media: media.id }, 'export: a media file is missing')
    }
  }
  zip.end()
  await written
}

/**
 * Removes exports whose time is over (ready or not), and their files.
 *
 * @returns how many were removed.
 */
export async function expireExports(services: Services, now: Date): Promise<number> {
  const expired = await services.db
    .delete(privacyExports)
    .where(lte(privacyExports.expiresAt, now))
    .returning({ storageKey: privacyExports.storageKey })
  // The rows' trigger left the files in media_garbage; remove them now rather than at the next clean-up.
  await purgeStorage(
    services,
    expired.flatMap((row) => (row.storageKey ? [row.storageKey] : [])),
  )
  return expired.length
}
