import type { SandboxPost, SandboxStore } from '@post-scheduler/adapter-sandbox'
import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm'
import type { Database } from '../db/client.ts'
import { sandboxPosts, sandboxState } from '../db/schema/index.ts'

type Row = typeof sandboxPosts.$inferSelect

const toPost = (row: Row): SandboxPost => ({
  id: row.id,
  accountId: row.accountId,
  clientId: row.clientId,
  idempotencyKey: row.idempotencyKey,
  attemptId: row.attemptId ?? undefined,
  text: row.text,
  media: row.media as SandboxPost['media'],
  thread: row.thread as SandboxPost['thread'],
  firstComment: (row.firstComment as SandboxPost['firstComment'] | null) ?? undefined,
  options: row.options as SandboxPost['options'],
  contentDigest: row.contentDigest,
  createdAt: row.createdAt,
  deletedAt: row.deletedAt ?? undefined,
})

/**
 * The sandbox platform's store on PostgreSQL, so every API process serves the same sandbox and
 * what it "published" can be listed (and duplicates counted) through the API.
 */
export function createPostgresSandboxStore(db: Database): SandboxStore {
  return {
    async insertPost(post) {
      const [created] = await db
        .insert(sandboxPosts)
        .values({
          ...post,
          attemptId: post.attemptId ?? null,
          firstComment: post.firstComment ?? null,
          deletedAt: post.deletedAt ?? null,
        })
        .onConflictDoNothing({ target: [sandboxPosts.accountId, sandboxPosts.idempotencyKey] })
        .returning()
      if (created) return { post: toPost(created), created: true }
      const [existing] = await db
        .select()
        .from(sandboxPosts)
        .where(
          and(
            eq(sandboxPosts.accountId, post.accountId),
            eq(sandboxPosts.idempotencyKey, post.idempotencyKey),
          ),
        )
      if (!existing) throw new Error('the sandbox post vanished between insert and read')
      return { post: toPost(existing), created: false }
    },
    async getPost(id) {
      const [row] = await db.select().from(sandboxPosts).where(eq(sandboxPosts.id, id))
      return row && toPost(row)
    },
    async markPostDeleted(id, deletedAt) {
      const [row] = await db
        .update(sandboxPosts)
        .set({
          deletedAt: sql`coalesce(${sandboxPosts.deletedAt}, ${deletedAt.toISOString()}::timestamptz)`,
        })
        .where(eq(sandboxPosts.id, id))
        .returning()
      return row && toPost(row)
    },
    async listPosts(query = {}) {
      const limit = query.limit ?? 100
      const after = query.cursor
        ? await db.select().from(sandboxPosts).where(eq(sandboxPosts.id, query.cursor))
        : []
      const position = after[0]
      const rows = await db
        .select()
        .from(sandboxPosts)
        .where(
          and(
            query.accountId === undefined ? undefined : eq(sandboxPosts.accountId, query.accountId),
            query.idempotencyKey === undefined
              ? undefined
              : eq(sandboxPosts.idempotencyKey, query.idempotencyKey),
            query.includeDeleted ? undefined : isNull(sandboxPosts.deletedAt),
            position
              ? or(
                  lt(sandboxPosts.createdAt, position.createdAt),
                  and(
                    eq(sandboxPosts.createdAt, position.createdAt),
                    lt(sandboxPosts.id, position.id),
                  ),
                )
              : undefined,
          ),
        )
        .orderBy(desc(sandboxPosts.createdAt), desc(sandboxPosts.id))
        .limit(limit + 1)
      const page = rows.slice(0, limit)
      return {
        posts: page.map(toPost),
        nextCursor: rows.length > limit ? page.at(-1)?.id : undefined,
      }
    },
    async putState(key, value, expiresAt) {
      await db
        .insert(sandboxState)
        .values({ key, value, expiresAt: expiresAt ?? null })
        .onConflictDoUpdate({
          target: sandboxState.key,
          set: { value, expiresAt: expiresAt ?? null },
        })
    },
    async getState(key) {
      const [row] = await db
        .select({ value: sandboxState.value })
        .from(sandboxState)
        .where(
          and(
            eq(sandboxState.key, key),
            or(isNull(sandboxState.expiresAt), sql`${sandboxState.expiresAt} > now()`),
          ),
        )
      return row?.value
    },
    async takeState(key) {
      const [row] = await db
        .delete(sandboxState)
        .where(eq(sandboxState.key, key))
        .returning({ value: sandboxState.value, expiresAt: sandboxState.expiresAt })
      if (!row || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) return undefined
      return row.value
    },
  }
}
