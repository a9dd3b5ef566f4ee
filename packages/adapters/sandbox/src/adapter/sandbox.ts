import {
  type Adapter,
  type CallOptions,
  ContentRejectedError,
  createS256CodeChallenge,
  isAdapterError,
  type PublishMedia,
  type PublishParams,
  RateLimitedError,
  readJSON,
  requestTokens,
  sendPlatformRequest,
  sendTokenEndpointRequest,
  UnexpectedResponseError,
  uploadInParts,
  validatePostContent,
} from '@post-scheduler/adapter-core'
import { z } from 'zod'
import { sandboxCapabilities } from '../capabilities.ts'

/** Configuration of the sandbox adapter: the OAuth client registered with the sandbox. */
export interface SandboxConfig {
  clientId: string
  clientSecret: string
  /** Where the sandbox platform is served, e.g. `http://127.0.0.1:3000/sandbox`. */
  baseURL: string
  /** Our OAuth callback, e.g. `http://127.0.0.1:3000/v1/connections/sandbox/callback`. */
  redirectURI: string
}

const PLATFORM = 'sandbox'

/**
 * `sendPlatformRequest`, with the sandbox's app-wide rate limit (`APP_RATE_LIMITED`) told apart
 * from an account's.
 */
async function send(...args: Parameters<typeof sendPlatformRequest>): Promise<Response> {
  try {
    return await sendPlatformRequest(...args)
  } catch (error) {
    if (isAdapterError(error, 'RATE_LIMITED') && error.cause === 'APP_RATE_LIMITED') {
      throw new RateLimitedError(error.message, {
        platform: PLATFORM,
        status: 429,
        cause: error.cause,
        retryAfterSeconds: error.retryAfterSeconds,
        scope: 'app',
      })
    }
    throw error
  }
}

const accountsSchema = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(['personal', 'page']),
      name: z.string(),
      username: z.string().optional(),
    }),
  ),
})

const postSchema = z.object({
  id: z.string(),
  url: z.string(),
  threadPostIds: z.array(z.string()),
  firstCommentId: z.string().nullable(),
  idempotencyKey: z.string(),
  // Absent from sandboxes older than asynchronous publishing: every post was public at once.
  status: z.enum(['published', 'processing', 'failed']).default('published'),
  checkAfterSeconds: z.number().nullable().default(null),
  error: z.object({ code: z.string(), message: z.string() }).nullable().default(null),
})

type SandboxPostResource = z.infer<typeof postSchema>

function publishedPostOf(post: SandboxPostResource) {
  return {
    platformPostId: post.id,
    url: post.url,
    threadPostIds: post.threadPostIds,
    firstCommentId: post.firstCommentId ?? undefined,
  }
}

/** Handles of a post the sandbox is still processing: its key, and its id to read it by. */
function processingOf(post: SandboxPostResource) {
  return {
    status: 'processing' as const,
    handles: { idempotencyKey: post.idempotencyKey, postId: post.id },
    // No wait announced: it has finished (failed), so check at once.
    checkAfterSeconds: post.checkAfterSeconds ?? 0.1,
  }
}

const uploadSchema = z.object({ id: z.string(), partSizeBytes: z.number().int().positive() })

const metricsSchema = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      impressions: z.number(),
      likes: z.number(),
      comments: z.number(),
      shares: z.number(),
      measuredAt: z.iso.datetime(),
    }),
  ),
})

/**
 * The adapter for the sandbox platform (see `createSandboxPlatform`): the default platform of a
 * fresh start, so the whole flow — connect, publish, fail, reconcile, delete, metrics — runs
 * with no credentials.
 *
 * Exactly-once: `publish` sends an `Idempotency-Key` (from the saved handles on a retry, else
 * the attempt id), checkpointed before the post is sent; `lookUpPublication` asks the sandbox
 * for a post with that key, and the answer is exact.
 *
 * Asynchronous: a post the sandbox finishes later (`#sandbox-processing`, or the platform's
 * `processing` option) is answered `processing` with its post id; `checkPublication` reads it.
 *
 * @example
 * ```ts
 * const adapter = sandbox({
 *   clientId: 'post-scheduler',
 *   clientSecret: 'sandbox-secret',
 *   baseURL: 'http://127.0.0.1:3000/sandbox',
 *   redirectURI: 'http://127.0.0.1:3000/v1/connections/sandbox/callback',
 * })
 * const url = adapter.createAuthorizationURL({ state: generateState(), codeVerifier: generateCodeVerifier() })
 * ```
 */
export function sandbox(config: SandboxConfig) {
  const baseURL = config.baseURL.replace(/\/+$/, '')
  const tokenRequest = (body: Record<string, string>) => ({
    platform: PLATFORM,
    url: `${baseURL}/oauth/token`,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    body,
  })
  const bearer = (accessToken: string) => ({ authorization: `Bearer ${accessToken}` })

  async function upload(
    accessToken: string,
    media: PublishMedia,
    options: CallOptions,
  ): Promise<string> {
    const started = await send(
      {
        platform: PLATFORM,
        method: 'POST',
        url: `${baseURL}/v1/media/uploads`,
        headers: bearer(accessToken),
        json: { kind: media.kind, mimeType: media.mimeType, sizeBytes: media.sizeBytes },
      },
      options,
    )
    const session = await readJSON(started, uploadSchema, PLATFORM)
    await uploadInParts({
      source: await media.open({ signal: options.signal }),
      partSizeBytes: session.partSizeBytes,
      signal: options.signal,
      uploadPart: (part, { signal }) =>
        send(
          {
            platform: PLATFORM,
            method: 'PUT',
            url: `${baseURL}/v1/media/uploads/${session.id}/parts/${part.index}`,
            headers: { ...bearer(accessToken), 'content-type': 'application/octet-stream' },
            body: part.bytes,
          },
          { ...options, signal },
        ),
    })
    const completed = await send(
      {
        platform: PLATFORM,
        method: 'POST',
        url: `${baseURL}/v1/media/uploads/${session.id}/complete`,
        headers: bearer(accessToken),
      },
      options,
    )
    return (await readJSON(completed, z.object({ mediaId: z.string() }), PLATFORM)).mediaId
  }

  return {
    id: PLATFORM,
    capabilities: sandboxCapabilities,

    createAuthorizationURL({ state, codeVerifier, scopes }) {
      const url = new URL(`${baseURL}/oauth/authorize`)
      url.searchParams.set('response_type', 'code')
      url.searchParams.set('client_id', config.clientId)
      url.searchParams.set('redirect_uri', config.redirectURI)
      url.searchParams.set('state', state)
      url.searchParams.set('code_challenge', createS256CodeChallenge(codeVerifier))
      url.searchParams.set('code_challenge_method', 'S256')
      url.searchParams.set(
        'scope',
        (scopes ?? ['accounts.read', 'posts.read', 'posts.write']).join(' '),
      )
      return url
    },

    validateAuthorizationCode({ code, codeVerifier }, options?: CallOptions) {
      return requestTokens(
        tokenRequest({
          grant_type: 'authorization_code',
          code,
          redirect_uri: config.redirectURI,
          code_verifier: codeVerifier,
        }),
        options,
      )
    },

    // The sandbox rotates refresh tokens (as X and TikTok do): store the new one every time.
    refreshAccessToken({ refreshToken }, options?: CallOptions) {
      return requestTokens(
        tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken }),
        options,
      )
    },

    async revokeToken({ token }, options?: CallOptions) {
      await sendTokenEndpointRequest(
        { ...tokenRequest({ token }), url: `${baseURL}/oauth/revoke` },
        options,
      )
    },

    async listAccounts({ accessToken }, options?: CallOptions) {
      const response = await send(
        {
          platform: PLATFORM,
          method: 'GET',
          url: `${baseURL}/v1/accounts`,
          headers: bearer(accessToken),
        },
        options,
      )
      const { data } = await readJSON(response, accountsSchema, PLATFORM)
      return data.map((account) => ({
        id: account.id,
        kind: account.kind,
        name: account.name,
        username: account.username,
      }))
    },

    validatePost({ post }) {
      return validatePostContent(post, sandboxCapabilities)
    },

    async publish(params: PublishParams, options: CallOptions = {}) {
      const { post } = params
      const issues = validatePostContent(post, sandboxCapabilities)
      if (issues.length > 0) {
        throw new ContentRejectedError(
          `The post does not fit the sandbox: ${issues.map((issue) => issue.message).join(' ')}`,
          { platform: PLATFORM, issues },
        )
      }
      const mediaIds: string[] = []
      for (const media of post.media ?? [])
        mediaIds.push(await upload(params.accessToken, media, options))
      // Reuse the key of an earlier attempt, so the sandbox replays instead of posting again.
      const idempotencyKey = params.handles?.idempotencyKey ?? params.attemptId
      await params.checkpoint({ idempotencyKey })
      const response = await send(
        {
          platform: PLATFORM,
          method: 'POST',
          url: `${baseURL}/v1/posts`,
          headers: { ...bearer(params.accessToken), 'idempotency-key': idempotencyKey },
          json: {
            accountId: params.accountId,
            attemptId: params.attemptId,
            text: post.text,
            mediaIds,
            thread: post.thread ?? [],
            firstComment: post.firstComment,
            options: sandboxCapabilities.optionsSchema.parse(post.options ?? {}),
          },
          irreversible: true,
        },
        options,
      )
      const published = await readJSON(response, postSchema, PLATFORM)
      // Accepted, finished later (`#sandbox-processing`): the engine checks back with
      // `checkPublication`. A replay of a post that already failed processing is read the same way.
      if (published.status !== 'published') return processingOf(published)
      return publishedPostOf(published)
    },

    async checkPublication({ accessToken, handles }, options?: CallOptions) {
      const postId = handles.postId
      if (postId === undefined) {
        throw new UnexpectedResponseError('No sandbox post id was saved for this publication', {
          platform: PLATFORM,
        })
      }
      const response = await send(
        {
          platform: PLATFORM,
          method: 'GET',
          url: `${baseURL}/v1/posts/${encodeURIComponent(postId)}`,
          headers: bearer(accessToken),
        },
        options,
      )
      const post = await readJSON(response, postSchema, PLATFORM)
      if (post.status === 'processing') {
        return { status: 'processing', checkAfterSeconds: post.checkAfterSeconds ?? 1 }
      }
      if (post.status === 'failed') {
        const code = post.error?.code ?? 'PROCESSING_FAILED'
        return {
          status: 'failed',
          error: new ContentRejectedError(
            `The sandbox could not process the post: ${post.error?.message ?? code}`,
            { platform: PLATFORM, platformCode: code },
          ),
        }
      }
      return { status: 'published', ...publishedPostOf(post) }
    },

    async deletePost({ accessToken, platformPostId }, options?: CallOptions) {
      try {
        await send(
          {
            platform: PLATFORM,
            method: 'DELETE',
            url: `${baseURL}/v1/posts/${encodeURIComponent(platformPostId)}`,
            headers: bearer(accessToken),
          },
          options,
        )
      } catch (error) {
        // Already gone is what the caller wanted.
        if (isAdapterError(error, 'UNEXPECTED_RESPONSE') && error.status === 404) return
        throw error
      }
    },

    async getMetrics({ accessToken, platformPostIds }, options?: CallOptions) {
      const url = new URL(`${baseURL}/v1/posts/metrics`)
      url.searchParams.set('ids', platformPostIds.join(','))
      const response = await send(
        { platform: PLATFORM, method: 'GET', url, headers: bearer(accessToken) },
        options,
      )
      const { data } = await readJSON(response, metricsSchema, PLATFORM)
      return data.map((entry) => ({
        platformPostId: entry.id,
        impressions: entry.impressions,
        likes: entry.likes,
        comments: entry.comments,
        shares: entry.shares,
        measuredAt: new Date(entry.measuredAt),
      }))
    },

    async lookUpPublication({ accessToken, accountId, handles }, options?: CallOptions) {
      const idempotencyKey = handles.idempotencyKey
      if (idempotencyKey === undefined) {
        // No key was checkpointed, so the post request was never sent.
        return { status: 'not_found' }
      }
      const url = new URL(`${baseURL}/v1/posts`)
      url.searchParams.set('accountId', accountId)
      url.searchParams.set('idempotencyKey', idempotencyKey)
      const response = await send(
        { platform: PLATFORM, method: 'GET', url, headers: bearer(accessToken) },
        options,
      )
      const { data } = await readJSON(response, z.object({ data: z.array(postSchema) }), PLATFORM)
      const found = data[0]
      if (!found) return { status: 'not_found' }
      if (found.status !== 'published') return processingOf(found)
      return { status: 'published', ...publishedPostOf(found) }
    },
  } satisfies Adapter
}
