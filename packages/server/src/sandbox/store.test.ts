import type { SandboxPost } from '@post-scheduler/adapter-sandbox'
import { afterAll, describe, expect, it } from 'vitest'
import { createTestDatabase } from '../../test/database.ts'
import { createDatabaseClient } from '../db/client.ts'
import { createPostgresSandboxStore } from './store.ts'

const client = createDatabaseClient(await createTestDatabase(), { max: 4 })
afterAll(client.close)
const store = createPostgresSandboxStore(client.db)

const post = (accountId: string, idempotencyKey: string, text = 'Hello'): SandboxPost => ({
  id: `sbx_post_${crypto.randomUUID()}`,
  accountId,
  clientId: 'client',
  idempotencyKey,
  attemptId: undefined,
  text,
  media: [],
  thread: [],
  firstComment: undefined,
  options: {},
  contentDigest: 'digest',
  createdAt: new Date(),
  deletedAt: undefined,
})

describe('the sandbox platform’s PostgreSQL store under concurrent requests', () => {
  it('creates each post once per idempotency key, answering replays with the first', async () => {
    const first = post('sbx_user_a', 'key-1', 'first')
    const twin = post('sbx_user_a', 'key-1', 'twin')
    const others = Array.from({ length: 10 }, (_, index) => post('sbx_user_a', `key-${index + 2}`))
    const elsewhere = post('sbx_user_b', 'key-1')
    const results = await Promise.all([first, twin, ...others, elsewhere].map(store.insertPost))

    expect(results[0]).toMatchObject({ created: true, post: { id: first.id, text: 'first' } })
    expect(results[1]).toMatchObject({ created: false, post: { id: first.id, text: 'first' } })
    expect(results.slice(2).every((result) => result.created)).toBe(true)
    const replay = await store.insertPost(post('sbx_user_a', 'key-3'))
    expect(replay).toMatchObject({ created: false, post: { id: others[1]?.id } })
  })

  it('finds posts by idempotency key, concurrently, deleted ones included', async () => {
    const made = post('sbx_user_c', 'gone')
    await store.insertPost(made)
    await store.markPostDeleted(made.id, new Date())
    const [found, missing, elsewhere] = await Promise.all([
      store.listPosts({ accountId: 'sbx_user_c', idempotencyKey: 'gone', includeDeleted: true }),
      store.listPosts({ accountId: 'sbx_user_c', idempotencyKey: 'never', includeDeleted: true }),
      store.listPosts({ accountId: 'sbx_user_d', idempotencyKey: 'gone', includeDeleted: true }),
    ])
    expect(found.posts.map((row) => [row.id, row.deletedAt instanceof Date])).toEqual([
      [made.id, true],
    ])
    expect(missing.posts).toEqual([])
    expect(elsewhere.posts).toEqual([])
    const live = await store.listPosts({ accountId: 'sbx_user_c', idempotencyKey: 'gone' })
    expect(live.posts).toEqual([])
  })

  it('reads state concurrently, leaving out absent and expired keys', async () => {
    await store.putState('token:live', { grantId: 'g1' }, new Date(Date.now() + 60_000))
    await store.putState('token:forever', { grantId: 'g2' })
    await store.putState('token:expired', { grantId: 'g3' }, new Date(Date.now() - 1000))
    const values = await Promise.all(
      ['token:live', 'token:forever', 'token:expired', 'token:absent', 'token:live'].map(
        store.getState,
      ),
    )
    expect(values).toEqual([
      { grantId: 'g1' },
      { grantId: 'g2' },
      undefined,
      undefined,
      { grantId: 'g1' },
    ])
  })
})
