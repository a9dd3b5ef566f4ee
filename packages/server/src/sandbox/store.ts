import type { SandboxPost, SandboxStore } from '@post-scheduler/adapter-sandbox'
import { and, desc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm'
import type { Database } from '../db/client.ts'
import { coalesce } from '../db/coalesce.ts'
import { chronological, toPage } from '../db/pagination.ts'
import { anyOf } from '../db/predicates.ts'
import { connectedAccounts, sandboxPosts, sandboxState } from '../db/schema/index.ts'

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

/** A post's idempotency identity: its account and key. */
const identity = (post: { accountId: string; idempotencyKey: string }) =>
  JSON.stringify([post.accountId, post.idempotencyKey])

/**
 * The sandbox platform's store on PostgreSQL, so every API process serves the same sandbox and
 * what it "published" can be listed (and duplicates counted) through the API.
 *
 * What every publish does — read its token and grant, look for an earlier post with its
 * idempotency key, insert the post — is batched across concurrent requests (see `coalesce`), so a
 * busy sandbox costs a few statements per batch rather than four per post.
 */
export function createPostgresSandboxStore(db: Database): SandboxStore {
  const findByKeys = async (wanted: { accountId: string; idempotencyKey: string }[]) => {
    const rows = await db
      .select()
      .from(sandboxPosts)
      .where(
        and(
          // The filters the index on (account, key) is used for; the pairs then match exactly.
          anyOf(
            sandboxPosts.accountId,
            wanted.map((key) => key.accountId),
          ),
          anyOf(
            sandboxPosts.idempotencyKey,
            wanted.map((key) => key.idempotencyKey),
          ),
        ),
      )
    const pairs = new Set(wanted.map(identity))
    return new Map(
      rows.filter((row) => pairs.has(identity(row))).map((row) => [identity(row), row]),
    )
  }
  const insertPosts = coalesce(async (batch: SandboxPost[]) => {
    const created = await db
      .insert(sandboxPosts)
      .values(
        batch.map((post) => ({
          ...post,
          attemptId: post.attemptId ?? null,
          firstComment: post.firstComment ?? null,
          deletedAt: post.deletedAt ?? null,
        })),
      )
      .onConflictDoNothing({ target: [sandboxPosts.accountId, sandboxPosts.idempotencyKey] })
      .returning()
    const ours = new Map(created.map((row) => [row.id, row]))
    const others = batch.filter((post) => !ours.has(post.id))
    const existing = others.length > 0 ? await findByKeys(others) : new Map<string, Row>()
    return batch.map((post) => {
      const mine = ours.get(post.id)
      if (mine) return { post: toPost(mine), created: true }
      const earlier = existing.get(identity(post))
      if (!earlier) throw new Error('the sandbox post vanished between insert and read')
      return { post: toPost(earlier), created: false }
    })
  })
  const findByKey = coalesce(async (wanted: { accountId: string; idempotencyKey: string }[]) => {
    const found = await findByKeys(wanted)
    return wanted.map((key) => found.get(identity(key)))
  })
  const readState = coalesce(async (keys: string[]) => {
    const rows = await db
      .select({ key: sandboxState.key, value: sandboxState.value })
      .from(sandboxState)
      .where(
        and(
          anyOf(sandboxState.key, keys),
          or(isNull(sandboxState.expiresAt), sql`${sandboxState.expiresAt} > now()`),
        ),
      )
    const values = new Map(rows.map((row) => [row.key, row.value]))
    return keys.map((key) => values.get(key))
  })

  return {
    async insertPost(post) {
      return insertPosts(post)
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
      // The platform's replay check on every publish: batched.
      if (query.accountId && query.idempotencyKey && query.includeDeleted && !query.cursor) {
        const found = await findByKey({
          accountId: query.accountId,
          idempotencyKey: query.idempotencyKey,
        })
        return { posts: found ? [toPost(found)] : [], nextCursor: undefined }
      }
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
      return readState(key)
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

/**
 * What reached the sandbox for the accounts a tenant connected (a workspace, or one of its
 * profiles), newest first, and how many live posts were received twice. Sandbox account ids are
 * scoped to the workspace's own sandbox client, so an account id names one workspace's account.
 */
export async function listSandboxPosts(
  db: Database,
  scope: { workspaceId: string; profileId?: string | undefined },
  query: {
    limit: number
    cursor?: string | undefined
    includeDeleted?: 'true' | 'false' | undefined
  },
) {
  const accounts = db
    .select({ id: connectedAccounts.platformAccountId })
    .from(connectedAccounts)
    .where(
      and(
        eq(connectedAccounts.workspaceId, scope.workspaceId),
        eq(connectedAccounts.platform, 'sandbox'),
        scope.profileId === undefined
          ? undefined
          : eq(connectedAccounts.profileId, scope.profileId),
      ),
    )
  const order = chronological(sandboxPosts.createdAt, sandboxPosts.id, query.cursor, 'desc')
  const rows = await db
    .select({ post: sandboxPosts, key: order.key })
    .from(sandboxPosts)
    .where(
      and(
        inArray(sandboxPosts.accountId, accounts),
        query.includeDeleted === 'true' ? undefined : isNull(sandboxPosts.deletedAt),
        order.after,
      ),
    )
    .orderBy(...order.orderBy)
    .limit(query.limit + 1)
  const [duplicates] = await db.execute<{ count: number }>(sql`
    select count(*)::int as count from (
      select 1 from ${sandboxPosts}
      where ${sandboxPosts.accountId} in (${accounts}) and ${sandboxPosts.deletedAt} is null
      group by ${sandboxPosts.contentDigest} having count(*) > 1) twice`)
  return {
    ...toPage(
      rows,
      query.limit,
      (row) => ({ key: row.key, id: row.post.id }),
      ({ post: row }) => ({
        id: row.id,
        accountId: row.accountId,
        text: row.text,
        media: row.media as { id: string; kind: string; mimeType: string; sizeBytes: number }[],
        thread: row.thread as { id: string; text: string }[],
        idempotencyKey: row.idempotencyKey,
        createdAt: row.createdAt.toISOString(),
        deletedAt: row.deletedAt?.toISOString() ?? null,
      }),
    ),
    duplicates: duplicates?.count ?? 0,
  }
}
