/** A media file the sandbox received, without its bytes (they are discarded). */
export interface SandboxMedia {
  id: string
  kind: 'image' | 'video' | 'gif' | 'document'
  mimeType: string
  sizeBytes: number
}

/** What the sandbox "published": exactly what reached the platform. */
export interface SandboxPost {
  /** The sandbox's id of the post (`platformPostId`). */
  id: string
  accountId: string
  /** The OAuth client that published it. */
  clientId: string
  /** The client's idempotency key; a second publish with the same key replays this post. */
  idempotencyKey: string
  /** The attempt that created it, as the adapter sent it. */
  attemptId: string | undefined
  text: string
  media: SandboxMedia[]
  thread: { id: string; text: string }[]
  firstComment: { id: string; text: string } | undefined
  options: Record<string, unknown>
  /**
   * SHA-256 (hex) of the account and content. Two live posts with the same digest are the same
   * post published twice: what `groupDuplicatePosts` counts.
   */
  contentDigest: string
  createdAt: Date
  deletedAt: Date | undefined
}

/** Filters of {@link SandboxStore.listPosts}. */
export interface SandboxPostQuery {
  accountId?: string
  idempotencyKey?: string
  /** Include deleted posts. Defaults to false. */
  includeDeleted?: boolean
  /** At most this many, newest first. Defaults to 100. */
  limit?: number
  /** The `nextCursor` of the previous page. */
  cursor?: string
}

/**
 * Where the sandbox platform keeps what it published and its small OAuth/upload state. The
 * package ships {@link createMemorySandboxStore}; the server implements it on PostgreSQL so that
 * several API processes share one sandbox and tests can list what reached the "platform".
 *
 * Every method must be atomic on its own; the platform never needs a transaction across calls.
 */
export interface SandboxStore {
  /**
   * Records a post unless one with the same `accountId` and `idempotencyKey` exists, in which
   * case it returns that one and `created: false` (a unique constraint on both columns).
   */
  insertPost(post: SandboxPost): Promise<{ post: SandboxPost; created: boolean }>
  getPost(id: string): Promise<SandboxPost | undefined>
  /** Sets `deletedAt` if unset; returns the post, or `undefined` if there is none. */
  markPostDeleted(id: string, deletedAt: Date): Promise<SandboxPost | undefined>
  /** Posts newest first (by `createdAt`, then `id`), paginated by an opaque cursor. */
  listPosts(
    query?: SandboxPostQuery,
  ): Promise<{ posts: SandboxPost[]; nextCursor: string | undefined }>
  /** Saves a JSON value under a key (OAuth codes, tokens, grants, uploads), replacing any. */
  putState(key: string, value: unknown, expiresAt?: Date): Promise<void>
  /** The value under a key, unless absent or expired. */
  getState(key: string): Promise<unknown>
  /** Removes and returns the value under a key in one step, so a code can be used only once. */
  takeState(key: string): Promise<unknown>
}

/**
 * A {@link SandboxStore} in memory: for tests, demos and single-process runs. Everything is lost
 * when the process exits.
 *
 * @example
 * ```ts
 * const store = createMemorySandboxStore()
 * const platform = createSandboxPlatform({ store })
 * const { posts } = await store.listPosts({ accountId: 'sbx_user_ada' })
 * ```
 */
export function createMemorySandboxStore(options: { now?: () => Date } = {}): SandboxStore {
  const now = options.now ?? (() => new Date())
  const posts = new Map<string, SandboxPost>()
  const state = new Map<string, { value: string; expiresAt: number | undefined }>()
  const live = (key: string) => {
    const entry = state.get(key)
    if (!entry) return undefined
    if (entry.expiresAt !== undefined && entry.expiresAt <= now().getTime()) {
      state.delete(key)
      return undefined
    }
    return entry
  }
  // Copies in and out, so callers cannot change stored posts behind its back, as with a database.
  const copy = (post: SandboxPost): SandboxPost => structuredClone(post)

  return {
    async insertPost(post) {
      for (const existing of posts.values()) {
        if (
          existing.accountId === post.accountId &&
          existing.idempotencyKey === post.idempotencyKey
        ) {
          return { post: copy(existing), created: false }
        }
      }
      posts.set(post.id, copy(post))
      return { post: copy(post), created: true }
    },
    async getPost(id) {
      const post = posts.get(id)
      return post && copy(post)
    },
    async markPostDeleted(id, deletedAt) {
      const post = posts.get(id)
      if (!post) return undefined
      post.deletedAt ??= deletedAt
      return copy(post)
    },
    async listPosts(query = {}) {
      const limit = query.limit ?? 100
      const sorted = [...posts.values()]
        .filter(
          (post) =>
            (query.accountId === undefined || post.accountId === query.accountId) &&
            (query.idempotencyKey === undefined || post.idempotencyKey === query.idempotencyKey) &&
            (query.includeDeleted || post.deletedAt === undefined),
        )
        .sort(
          (a, b) =>
            b.createdAt.getTime() - a.createdAt.getTime() ||
            (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
        )
      const start = query.cursor ? sorted.findIndex((post) => post.id === query.cursor) + 1 : 0
      const page = sorted.slice(start, start + limit)
      const last = page.at(-1)
      return {
        posts: page.map(copy),
        nextCursor: last && start + limit < sorted.length ? last.id : undefined,
      }
    },
    async putState(key, value, expiresAt) {
      state.set(key, { value: JSON.stringify(value), expiresAt: expiresAt?.getTime() })
    },
    async getState(key) {
      const entry = live(key)
      return entry && JSON.parse(entry.value)
    },
    async takeState(key) {
      const entry = live(key)
      state.delete(key)
      return entry && JSON.parse(entry.value)
    },
  }
}

/**
 * Groups live posts published twice: same account, same content. An empty result means no
 * duplicates reached the sandbox.
 *
 * @example
 * ```ts
 * const { posts } = await store.listPosts()
 * expect(groupDuplicatePosts(posts)).toEqual([])
 * ```
 */
export function groupDuplicatePosts(posts: SandboxPost[]): SandboxPost[][] {
  const groups = new Map<string, SandboxPost[]>()
  for (const post of posts) {
    if (post.deletedAt) continue
    const group = groups.get(post.contentDigest) ?? []
    group.push(post)
    groups.set(post.contentDigest, group)
  }
  return [...groups.values()].filter((group) => group.length > 1)
}
