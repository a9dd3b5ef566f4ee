import { describe, expect, it } from 'vitest'
import { expectPublished, photo, publishParams, useFacebook } from '../test/harness.ts'

const facebook = useFacebook()

describe('a publish whose answer was lost', () => {
  it('is found among the Page’s published posts, and a retry returns it without posting twice', async () => {
    const { adapter, call } = await facebook.connect()
    const injected = facebook.emulator.injectFault('publish', { kind: 'outcome_unknown' })
    const controller = new AbortController()
    void injected.committed?.then(() => controller.abort(new Error('worker gave up')))
    const first = publishParams(call, { text: 'Lost answer', media: [photo(1), photo(2)] })
    await expect(
      adapter.publish(first.params, { signal: controller.signal }),
    ).rejects.toMatchObject({
      code: 'OUTCOME_UNKNOWN',
    })

    const found = await adapter.lookUpPublication({
      ...call,
      attemptId: first.params.attemptId,
      handles: first.handles(),
    })
    const [made] = facebook.emulator.posts()
    expect(found).toEqual({
      status: 'published',
      platformPostId: made?.id,
      url: expect.stringContaining('https://www.facebook.com/'),
    })

    const retry = publishParams(call, first.params.post, { handles: first.handles() })
    expect(expectPublished(await adapter.publish(retry.params)).platformPostId).toBe(made?.id)
    expect(await facebook.emulator.countPosts(call.accountId)).toBe(1)
  })

  it('answers unknown, never not_found, when the post is not listed', async () => {
    const { adapter, call } = await facebook.connect()
    const found = await adapter.lookUpPublication({
      ...call,
      attemptId: 'attempt-1',
      handles: { sentAt: new Date().toISOString(), textDigest: 'ab'.repeat(32) },
    })
    expect(found).toMatchObject({ status: 'unknown', retryAfterSeconds: expect.any(Number) })
  })

  it('does not take an older post with the same text for this attempt', async () => {
    const { adapter, call } = await facebook.connect()
    const { params, handles } = publishParams(call, { text: 'Same words' })
    await adapter.publish(params)
    const later = { ...handles(), sentAt: new Date(Date.now() + 3_600_000).toISOString() }
    const found = await adapter.lookUpPublication({ ...call, attemptId: 'a', handles: later })
    expect(found.status).toBe('unknown')
  })

  it('answers not_found when the feed call was never sent', async () => {
    const { adapter, call } = await facebook.connect()
    const found = await adapter.lookUpPublication({
      ...call,
      attemptId: 'attempt-1',
      handles: { 'photo.0': '123' },
    })
    expect(found).toEqual({ status: 'not_found' })
  })
})
