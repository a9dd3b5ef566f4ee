import {
  isProcessing,
  type PublicationHandles,
  type PublishedPost,
  type PublishParams,
  type PublishResult,
} from '@post-scheduler/adapter-core'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { graphSpec, jpeg, mp4 } from '../test/harness.ts'
import { createInstagramEmulator, type InstagramEmulatorOptions } from '../testing/emulator.ts'
import { readRegainAccessSeconds } from './http.ts'
import { type InstagramConfig, instagram } from './instagram.ts'

const redirectURI = 'https://app.test/v1/oauth/instagram/callback'
const app = { clientId: 'app-id', clientSecret: 'app-secret' }
const server = setupServer()
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterAll(() => server.close())

async function setUp(
  emulatorOptions: InstagramEmulatorOptions = {},
  config: Partial<InstagramConfig> = {},
) {
  const emulator = createInstagramEmulator({
    ...app,
    redirectURIs: [redirectURI],
    graph: graphSpec,
    ...emulatorOptions,
  })
  server.resetHandlers(...emulator.handlers)
  const adapter = instagram({
    ...app,
    redirectURI,
    now: emulator.clock.now,
    containerPolling: { intervalMs: 0 },
    ...config,
  })
  const codeVerifier = 'v'.repeat(43)
  const { code } = await emulator.approve(
    adapter.createAuthorizationURL({ state: 's', codeVerifier }),
  )
  const tokens = await adapter.validateAuthorizationCode({ code, codeVerifier })
  const [account] = await adapter.listAccounts({ accessToken: tokens.accessToken })
  if (!account) throw new Error('no account')
  const call = { accessToken: tokens.accessToken, accountId: account.id }
  return { emulator, adapter, tokens, account, call }
}

function attempt(
  call: { accessToken: string; accountId: string },
  post: PublishParams['post'],
  extra: Partial<PublishParams> = {},
) {
  const saved: PublicationHandles[] = []
  const params: PublishParams = {
    ...call,
    attemptId: crypto.randomUUID(),
    post,
    checkpoint: async (handles) => {
      saved.push(handles)
    },
    ...extra,
  }
  return { params, saved, handles: (): PublicationHandles => Object.assign({}, ...saved) }
}

function published(result: PublishResult): PublishedPost {
  if (isProcessing(result)) throw new Error('expected a published post, not processing')
  return result
}

async function rejection(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error as Record<string, unknown>,
  )
}

describe('Instagram Login', () => {
  it.each(['wrapped', 'flat'] as const)(
    'reads the short-lived token answer %s, and exchanges it for a long-lived one',
    async (shortTokenShape) => {
      const { emulator, tokens, account } = await setUp({ shortTokenShape })
      expect(account).toMatchObject({ id: emulator.accountId, username: 'emulated_brand' })
      expect(tokens.refreshToken).toBe(tokens.accessToken)
      const days =
        ((tokens.accessTokenExpiresAt?.getTime() ?? 0) - emulator.clock.now().getTime()) /
        86_400_000
      expect(days).toBeGreaterThan(59)
      const exchange = emulator.requests.find('GET', '/v23.0/access_token')[0]
      expect(exchange?.url.searchParams.get('grant_type')).toBe('ig_exchange_token')
    },
  )

  it('refreshes a long-lived token a day old with ig_refresh_token', async () => {
    const { emulator, adapter, tokens } = await setUp()
    emulator.clock.advance(25 * 3600 * 1000)
    const refreshed = await adapter.refreshAccessToken?.({
      refreshToken: tokens.refreshToken ?? '',
    })
    expect(refreshed?.accessToken).not.toBe(tokens.accessToken)
    expect(await adapter.listAccounts({ accessToken: refreshed?.accessToken ?? '' })).toHaveLength(
      1,
    )
    expect(
      emulator.requests
        .find('GET', '/v23.0/refresh_access_token')[0]
        ?.url.searchParams.get('grant_type'),
    ).toBe('ig_refresh_token')
  })

  it('publishes on graph.instagram.com and offers no delete', async () => {
    const { emulator, adapter, call } = await setUp()
    expect('deletePost' in adapter).toBe(false)
    expect(adapter.capabilities.features.deletePost).toBe(false)
    const post = published(
      await adapter.publish(attempt(call, { text: 'Hello', media: [jpeg(1)] }).params),
    )
    expect(post.url).toMatch(/^https:\/\/www\.instagram\.com\/p\//)
    expect(
      emulator.requests.list().every((request) => request.url.hostname !== 'graph.facebook.com'),
    ).toBe(true)
  })
})

describe('Facebook Login', () => {
  it('lists only the business accounts linked to a Page', async () => {
    const { adapter, tokens, emulator } = await setUp({}, { login: 'facebook' })
    expect(await adapter.listAccounts({ accessToken: tokens.accessToken })).toEqual([
      expect.objectContaining({
        id: emulator.accountId,
        kind: 'business',
        username: 'emulated_brand',
      }),
    ])
  })
})

describe('publish', () => {
  it('sends a carousel with alt text, collaborators and a first comment', async () => {
    const { emulator, adapter, call } = await setUp({}, { login: 'facebook' })
    const post = {
      text: 'Three views #travel',
      media: [jpeg(1, { altText: 'A lake' }), jpeg(2), jpeg(3, { altText: 'A hill' })],
      firstComment: 'More soon',
      options: { collaborators: ['a_friend'] },
    }
    const result = published(await adapter.publish(attempt(call, post).params))
    expect(result.firstCommentId).toBeDefined()
    expect(emulator.media()).toEqual([
      expect.objectContaining({
        mediaType: 'CAROUSEL_ALBUM',
        caption: 'Three views #travel',
        altTexts: ['A lake', 'A hill'],
        collaborators: ['a_friend'],
        comments: ['More soon'],
      }),
    ])
  })

  it('publishes an image story without a caption', async () => {
    const { emulator, adapter, call } = await setUp()
    await adapter.publish(
      attempt(call, { text: '', media: [jpeg(1)], options: { placement: 'story' } }).params,
    )
    expect(emulator.media()).toEqual([
      expect.objectContaining({ productType: 'STORY', caption: '' }),
    ])
  })

  it('saves the container id before media_publish, and polls until the container is finished', async () => {
    const { emulator, adapter, call } = await setUp({ containerReadsInProgress: 2 })
    const run = attempt(call, { text: 'Hello', media: [jpeg(1)] })
    await adapter.publish(run.params)
    expect(run.saved).toEqual([expect.objectContaining({ containerId: expect.any(String) })])
    const containerId = run.handles().containerId ?? ''
    expect(
      emulator.requests
        .list()
        .filter((request) => request.url.pathname.endsWith(`/${containerId}`)),
    ).toHaveLength(3)
  })

  it('answers processing for an image container still in progress, and the check publishes it', async () => {
    const { emulator, adapter, call } = await setUp(
      { containerReadsInProgress: 2 },
      { containerPolling: { attempts: 2, intervalMs: 0 } },
    )
    const run = attempt(call, { text: 'Slow', media: [jpeg(1)] })
    const result = await adapter.publish(run.params)
    expect(result).toEqual({
      status: 'processing',
      handles: run.handles(),
      checkAfterSeconds: 60,
      maxWaitSeconds: 300,
    })
    expect(emulator.media()).toHaveLength(0)
    expect(await adapter.checkPublication?.({ ...call, handles: run.handles() })).toMatchObject({
      status: 'published',
      platformPostId: emulator.media()[0]?.id,
    })
    expect(emulator.media()).toHaveLength(1)
    expect(emulator.requests.find('POST', `/v23.0/${call.accountId}/media`)).toHaveLength(1)
  })

  it('reads the quota from content_publishing_limit and stops before media_publish when it is used up', async () => {
    const { emulator, adapter, call } = await setUp({ quotaTotal: 1 })
    await adapter.publish(attempt(call, { text: 'First', media: [jpeg(1)] }).params)
    const error = await rejection(
      adapter.publish(attempt(call, { text: 'Second', media: [jpeg(2)] }).params),
    )
    expect(error).toMatchObject({ code: 'RATE_LIMITED' })
    expect(String(error.message)).toContain('1 of 1')
    expect(emulator.requests.find('POST', `/v23.0/${call.accountId}/media_publish`)).toHaveLength(1)
  })

  it('refuses a video longer than 15 minutes before calling Instagram', async () => {
    const { emulator, adapter, call } = await setUp()
    emulator.requests.clear()
    const error = await rejection(
      adapter.publish(
        attempt(call, { text: 'Reel', media: [mp4(1, { durationSeconds: 901 })] }).params,
      ),
    )
    expect(error.code).toBe('CONTENT_REJECTED')
    expect(emulator.requests.list()).toHaveLength(0)
  })
})

describe('video', () => {
  const minutes = (count: number) => count * 60_000
  const containerOf = (handles: PublicationHandles) => handles.containerId ?? ''

  it('publishes a reel: processing with its container saved, then published by checkPublication once Instagram has processed it', async () => {
    const { emulator, adapter, call } = await setUp({ videoProcessingSeconds: 150 })
    const run = attempt(call, {
      text: 'A reel #motion',
      media: [mp4(1)],
      firstComment: 'Sound on',
      options: { collaborators: ['a_friend'] },
    })
    const result = await adapter.publish(run.params)
    expect(result).toMatchObject({ status: 'processing', checkAfterSeconds: 60 })
    if (!isProcessing(result)) throw new Error('unreachable: checked above')
    expect(run.saved).toEqual([expect.objectContaining({ containerId: expect.any(String) })])
    expect(result.handles).toEqual(run.handles())
    const [create] = emulator.requests.find('POST', `/v23.0/${call.accountId}/media`)
    expect(Object.fromEntries(new URLSearchParams(create?.bodyText))).toMatchObject({
      media_type: 'REELS',
      video_url: 'https://media.app.test/video-1.mp4',
      caption: 'A reel #motion',
    })

    const check = () => adapter.checkPublication?.({ ...call, handles: result.handles })
    expect(await check()).toEqual({ status: 'processing', checkAfterSeconds: 60 })
    emulator.clock.advance(minutes(3))
    const done = await check()
    const [reel] = emulator.media()
    expect(done).toEqual({
      status: 'published',
      platformPostId: reel?.id,
      url: reel?.permalink,
      firstCommentId: expect.any(String),
    })
    expect(reel).toMatchObject({
      productType: 'REELS',
      mediaType: 'VIDEO',
      collaborators: ['a_friend'],
      comments: ['Sound on'],
    })
    expect(emulator.requests.find('POST', `/v23.0/${call.accountId}/media_publish`)).toHaveLength(1)
  })

  it('publishes a video story and a carousel mixing images and videos', async () => {
    const { emulator, adapter, call } = await setUp()
    const story = await adapter.publish(
      attempt(call, { text: '', media: [mp4(1)], options: { placement: 'story' } }).params,
    )
    const carousel = await adapter.publish(
      attempt(call, { text: 'Mixed', media: [jpeg(2, { altText: 'A lake' }), mp4(3)] }).params,
    )
    expect([story, carousel]).toEqual([
      expect.objectContaining({ status: 'processing' }),
      expect.objectContaining({ status: 'processing' }),
    ])
    if (!isProcessing(story) || !isProcessing(carousel)) throw new Error('unreachable')
    const items = emulator.requests
      .find('POST', `/v23.0/${call.accountId}/media`)
      .map((request) => Object.fromEntries(new URLSearchParams(request.bodyText)))
    expect(items).toEqual([
      { access_token: call.accessToken, media_type: 'STORIES', video_url: expect.any(String) },
      expect.objectContaining({ image_url: expect.any(String), alt_text: 'A lake' }),
      expect.objectContaining({ media_type: 'VIDEO', is_carousel_item: 'true' }),
      expect.objectContaining({ media_type: 'CAROUSEL', caption: 'Mixed' }),
    ])
    emulator.finishContainer(containerOf(story.handles))
    emulator.finishContainer(containerOf(carousel.handles))
    for (const result of [story, carousel]) {
      expect(await adapter.checkPublication?.({ ...call, handles: result.handles })).toMatchObject({
        status: 'published',
      })
    }
    expect(emulator.media()).toEqual([
      expect.objectContaining({ productType: 'STORY', mediaType: 'VIDEO' }),
      expect.objectContaining({
        productType: 'FEED',
        mediaType: 'CAROUSEL_ALBUM',
        altTexts: ['A lake'],
      }),
    ])
  })

  it.each([
    ['Error: 2207026', 'CONTENT_REJECTED', { platformCode: '2207026' }],
    ['Error: 2207003', 'PLATFORM_UNAVAILABLE', {}],
  ] as const)(
    'ends failed when the container reads ERROR (%s), classified as %s',
    async (statusText, code, fields) => {
      const { emulator, adapter, call } = await setUp()
      const result = await adapter.publish(attempt(call, { text: 'R', media: [mp4(1)] }).params)
      if (!isProcessing(result)) throw new Error('expected processing')
      emulator.failContainer(containerOf(result.handles), statusText)
      const ended = await adapter.checkPublication?.({ ...call, handles: result.handles })
      expect(ended?.status).toBe('failed')
      if (ended?.status !== 'failed') throw new Error('unreachable: checked above')
      expect(ended.error).toMatchObject({ code, ...fields })
      expect(ended.error.message).toContain(statusText)
      expect(await emulator.countPosts(call.accountId)).toBe(0)
    },
  )

  it('ends failed when the container expired after 24 hours, and never asks to wait past that', async () => {
    const { emulator, adapter, call } = await setUp({ videoProcessingSeconds: 2 * 86_400 })
    const result = await adapter.publish(attempt(call, { text: 'R', media: [mp4(1)] }).params)
    if (!isProcessing(result)) throw new Error('expected processing')
    emulator.clock.advance(minutes(24 * 60 - 2))
    expect(
      await adapter.lookUpPublication({ ...call, attemptId: 'a', handles: result.handles }),
    ).toMatchObject({ status: 'processing', maxWaitSeconds: 120 })
    emulator.clock.advance(minutes(3))
    const ended = await adapter.checkPublication?.({ ...call, handles: result.handles })
    expect(ended).toMatchObject({ status: 'failed', error: { code: 'PLATFORM_UNAVAILABLE' } })
  })

  it('finds the post of a FINISHED container whose media_publish answer was lost, and never posts it twice', async () => {
    const { emulator, adapter, call } = await setUp({}, { login: 'facebook' })
    const run = attempt(call, { text: 'Lost reel', media: [mp4(1)] })
    const result = await adapter.publish(run.params)
    if (!isProcessing(result)) throw new Error('expected processing')
    emulator.clock.advance(minutes(2))
    const committed = emulator.injectFault('publish', { kind: 'outcome_unknown' }).committed
    const controller = new AbortController()
    void committed?.then(() => controller.abort(new Error('worker killed')))
    const lost = await rejection(
      Promise.resolve(
        adapter.checkPublication?.(
          { ...call, handles: result.handles },
          { signal: controller.signal },
        ),
      ),
    )
    expect(lost.code).toBe('OUTCOME_UNKNOWN')

    const [made] = emulator.media()
    const found = await adapter.lookUpPublication({
      ...call,
      attemptId: run.params.attemptId,
      handles: result.handles,
    })
    expect(found).toEqual({ status: 'published', platformPostId: made?.id, url: made?.permalink })
    expect(await adapter.checkPublication?.({ ...call, handles: result.handles })).toMatchObject({
      status: 'published',
      platformPostId: made?.id,
    })
    expect(await emulator.countPosts(call.accountId)).toBe(1)
    expect(emulator.requests.find('POST', `/v23.0/${call.accountId}/media_publish`)).toHaveLength(1)
  })
})

describe('a lost media_publish answer', () => {
  async function lose(caption: string, setUpOptions: InstagramEmulatorOptions = {}) {
    const context = await setUp(setUpOptions, { login: 'facebook' })
    const committed = context.emulator.injectFault('publish', { kind: 'outcome_unknown' }).committed
    const controller = new AbortController()
    void committed?.then(() => controller.abort(new Error('worker killed')))
    const run = attempt(context.call, { text: caption, media: [jpeg(1)] })
    const error = await rejection(
      context.adapter.publish(run.params, { signal: controller.signal }),
    )
    expect(error.code).toBe('OUTCOME_UNKNOWN')
    return { ...context, run }
  }

  it('is found among the recent media, and the retry records it without posting again', async () => {
    const { emulator, adapter, call, run } = await lose('Lost answer')
    const found = await adapter.lookUpPublication({
      ...call,
      attemptId: run.params.attemptId,
      handles: run.handles(),
    })
    const [made] = emulator.media()
    expect(found).toEqual({ status: 'published', platformPostId: made?.id, url: made?.permalink })
    const retried = published(
      await adapter.publish(attempt(call, run.params.post, { handles: run.handles() }).params),
    )
    expect(retried.platformPostId).toBe(made?.id)
    expect(await emulator.countPosts(call.accountId)).toBe(1)
  })

  it('answers unknown, never not_found, when the published container’s post cannot be told apart', async () => {
    const { emulator, adapter, call, run } = await lose('Same caption')
    // Another post with the same caption since the container was made: two candidates.
    await adapter.publish(attempt(call, { text: 'Same caption', media: [jpeg(2)] }).params)
    const found = await adapter.lookUpPublication({
      ...call,
      attemptId: run.params.attemptId,
      handles: run.handles(),
    })
    expect(found).toMatchObject({ status: 'unknown', retryAfterSeconds: 60 })
    expect(await emulator.countPosts(call.accountId)).toBe(2)
  })

  it('answers not_found for a container that was never published', async () => {
    const { emulator, adapter, call } = await setUp()
    emulator.injectFault('publish', { kind: 'rate_limited', retryAfterSeconds: 300 })
    const run = attempt(call, { text: 'Hi', media: [jpeg(1), jpeg(2)] })
    await rejection(adapter.publish(run.params))
    expect(
      await adapter.lookUpPublication({
        ...call,
        attemptId: run.params.attemptId,
        handles: run.handles(),
      }),
    ).toEqual({
      status: 'not_found',
    })
  })
})

describe('Graph errors', () => {
  it('reads the wait of a throttled call from X-Business-Use-Case-Usage, in minutes', () => {
    const headers = new Headers({
      'x-business-use-case-usage': JSON.stringify({
        '1': [{ type: 'instagram', estimated_time_to_regain_access: 5 }],
        '2': [{ type: 'instagram', estimated_time_to_regain_access: 2 }],
      }),
    })
    expect(readRegainAccessSeconds(headers)).toBe(300)
    expect(readRegainAccessSeconds(new Headers())).toBeUndefined()
  })

  it('turns the quota error 9/2207042 from media_publish into RATE_LIMITED', async () => {
    const { emulator, adapter, call } = await setUp()
    emulator.faults.inject(
      { method: 'POST', path: /\/media_publish$/ },
      {
        kind: 'response',
        status: 400,
        body: {
          error: {
            message: 'Application request limit reached',
            type: 'OAuthException',
            code: 9,
            error_subcode: 2207042,
          },
        },
      },
    )
    const error = await rejection(
      adapter.publish(attempt(call, { text: 'Hi', media: [jpeg(1)] }).params),
    )
    expect(error).toMatchObject({ code: 'RATE_LIMITED', scope: 'account' })
  })
})

describe('the spec-checked emulator', () => {
  async function post(
    params: Record<string, string>,
    emulatorOptions: InstagramEmulatorOptions = {},
  ) {
    const { call } = await setUp(emulatorOptions, { login: 'facebook' })
    const response = await fetch(`https://graph.facebook.com/v23.0/${call.accountId}/media`, {
      method: 'POST',
      body: new URLSearchParams({
        access_token: call.accessToken,
        image_url: 'https://media.app.test/a.jpg',
        ...params,
      }),
    })
    return {
      status: response.status,
      body: (await response.json()) as { error?: { code: number; message: string } },
    }
  }

  it('refuses a misspelt parameter with Graph’s error 100', async () => {
    const { status, body } = await post({ captoin: 'Hello' })
    expect(status).toBe(400)
    expect(body.error).toMatchObject({
      code: 100,
      message: expect.stringMatching(/captoin.*did you mean caption/),
    })
  })

  it('refuses a media_type outside the documented values', async () => {
    const { status, body } = await post({ media_type: 'VIDEOS' })
    expect(status).toBe(400)
    expect(body.error).toMatchObject({ code: 100, message: expect.stringContaining('media_type') })
  })

  it('accepts the same request spelt right', async () => {
    expect((await post({ caption: 'Hello' })).status).toBe(200)
  })

  it('takes a video alone as a reel, and refuses media_type VIDEO outside a carousel', async () => {
    const { call } = await setUp({}, { login: 'facebook' })
    const create = (params: Record<string, string>) =>
      fetch(`https://graph.facebook.com/v23.0/${call.accountId}/media`, {
        method: 'POST',
        body: new URLSearchParams({ access_token: call.accessToken, ...params }),
      })
    const video = { video_url: 'https://media.app.test/v.mp4' }
    expect((await create({ media_type: 'REELS', ...video })).status).toBe(200)
    const refused = await create({ media_type: 'VIDEO', ...video })
    expect(refused.status).toBe(400)
    expect(await refused.json()).toMatchObject({
      error: { message: expect.stringMatching(/REELS/) },
    })
    expect((await create({ media_type: 'VIDEO', is_carousel_item: 'true', ...video })).status).toBe(
      200,
    )
  })

  it('refuses a delete on the Instagram-Login graph, which has none', async () => {
    const { emulator, adapter, call } = await setUp()
    const { platformPostId } = published(
      await adapter.publish(attempt(call, { text: 'Hi', media: [jpeg(1)] }).params),
    )
    const response = await fetch(
      `https://graph.instagram.com/v23.0/${platformPostId}?access_token=${call.accessToken}`,
      { method: 'DELETE' },
    )
    expect(response.status).toBe(400)
    expect(await emulator.countPosts(call.accountId)).toBe(1)
  })
})
