import { readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { and, asc, eq, inArray, lt, ne, sql } from 'drizzle-orm'
import { recordAudit } from '../audit/record.ts'
import { media, mediaGarbage, mediaUploads } from '../db/schema/index.ts'
import type { Services } from '../services.ts'

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
