import { describe, expect, it } from 'vitest'
import { createMemorySandboxStore, groupDuplicatePosts, type SandboxPost } from './store.ts'

const post = (overrides: Partial<SandboxPost>): SandboxPost => ({
  id: 'p1',
  accountId: 'a1',
  clientId: 'c1',
  idempotencyKey: 'k1',
  attemptId: undefined,
  text: 'hello',
  media: [],
  thread: [],
  firstComment: undefined,
  options: {},
  contentDigest: 'd1',
  createdAt: new Date('2026-01-01T00:00:00Z'),
  deletedAt: undefined,
  ...overrides,
})

describe('createMemorySandboxStore', () => {
  it('records a post once per account and idempotency key', async () => {
    const store = createMemorySandboxStore()
    expect((await store.insertPost(post({ id: 'p1' }))).created).toBe(true)
    const again = await store.insertPost(post({ id: 'p2' }))
    expect(again).toMatchObject({ created: false, post: { id: 'p1' } })
    expect((await store.insertPost(post({ id: 'p3', accountId: 'a2' }))).created).toBe(true)
  })

  it('lists newest first, page by page, without deleted posts unless asked', async () => {
    const store = createMemorySandboxStore()
    for (const day of [1, 2, 3]) {
      await store.insertPost(
        post({
          id: `p${day}`,
          idempotencyKey: `k${day}`,
          createdAt: new Date(Date.UTC(2026, 0, day)),
        }),
      )
    }
    await store.markPostDeleted('p2', new Date())
    const first = await store.listPosts({ limit: 1 })
    expect(first.posts.map((entry) => entry.id)).toEqual(['p3'])
    const second = await store.listPosts({ limit: 1, cursor: first.nextCursor })
    expect(second).toMatchObject({ posts: [{ id: 'p1' }], nextCursor: undefined })
    expect(
      (await store.listPosts({ includeDeleted: true })).posts.map((entry) => entry.id),
    ).toEqual(['p3', 'p2', 'p1'])
  })

  it('does not let callers change stored posts behind its back', async () => {
    const store = createMemorySandboxStore()
    const { post: saved } = await store.insertPost(post({}))
    saved.text = 'changed'
    expect((await store.getPost('p1'))?.text).toBe('hello')
  })

  it('hands out a state value once when taken', async () => {
    const store = createMemorySandboxStore()
    await store.putState('code:x', { user: 'ada' })
    expect(await store.takeState('code:x')).toEqual({ user: 'ada' })
    expect(await store.takeState('code:x')).toBeUndefined()
  })

  it('forgets state once it expires', async () => {
    let now = new Date('2026-01-01T00:00:00Z')
    const store = createMemorySandboxStore({ now: () => now })
    await store.putState('token:x', 1, new Date('2026-01-01T00:10:00Z'))
    expect(await store.getState('token:x')).toBe(1)
    now = new Date('2026-01-01T00:10:00Z')
    expect(await store.getState('token:x')).toBeUndefined()
  })
})

describe('groupDuplicatePosts', () => {
  it('groups live posts with the same content digest', () => {
    const posts = [
      post({ id: 'p1' }),
      post({ id: 'p2', idempotencyKey: 'k2' }),
      post({ id: 'p3', contentDigest: 'other' }),
      post({ id: 'p4', idempotencyKey: 'k4', deletedAt: new Date() }),
    ]
    expect(groupDuplicatePosts(posts).map((group) => group.map((entry) => entry.id))).toEqual([
      ['p1', 'p2'],
    ])
  })
})
