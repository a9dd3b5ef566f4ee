import type { PublicationHandles } from '@post-scheduler/adapter-core'
import { describe, expect, it } from 'vitest'
import { attempt, rejection, useLinkedIn } from '../test/harness.ts'
import type { LinkedInConfig } from './linkedin.ts'

describe('exactly once on LinkedIn: a lost answer, then the look-up', () => {
  const linkedIn = useLinkedIn()

  async function loseAnswer(
    config: Partial<LinkedInConfig> = {},
    kind: 'organization' | 'personal' = 'organization',
  ) {
    const connected = await linkedIn.connect(config)
    const call = connected.account(kind)
    const committed = linkedIn.emulator.hangAfterNextPost()
    const controller = new AbortController()
    void committed.then(() => controller.abort(new Error('worker gave up')))
    const first = attempt(call, { text: `Lost answer ${crypto.randomUUID()}` })
    const error = await rejection(
      connected.adapter.publish(first.params, { signal: controller.signal }),
    )
    expect(error.code).toBe('OUTCOME_UNKNOWN')
    return { ...connected, call, first }
  }

  it("finds the post among the page's recent posts, and a retry returns it without posting again", async () => {
    const { adapter, call, first } = await loseAnswer()
    const found = await adapter.lookUpPublication({
      ...call,
      attemptId: first.params.attemptId,
      handles: first.handles(),
    })
    const [post] = linkedIn.emulator.posts()
    expect(found).toEqual({
      status: 'published',
      platformPostId: post?.id,
      url: `https://www.linkedin.com/feed/update/${post?.id}/`,
    })
    const [finder] = linkedIn.emulator.requests.find('GET', '/rest/posts')
    expect(finder?.headers.get('x-restli-method')).toBe('FINDER')
    expect(finder?.url.searchParams.get('author')).toBe(call.accountId)

    const retry = await adapter.publish(
      attempt(call, first.params.post, { handles: first.handles() }).params,
    )
    expect(retry.platformPostId).toBe(post?.id)
    expect(await linkedIn.emulator.countPosts(call.accountId)).toBe(1)
  })

  it('matches escaped commentary back to the text that was written', async () => {
    const connected = await linkedIn.connect()
    const call = connected.account('organization')
    void linkedIn.emulator.hangAfterNextPost()
    const first = attempt(call, { text: 'Q&A (live) #ask @us' })
    await rejection(connected.adapter.publish(first.params, { timeoutMs: 200 }))
    const found = await connected.adapter.lookUpPublication({
      ...call,
      attemptId: first.params.attemptId,
      handles: first.handles(),
    })
    expect(found.status).toBe('published')
  })

  it('answers not_found only once the window is read and LinkedIn had time to list the post', async () => {
    const { adapter, account } = await linkedIn.connect({ lookUp: { settleSeconds: 120 } })
    const call = account('organization')
    await adapter.publish(attempt(call, { text: 'An older post' }).params)
    linkedIn.emulator.fail('publish', 'unavailable')
    const first = attempt(call, { text: 'Refused' })
    await rejection(adapter.publish(first.params))
    const lookUp = () =>
      adapter.lookUpPublication({
        ...call,
        attemptId: first.params.attemptId,
        handles: first.handles(),
      })

    expect(await lookUp()).toEqual({
      status: 'unknown',
      reason: expect.any(String),
      retryAfterSeconds: 120,
    })
    linkedIn.emulator.clock.advance(120)
    expect(await lookUp()).toEqual({ status: 'not_found' })
  })

  it('does not post again on a retry while LinkedIn may still be listing the earlier post', async () => {
    const { adapter, account } = await linkedIn.connect({ lookUp: { settleSeconds: 120 } })
    const call = account('organization')
    linkedIn.emulator.fail('publish', 'server_error')
    const first = attempt(call, { text: 'Answered 500' })
    expect((await rejection(adapter.publish(first.params))).code).toBe('OUTCOME_UNKNOWN')
    const retry = () =>
      adapter.publish(attempt(call, first.params.post, { handles: first.handles() }).params)

    expect((await rejection(retry())).code).toBe('OUTCOME_UNKNOWN')
    expect(linkedIn.emulator.requests.find('POST', '/rest/posts')).toHaveLength(1)
    linkedIn.emulator.clock.advance(120)
    await retry()
    expect(await linkedIn.emulator.countPosts(call.accountId)).toBe(1)
  })

  it('does not take an identical post from before the attempt for the attempt', async () => {
    const { adapter, account } = await linkedIn.connect({
      lookUp: { settleSeconds: 0, clockSkewSeconds: 60 },
    })
    const call = account('organization')
    await adapter.publish(attempt(call, { text: 'Weekly update' }).params)
    linkedIn.emulator.clock.advance(3600)
    const handles: PublicationHandles = {
      ...(await handlesFor(call, 'Weekly update')),
      sentAt: linkedIn.emulator.clock.now().toISOString(),
    }
    expect(await adapter.lookUpPublication({ ...call, attemptId: 'a', handles })).toEqual({
      status: 'not_found',
    })
  })

  it('answers unknown when the window runs past the pages it may read', async () => {
    const { adapter, account } = await linkedIn.connect({
      lookUp: { settleSeconds: 0, pageSize: 2, maxPages: 2 },
    })
    const call = account('organization')
    const handles = await handlesFor(call, 'Never posted')
    for (const index of [1, 2, 3, 4, 5]) {
      await adapter.publish(attempt(call, { text: `Other ${index}` }).params)
    }
    const found = await adapter.lookUpPublication({ ...call, attemptId: 'a', handles })
    expect(found).toMatchObject({ status: 'unknown' })
    expect(linkedIn.emulator.requests.find('GET', '/rest/posts')).toHaveLength(2)
  })

  it('knows without asking that an attempt with no checkpointed send never posted', async () => {
    const { adapter, member } = await linkedIn.connect()
    linkedIn.emulator.requests.clear()
    expect(
      await adapter.lookUpPublication({
        ...member,
        attemptId: 'a',
        handles: { 'media:m': 'urn:li:image:1' },
      }),
    ).toEqual({ status: 'not_found' })
    expect(linkedIn.emulator.requests.list()).toEqual([])
  })

  it('answers unknown for a member, whose posts apps may not read, without spending a call', async () => {
    const { adapter, call, first } = await loseAnswer({}, 'personal')
    linkedIn.emulator.requests.clear()
    const found = await adapter.lookUpPublication({
      ...call,
      attemptId: first.params.attemptId,
      handles: first.handles(),
    })
    expect(found).toMatchObject({
      status: 'unknown',
      reason: expect.stringContaining('r_member_social'),
    })
    expect(linkedIn.emulator.requests.list()).toEqual([])
  })

  it('answers unknown when LinkedIn refuses to list the posts', async () => {
    const { adapter, call, first } = await loseAnswer({ memberPostsReadable: true }, 'personal')
    const found = await adapter.lookUpPublication({
      ...call,
      attemptId: first.params.attemptId,
      handles: first.handles(),
    })
    expect(found).toMatchObject({ status: 'unknown' })
    expect(linkedIn.emulator.requests.find('GET', '/rest/posts')).toHaveLength(1)
  })

  it("resolves a member's retry through LinkedIn's duplicate refusal, which names the post", async () => {
    const { adapter, call, first } = await loseAnswer({}, 'personal')
    const retry = await adapter.publish(
      attempt(call, first.params.post, { handles: first.handles() }).params,
    )
    const [post] = linkedIn.emulator.posts()
    expect(retry).toEqual({
      platformPostId: post?.id,
      url: `https://www.linkedin.com/feed/update/${post?.id}/`,
    })
    expect(await linkedIn.emulator.countPosts(call.accountId)).toBe(1)
  })

  async function handlesFor(call: { accessToken: string; accountId: string }, text: string) {
    // The handles a publish checkpoints, from an attempt stopped right after its checkpoint.
    const stop = new Error('stop before sending')
    const run = attempt(
      call,
      { text },
      {
        checkpoint: async (handles) => {
          captured = handles
          throw stop
        },
      },
    )
    let captured: PublicationHandles = {}
    await expect(linkedIn.adapter().publish(run.params)).rejects.toBe(stop)
    return captured
  }
})
