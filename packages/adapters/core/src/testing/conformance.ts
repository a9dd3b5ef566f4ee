import type { AnyHandler } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { MediaKind, MediaKindLimits } from '../capabilities/capabilities.ts'
import {
  type Adapter,
  isProcessing,
  type PublicationCheck,
  type PublicationHandles,
  type PublishParams,
  type PublishResult,
} from '../contract/adapter.ts'
import type { PostContent, PublishMedia } from '../contract/post.ts'
import { type AdapterErrorCode, isAdapterError } from '../errors/errors.ts'
import { generateCodeVerifier, generateState } from '../oauth/pkce.ts'

/** The failures the conformance suite asks an emulator to produce, one per error class. */
export type ConformanceFault =
  | { kind: 'rate_limited'; retryAfterSeconds: number }
  | { kind: 'content_rejected' }
  | { kind: 'platform_unavailable' }
  | { kind: 'reconnect_required' }
  | { kind: 'unexpected_response' }
  | { kind: 'network_failure' }
  /** The platform makes the post, then never answers (until the client gives up). */
  | { kind: 'outcome_unknown' }

/** The calls a fault can be injected into. */
export type ConformanceOperation = 'publish' | 'listAccounts'

/** What the emulator did, for the suite to check the adapter's error against. */
export interface InjectedFault {
  /** For `content_rejected`: the platform's own code in the error body. */
  platformCode?: string
  /** For `outcome_unknown`: settles once the platform has made the post. */
  committed?: Promise<void>
}

/** A platform emulator, as the conformance suite drives it. */
export interface ConformanceEmulator {
  /** msw handlers that serve the platform. */
  handlers: AnyHandler[]
  /**
   * Plays the person on the consent screen: opens the authorization URL, approves, and returns
   * the `code` and `state` of the redirect to the redirect URI.
   */
  approve(authorizationURL: URL): Promise<{ code: string; state: string }>
  /** Makes the next `operation` fail with `fault`. */
  injectFault(operation: ConformanceOperation, fault: ConformanceFault): InjectedFault
  /** How many posts the platform holds for an account (deleted ones excluded): the duplicate count. */
  countPosts(accountId: string): Promise<number>
  /**
   * Where the platform finishes posts after accepting them: makes the next post it accepts
   * finish `afterSeconds` later, as `outcome`. Present: the suite checks `publish` answers
   * `processing` and `checkPublication` follows it to the end.
   */
  deferCompletion?(completion: { afterSeconds: number; outcome: 'published' | 'failed' }): void
}

/** What an adapter package passes to {@link describeAdapterConformance}. */
export interface ConformanceTarget {
  /** A fresh emulator; called before each test. */
  createEmulator(): ConformanceEmulator
  /** An adapter configured to talk to that emulator. */
  createAdapter(emulator: ConformanceEmulator): Adapter
  /** Media fixtures the platform accepts; defaults to blobs sized to fit the capabilities. */
  createMedia?(kind: MediaKind, index: number): PublishMedia
}

/**
 * Registers the vitest suite every adapter must pass against its emulator: the OAuth round trip
 * (state, PKCE, single-use codes), refresh and revoke where supported, account listing, pure
 * validation, publishing every kind the capabilities declare, delete and metrics where supported,
 * one test per error class, and idempotent reconciliation (a publish whose answer was lost is
 * found by `lookUpPublication`, and retrying it does not post twice). Where the emulator can
 * defer completion (`deferCompletion`), the asynchronous flow too: `publish` answers `processing`,
 * `checkPublication` exists and follows the post to published or failed, and a look-up of a post
 * still processing answers `processing`. A `publish` that answers `processing` anywhere in the
 * suite is followed with `checkPublication` to its end.
 *
 * Call it at the top level of a test file; it starts its own msw server.
 *
 * @example
 * ```ts
 * // src/sandbox.conformance.test.ts
 * import { describeAdapterConformance } from '@post-scheduler/adapter-core/testing'
 *
 * describeAdapterConformance({
 *   createEmulator: () => createSandboxEmulator({ baseURL }),
 *   createAdapter: () => sandbox({ baseURL, clientId, clientSecret, redirectURI }),
 * })
 * ```
 */
export function describeAdapterConformance(target: ConformanceTarget): void {
  const server = setupServer()
  let emulator: ConformanceEmulator
  let adapter: Adapter

  beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
  beforeEach(() => {
    emulator = target.createEmulator()
    server.resetHandlers(...emulator.handlers)
    adapter = target.createAdapter(emulator)
  })
  afterEach(() => server.resetHandlers())
  afterAll(() => server.close())

  const probeEmulator = target.createEmulator()
  const probe = target.createAdapter(probeEmulator)
  const { capabilities } = probe
  const features = capabilities.features

  async function connect() {
    const state = generateState()
    const codeVerifier = generateCodeVerifier()
    const url = adapter.createAuthorizationURL({ state, codeVerifier })
    const approved = await emulator.approve(url)
    const tokens = await adapter.validateAuthorizationCode({ code: approved.code, codeVerifier })
    const accounts = await adapter.listAccounts({ accessToken: tokens.accessToken })
    const account = accounts[0]
    if (!account) throw new Error('listAccounts returned no account after consent')
    return { tokens, account, accessToken: account.accessToken ?? tokens.accessToken }
  }

  function media(kind: MediaKind, index = 0): PublishMedia {
    const limits = capabilities.media.kinds[kind]
    if (!limits) throw new Error(`the capabilities do not accept ${kind}`)
    return target.createMedia?.(kind, index) ?? createFittingMedia(kind, limits, index)
  }

  function publishParams(
    call: { accessToken: string; accountId: string },
    post: PostContent<PublishMedia>,
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
    return { params, handles: () => Object.assign({}, ...saved) as PublicationHandles }
  }

  async function expectAdapterError(promise: Promise<unknown>, code: AdapterErrorCode) {
    const error = await promise.then(
      () => undefined,
      (thrown: unknown) => thrown,
    )
    expect(
      isAdapterError(error),
      `expected an AdapterError with code ${code}, got ${String(error)}`,
    ).toBe(true)
    expect((error as { code: string }).code).toBe(code)
    return error as Record<string, unknown>
  }

  /**
   * Follows a publish that answered `processing` with `checkPublication` until it ends (waiting at
   * most a second between checks: emulators finish quickly).
   */
  async function settle(
    result: PublishResult,
    call: { accessToken: string; accountId: string },
  ): Promise<Exclude<PublicationCheck, { status: 'processing' }>> {
    if (!isProcessing(result)) return { status: 'published', ...result }
    const check = adapter.checkPublication?.bind(adapter)
    if (!check)
      throw new Error('publish answered processing but the adapter has no checkPublication')
    let handles = result.handles
    let waitSeconds = result.checkAfterSeconds
    for (let checks = 0; checks < 30; checks++) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(1, waitSeconds) * 1000))
      const found = await check({ ...call, handles })
      if (found.status !== 'processing') return found
      handles = { ...handles, ...found.handles }
      waitSeconds = found.checkAfterSeconds
    }
    throw new Error('the post was still processing after 30 checks')
  }

  /** Publishes and follows the post to the end: it must be published. */
  async function publishToTheEnd(params: PublishParams) {
    const call = { accessToken: params.accessToken, accountId: params.accountId }
    const ended = await settle(await adapter.publish(params), call)
    if (ended.status !== 'published') throw ended.error
    return { ...ended, platformPostId: ended.platformPostId ?? '' }
  }

  const text = (label: string) => `Conformance ${label} ${crypto.randomUUID().slice(0, 8)}`

  describe(`${capabilities.displayName} adapter conformance`, () => {
    describe('shape', () => {
      it('names its platform the same way as its capabilities', () => {
        expect(probe.id).toBe(capabilities.platform)
      })

      it('implements exactly the optional verbs its capabilities announce', () => {
        expect(typeof probe.deletePost === 'function').toBe(features.deletePost)
        expect(typeof probe.getMetrics === 'function').toBe(features.metrics)
        expect(typeof probe.revokeToken === 'function').toBe(features.revokeToken)
      })

      it.runIf(probeEmulator.deferCompletion !== undefined)(
        'implements checkPublication, as its platform finishes posts later',
        () => {
          expect(typeof probe.checkPublication).toBe('function')
        },
      )
    })

    describe('OAuth', () => {
      it('completes the round trip from the authorization URL to a usable token', async () => {
        const state = generateState()
        const codeVerifier = generateCodeVerifier()
        const url = adapter.createAuthorizationURL({ state, codeVerifier })
        const approved = await emulator.approve(url)
        expect(approved.state).toBe(state)
        const tokens = await adapter.validateAuthorizationCode({
          code: approved.code,
          codeVerifier,
        })
        expect(tokens.accessToken).not.toBe('')
        const accounts = await adapter.listAccounts({ accessToken: tokens.accessToken })
        expect(accounts.length).toBeGreaterThan(0)
        for (const account of accounts) expect(account.id).not.toBe('')
      })

      it('refuses a code presented with another PKCE verifier', async () => {
        const url = adapter.createAuthorizationURL({
          state: generateState(),
          codeVerifier: generateCodeVerifier(),
        })
        const { code } = await emulator.approve(url)
        await expectAdapterError(
          adapter.validateAuthorizationCode({ code, codeVerifier: generateCodeVerifier() }),
          'RECONNECT_REQUIRED',
        )
      })

      it('refuses a code that was already exchanged', async () => {
        const codeVerifier = generateCodeVerifier()
        const url = adapter.createAuthorizationURL({ state: generateState(), codeVerifier })
        const { code } = await emulator.approve(url)
        await adapter.validateAuthorizationCode({ code, codeVerifier })
        await expectAdapterError(
          adapter.validateAuthorizationCode({ code, codeVerifier }),
          'RECONNECT_REQUIRED',
        )
      })

      it.runIf(typeof probe.refreshAccessToken === 'function')(
        'refreshes the access token into one that works',
        async () => {
          const { tokens } = await connect()
          expect(tokens.refreshToken).toBeDefined()
          const refreshed = await adapter.refreshAccessToken?.({
            refreshToken: tokens.refreshToken ?? '',
          })
          expect(refreshed?.accessToken).toBeDefined()
          const accounts = await adapter.listAccounts({ accessToken: refreshed?.accessToken ?? '' })
          expect(accounts.length).toBeGreaterThan(0)
        },
      )

      it.runIf(features.revokeToken)('needs a reconnect once the token is revoked', async () => {
        const { tokens } = await connect()
        await adapter.revokeToken?.({ token: tokens.accessToken })
        await expectAdapterError(
          adapter.listAccounts({ accessToken: tokens.accessToken }),
          'RECONNECT_REQUIRED',
        )
      })
    })

    describe('validatePost', () => {
      it('finds nothing wrong with a post within every limit', () => {
        const post = capabilities.media.required
          ? { text: 'Hello', media: [media(firstKind())] }
          : { text: 'Hello' }
        expect(adapter.validatePost({ post })).toEqual([])
      })

      it('reports text over the limit at the path of the text', () => {
        const post = { text: 'x'.repeat(capabilities.text.maxLength + 1) }
        const issues = adapter.validatePost({ post })
        expect(issues).toContainEqual(
          expect.objectContaining({ path: ['text'], code: 'TEXT_TOO_LONG' }),
        )
      })
    })

    describe('publish', () => {
      const labels: Record<PostKind, string> = {
        text: 'a text post',
        image: 'an image post',
        video: 'a video post',
        carousel: 'a carousel',
        thread: 'a thread',
        'first comment': 'a post with a first comment',
      }
      it.each(supportedPostKinds().map((kind) => ({ kind, label: labels[kind] })))(
        'publishes $label',
        async ({ kind }) => {
          const { account, accessToken } = await connect()
          const { params } = publishParams({ accessToken, accountId: account.id }, buildPost(kind))
          expect(adapter.validatePost({ post: params.post })).toEqual([])
          const published = await publishToTheEnd(params)
          expect(published.platformPostId).not.toBe('')
          if (kind === 'thread') expect(published.threadPostIds?.length).toBe(1)
          if (kind === 'first comment') expect(published.firstCommentId).toBeDefined()
          expect(await emulator.countPosts(account.id)).toBe(1)
        },
      )

      it.runIf(features.lookUp === 'exact')(
        'does not publish when the checkpoint cannot be saved',
        async () => {
          const { account, accessToken } = await connect()
          const failure = new Error('database unavailable')
          const { params } = publishParams({ accessToken, accountId: account.id }, basicPost(), {
            checkpoint: () => Promise.reject(failure),
          })
          await expect(adapter.publish(params)).rejects.toBe(failure)
          expect(await emulator.countPosts(account.id)).toBe(0)
        },
      )

      it.runIf(features.deletePost)('deletes a post, and deleting it again succeeds', async () => {
        const { account, accessToken } = await connect()
        const call = { accessToken, accountId: account.id }
        const { platformPostId } = await publishToTheEnd(publishParams(call, basicPost()).params)
        await adapter.deletePost?.({ ...call, platformPostId })
        expect(await emulator.countPosts(account.id)).toBe(0)
        await adapter.deletePost?.({ ...call, platformPostId })
      })

      it.runIf(features.metrics)('reports metrics for each published post', async () => {
        const { account, accessToken } = await connect()
        const call = { accessToken, accountId: account.id }
        const first = await publishToTheEnd(publishParams(call, basicPost()).params)
        const second = await publishToTheEnd(publishParams(call, basicPost()).params)
        const ids = [first.platformPostId, second.platformPostId]
        const metrics = await adapter.getMetrics?.({ ...call, platformPostIds: ids })
        expect(metrics?.map((entry) => entry.platformPostId).sort()).toEqual([...ids].sort())
      })
    })

    describe.runIf(probeEmulator.deferCompletion !== undefined)('processing', () => {
      it('answers processing with its handles, then checkPublication follows the post until it is published', async () => {
        const { account, accessToken } = await connect()
        const call = { accessToken, accountId: account.id }
        emulator.deferCompletion?.({ afterSeconds: 0.3, outcome: 'published' })
        const result = await adapter.publish(publishParams(call, basicPost()).params)
        expect(result).toMatchObject({
          status: 'processing',
          checkAfterSeconds: expect.any(Number),
        })
        if (!isProcessing(result)) throw new Error('unreachable: checked above')
        expect(Object.keys(result.handles).length).toBeGreaterThan(0)
        const early = await adapter.checkPublication?.({ ...call, handles: result.handles })
        expect(early?.status).toBe('processing')
        const ended = await settle(result, call)
        expect(ended).toMatchObject({ status: 'published', platformPostId: expect.any(String) })
        expect(await emulator.countPosts(account.id)).toBe(1)
      })

      it('answers failed, with a classified AdapterError, when the platform gives up on the post', async () => {
        const { account, accessToken } = await connect()
        const call = { accessToken, accountId: account.id }
        emulator.deferCompletion?.({ afterSeconds: 0.2, outcome: 'failed' })
        const ended = await settle(
          await adapter.publish(publishParams(call, basicPost()).params),
          call,
        )
        expect(ended.status).toBe('failed')
        if (ended.status !== 'failed') throw new Error('unreachable: checked above')
        expect(isAdapterError(ended.error)).toBe(true)
      })

      it('finds a post still processing on look-up (never not_found), and a retry does not post twice', async () => {
        const { account, accessToken } = await connect()
        const call = { accessToken, accountId: account.id }
        emulator.deferCompletion?.({ afterSeconds: 5, outcome: 'published' })
        const first = publishParams(call, basicPost())
        await adapter.publish(first.params)
        const found = await adapter.lookUpPublication({
          ...call,
          attemptId: first.params.attemptId,
          handles: first.handles(),
        })
        expect(found.status).toBe('processing')
        const retry = publishParams(call, first.params.post, { handles: first.handles() })
        expect((await adapter.publish(retry.params)) as PublishResult).toMatchObject({
          status: 'processing',
        })
        expect(await emulator.countPosts(account.id)).toBe(1)
      })
    })

    describe('errors', () => {
      it('throws RATE_LIMITED with the wait the platform announced', async () => {
        const { account, accessToken } = await connect()
        emulator.injectFault('publish', { kind: 'rate_limited', retryAfterSeconds: 42 })
        const { params } = publishParams({ accessToken, accountId: account.id }, basicPost())
        const error = await expectAdapterError(adapter.publish(params), 'RATE_LIMITED')
        expect(error.retryAfterSeconds).toBe(42)
        expect(error.retryable).toBe(true)
        expect(error.action).toBe('retry_later')
        expect(await emulator.countPosts(account.id)).toBe(0)
      })

      it("throws CONTENT_REJECTED with the platform's own code", async () => {
        const { account, accessToken } = await connect()
        const injected = emulator.injectFault('publish', { kind: 'content_rejected' })
        const { params } = publishParams({ accessToken, accountId: account.id }, basicPost())
        const error = await expectAdapterError(adapter.publish(params), 'CONTENT_REJECTED')
        expect(error.platformCode).toBe(injected.platformCode)
        expect(error.platformMessage).toEqual(expect.any(String))
        expect(error.retryable).toBe(false)
        expect(error.action).toBe('fix_content')
      })

      it('throws RECONNECT_REQUIRED when the platform refuses the token', async () => {
        const { account, accessToken } = await connect()
        emulator.injectFault('publish', { kind: 'reconnect_required' })
        const { params } = publishParams({ accessToken, accountId: account.id }, basicPost())
        const error = await expectAdapterError(adapter.publish(params), 'RECONNECT_REQUIRED')
        expect(error.action).toBe('reconnect')
      })

      it('throws PLATFORM_UNAVAILABLE, retryable, when the platform is down', async () => {
        const { account, accessToken } = await connect()
        emulator.injectFault('publish', { kind: 'platform_unavailable' })
        const { params } = publishParams({ accessToken, accountId: account.id }, basicPost())
        const error = await expectAdapterError(adapter.publish(params), 'PLATFORM_UNAVAILABLE')
        expect(error.retryable).toBe(true)
        expect(await emulator.countPosts(account.id)).toBe(0)
      })

      it('throws UNEXPECTED_RESPONSE on an answer it cannot read', async () => {
        const { accessToken } = await connect()
        emulator.injectFault('listAccounts', { kind: 'unexpected_response' })
        const error = await expectAdapterError(
          adapter.listAccounts({ accessToken }),
          'UNEXPECTED_RESPONSE',
        )
        expect(error.retryable).toBe(false)
      })

      it('throws NETWORK_FAILURE, retryable, when a read gets no answer', async () => {
        const { accessToken } = await connect()
        emulator.injectFault('listAccounts', { kind: 'network_failure' })
        const error = await expectAdapterError(
          adapter.listAccounts({ accessToken }),
          'NETWORK_FAILURE',
        )
        expect(error.retryable).toBe(true)
        expect(error.cause).toBeDefined()
      })

      it('throws OUTCOME_UNKNOWN, not a failure, when a sent publish times out', async () => {
        const { account, accessToken } = await connect()
        emulator.injectFault('publish', { kind: 'outcome_unknown' })
        const { params } = publishParams({ accessToken, accountId: account.id }, basicPost())
        // However soon the timeout fires, the request was already sent: the outcome is unknown.
        const error = await expectAdapterError(
          adapter.publish(params, { timeoutMs: 50 }),
          'OUTCOME_UNKNOWN',
        )
        expect(error.timedOut).toBe(true)
        expect(error.retryable).toBe(false)
      })
    })

    describe.runIf(features.lookUp === 'exact')('reconciliation', () => {
      it('finds a post whose answer was lost, and a retry does not post it twice', async () => {
        const { account, accessToken } = await connect()
        const call = { accessToken, accountId: account.id }
        const injected = emulator.injectFault('publish', { kind: 'outcome_unknown' })
        const controller = new AbortController()
        void injected.committed?.then(() => controller.abort(new Error('worker gave up')))
        const first = publishParams(call, basicPost())
        await expectAdapterError(
          adapter.publish(first.params, { signal: controller.signal }),
          'OUTCOME_UNKNOWN',
        )

        const found = await adapter.lookUpPublication({
          ...call,
          attemptId: first.params.attemptId,
          handles: first.handles(),
        })
        expect(found).toMatchObject({ status: 'published', platformPostId: expect.any(String) })

        const retry = publishParams(call, first.params.post, { handles: first.handles() })
        const republished = await publishToTheEnd(retry.params)
        if (found.status !== 'published') throw new Error('unreachable: checked above')
        expect(republished.platformPostId).toBe(found.platformPostId)
        expect(await emulator.countPosts(account.id)).toBe(1)
      })

      it('answers not_found for an attempt the platform never accepted', async () => {
        const { account, accessToken } = await connect()
        const call = { accessToken, accountId: account.id }
        emulator.injectFault('publish', { kind: 'platform_unavailable' })
        const { params, handles } = publishParams(call, basicPost())
        await expectAdapterError(adapter.publish(params), 'PLATFORM_UNAVAILABLE')
        const found = await adapter.lookUpPublication({
          ...call,
          attemptId: params.attemptId,
          handles: handles(),
        })
        expect(found).toEqual({ status: 'not_found' })
      })
    })
  })

  function firstKind(): MediaKind {
    const kind = capabilities.media.layouts[0]?.kinds[0]
    if (!kind) throw new Error('media is required but no layout is declared')
    return kind
  }

  function basicPost(): PostContent<PublishMedia> {
    return capabilities.media.required
      ? { text: text('post'), media: [media(firstKind())] }
      : { text: text('post') }
  }

  type PostKind = 'text' | 'image' | 'video' | 'carousel' | 'thread' | 'first comment'

  function supportedPostKinds(): PostKind[] {
    const { media: mediaCapabilities } = capabilities
    const single = (kind: MediaKind) =>
      mediaCapabilities.layouts.some((layout) => layout.kinds.includes(kind) && layout.min <= 1)
    const kinds: PostKind[] = []
    if (!mediaCapabilities.required) kinds.push('text')
    if (single('image')) kinds.push('image')
    if (single('video')) kinds.push('video')
    if (mediaCapabilities.layouts.some((layout) => layout.max >= 2)) kinds.push('carousel')
    if (capabilities.thread) kinds.push('thread')
    if (capabilities.firstComment) kinds.push('first comment')
    return kinds
  }

  function buildPost(kind: PostKind): PostContent<PublishMedia> {
    switch (kind) {
      case 'text':
        return { text: text('text') }
      case 'image':
        return { text: text('image'), media: [media('image')] }
      case 'video':
        return { text: text('video'), media: [media('video')] }
      case 'carousel': {
        const layout = capabilities.media.layouts.find((candidate) => candidate.max >= 2)
        const kindOfItems = layout?.kinds[0] ?? 'image'
        const count = Math.max(2, layout?.min ?? 2)
        return {
          text: text('carousel'),
          media: Array.from({ length: count }, (_, index) => media(kindOfItems, index)),
        }
      }
      case 'thread':
        return { ...basicPost(), thread: [{ text: text('thread reply') }] }
      case 'first comment':
        return { ...basicPost(), firstComment: text('first comment') }
    }
  }
}

/**
 * A media fixture that fits a kind's limits: the first accepted type, dimensions within bounds
 * and the aspect ratio, a duration within bounds, and a small blob of bytes.
 *
 * @example
 * ```ts
 * const image = createFittingMedia('image', capabilities.media.kinds.image!, 0)
 * ```
 */
export function createFittingMedia(
  kind: MediaKind,
  limits: MediaKindLimits,
  index: number,
): PublishMedia {
  const sizeBytes = Math.min(4096, limits.maxSizeBytes ?? 4096)
  const ratio = Math.min(Math.max(1, limits.aspectRatio?.min ?? 1), limits.aspectRatio?.max ?? 1)
  const width = Math.min(Math.max(1080, limits.minWidth ?? 0), limits.maxWidth ?? 1080)
  const height = Math.round(width / ratio)
  const bytes = new Blob([new Uint8Array(sizeBytes).fill(index % 256)])
  const visual = kind === 'image' || kind === 'video' || kind === 'gif'
  return {
    id: `fixture-${kind}-${index}`,
    kind,
    mimeType: limits.mimeTypes[0] ?? 'application/octet-stream',
    sizeBytes,
    ...(visual ? { width, height } : {}),
    ...(kind === 'video' || kind === 'gif'
      ? {
          durationSeconds: Math.min(
            Math.max(5, limits.minDurationSeconds ?? 0),
            limits.maxDurationSeconds ?? 5,
          ),
        }
      : {}),
    open: async () => bytes,
  }
}
