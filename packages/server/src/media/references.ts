import { inArray } from 'drizzle-orm'
import type { Database } from '../db/client.ts'
import { mediaReferences } from '../db/schema/index.ts'

/** One thing that uses a media file, e.g. `{ kind: 'post', refId: 'post_123' }`. */
export interface MediaReference {
  kind: string
  refId: string
}

/**
 * Tells which media are in use. A media in use cannot be deleted without `force`, and is never
 * cleaned up as unreferenced. The default reads the `media_references` table; the posts engine
 * either writes rows there (in the transaction that schedules a post, removing them when the post
 * is published or deleted) or passes its own implementation to {@link createMediaServices}.
 *
 * @example
 * ```ts
 * const used = await references.find(db, ['med_1', 'med_2'])
 * used.get('med_1') // [{ kind: 'post', refId: 'post_9' }]
 * ```
 */
export interface MediaReferences {
  /** The references of each of `mediaIds` that has any. */
  find(db: Pick<Database, 'select'>, mediaIds: string[]): Promise<Map<string, MediaReference[]>>
}

/** {@link MediaReferences} read from the `media_references` table. */
export const tableMediaReferences: MediaReferences = {
  async find(db, mediaIds) {
    const found = new Map<string, MediaReference[]>()
    if (mediaIds.length === 0) return found
    const rows = await db
      .select()
      .from(mediaReferences)
      .where(inArray(mediaReferences.mediaId, mediaIds))
    for (const row of rows) {
      const list = found.get(row.mediaId) ?? []
      list.push({ kind: row.kind, refId: row.refId })
      found.set(row.mediaId, list)
    }
    return found
  },
}
