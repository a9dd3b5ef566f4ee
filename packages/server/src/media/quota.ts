import { and, eq, ne, sql } from 'drizzle-orm'
import type { Database } from '../db/client.ts'
import { lockKey } from '../db/locks.ts'
import { media, mediaUploads } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import type { Services } from '../services.ts'
import type { MediaDeps } from './library.ts'

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
export async function assertQuota(
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
