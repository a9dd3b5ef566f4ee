import {
  type Adapter,
  type CallOptions,
  ContentRejectedError,
  createS256CodeChallenge,
  type OAuthTokens,
  OutcomeUnknownError,
  type PlatformAccount,
  PlatformUnavailableError,
  type PostMetrics,
  type ProcessingPublication,
  type PublicationCheck,
  type PublicationHandles,
  type PublicationLookUp,
  type PublishedPost,
  type PublishMedia,
  type PublishParams,
  type PublishResult,
  RateLimitedError,
  ReconnectRequiredError,
  readJSON,
  UnexpectedResponseError,
} from '@post-scheduler/adapter-core'
import { z } from 'zod'
import {
  instagramCapabilities,
  instagramLoginCapabilities,
  instagramOptionsSchema,
  validateInstagramPost,
} from '../capabilities.ts'
import { createGraphClient, type GraphClient, type InstagramLogin, idSchema } from './graph.ts'
import { PLATFORM, sendGraphRequest } from './http.ts'
import {
  type ContainerHandles,
  type ContainerStatus,
  findPublishedMedia,
  readContainerStatus,
} from './look-up.ts'

/** Configuration of {@link instagram}. */
export interface InstagramConfig {
  /** The app id: the Instagram app's id with Instagram Login, the Facebook app's with Facebook Login. */
  clientId: string
  clientSecret: string
  redirectURI: string
  /**
   * `instagram` (Business Login for Instagram, graph.instagram.com, no Facebook Page needed) or
   * `facebook` (Facebook Login for Business: the business account reached through its Page,
   * graph.facebook.com; the only one with delete). Default `instagram`.
   */
  login?: InstagramLogin
  /** The Graph API version in every path. Default `v23.0`. */
  graphVersion?: string
  /**
   * Facebook Login only: send a PKCE challenge (OIDC code flow with PKCE,
   * https://developers.facebook.com/docs/facebook-login/guides/advanced/oidc-token). Default
   * false. Instagram Login has no PKCE.
   */
  pkce?: boolean
  /**
   * How containers are polled. Image containers are usually `FINISHED` at once, so `publish`
   * reads them `attempts` times, `intervalMs` apart (default 4 attempts, 2,000 ms apart); video
   * containers (reels, video stories, carousels with videos) take minutes, so `publish` reads
   * them once. A container still `IN_PROGRESS` is saved and `publish` answers `processing`: the
   * engine calls `checkPublication` every `checkAfterSeconds` (default 60, Meta's "once per
   * minute") for at most `maxWaitSeconds` (default 300, Meta's "for no more than 5 minutes";
   * never past the container's 24 h expiry).
   */
  containerPolling?: {
    attempts?: number
    intervalMs?: number
    checkAfterSeconds?: number
    maxWaitSeconds?: number
  }
  /** The clock, for tests. */
  now?: () => Date
}

/** The scopes asked for with Instagram Login. */
export const instagramLoginScopes = [
  'instagram_business_basic',
  'instagram_business_content_publish',
  'instagram_business_manage_comments',
  'instagram_business_manage_insights',
]

/** The scopes asked for with Facebook Login. */
export const facebookLoginScopes = [
  'instagram_basic',
  'instagram_content_publish',
  'instagram_manage_comments',
  'instagram_manage_insights',
  'pages_show_list',
  'pages_read_engagement',
  'business_management',
]

const shortTokenSchema = z.object({
  access_token: z.string().min(1),
  user_id: z.coerce.string().optional(),
  permissions: z.union([z.string(), z.array(z.string())]).optional(),
})

// The short-lived token answer is documented wrapped in `data[]`, and observed flat in production
// (https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login):
// accept both.
const shortTokenAnswerSchema = z.union([
  z
    .object({ data: z.array(shortTokenSchema).min(1) })
    .transform(({ data }) => data[0] as z.output<typeof shortTokenSchema>),
  shortTokenSchema,
])

const longTokenSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().default('bearer'),
  expires_in: z.coerce.number().optional(),
  permissions: z.string().optional(),
})

const quotaSchema = z.object({
  data: z.array(
    z.object({
      quota_usage: z.coerce.number(),
      config: z.object({ quota_total: z.coerce.number(), quota_duration: z.coerce.number() }),
    }),
  ),
})

const mediaSchema = z.object({ id: z.coerce.string(), permalink: z.string().optional() })

const insightsSchema = z.object({
  data: z.array(
    z.object({
      name: z.string(),
      values: z.array(z.object({ value: z.coerce.number() })).optional(),
      total_value: z.object({ value: z.coerce.number() }).optional(),
    }),
  ),
})

/**
 * The Instagram adapter (Instagram Graph API, content publishing): Instagram Login or Facebook
 * Login, image posts, reels, carousels of 2–10 images and videos, and image and video stories
 * through media containers, captions, alt text, collaborators, a first comment, metrics, and
 * delete with Facebook Login. Media are handed over by URL (`PublishMedia.publicURL`): Instagram
 * fetches them.
 *
 * Asynchronous completion: a container Instagram is still processing (video takes minutes) makes
 * `publish` answer `processing`; `checkPublication` reads it on Meta's cadence and, once it is
 * `FINISHED`, calls `media_publish` and answers `published` (`ERROR`/`EXPIRED`: `failed`).
 *
 * Exactly once: the container id is saved with `checkpoint` before `publish` answers
 * `processing` and before any `media_publish`; a retry or a check reuses it, and a container that reads `PUBLISHED` is never
 * published again: its post is looked up among the account's recent media.
 *
 * @example
 * ```ts
 * const adapter = instagram({
 *   clientId: process.env.INSTAGRAM_APP_ID!,
 *   clientSecret: process.env.INSTAGRAM_APP_SECRET!,
 *   redirectURI: 'https://scheduler.example.com/v1/oauth/instagram/callback',
 *   login: 'facebook',
 * })
 * const url = adapter.createAuthorizationURL({ state, codeVerifier })
 * ```
 */
export function instagram(config: InstagramConfig): Adapter {
  const login = config.login ?? 'instagram'
  const version = config.graphVersion ?? 'v23.0'
  const now = config.now ?? (() => new Date())
  const attempts = Math.max(1, config.containerPolling?.attempts ?? 4)
  const intervalMs = config.containerPolling?.intervalMs ?? 2000
  const checkAfterSeconds = config.containerPolling?.checkAfterSeconds ?? 60
  const maxWaitSeconds = config.containerPolling?.maxWaitSeconds ?? 300
  const graph = (accessToken: string) => createGraphClient(login, version, accessToken)

  async function exchangeInstagramCode(code: string, options?: CallOptions): Promise<OAuthTokens> {
    const short = await sendGraphRequest(
      {
        method: 'POST',
        url: 'https://api.instagram.com/oauth/access_token',
        form: {
          client_id: config.clientId,
          client_secret: config.clientSecret,
          grant_type: 'authorization_code',
          redirect_uri: config.redirectURI,
          // The code may arrive with a trailing `#_` from the redirect; it is not part of it.
          code: code.replace(/#_$/, ''),
        },
      },
      options,
    ).catch(refusedGrant)
    const { access_token: shortToken } = await readJSON(short, shortTokenAnswerSchema, PLATFORM)
    const long = await graph(shortToken).get(
      '/access_token',
      { grant_type: 'ig_exchange_token', client_secret: config.clientSecret },
      longTokenSchema,
      options,
    )
    return longLivedTokens(long)
  }

  // The long-lived token refreshes itself (`ig_refresh_token`): it is its own refresh token.
  function longLivedTokens(body: z.output<typeof longTokenSchema>): OAuthTokens {
    const expiresAt =
      body.expires_in === undefined ? undefined : new Date(now().getTime() + body.expires_in * 1000)
    return {
      accessToken: body.access_token,
      accessTokenExpiresAt: expiresAt,
      refreshToken: login === 'instagram' ? body.access_token : undefined,
      refreshTokenExpiresAt: login === 'instagram' ? expiresAt : undefined,
      scopes: body.permissions ? body.permissions.split(',').filter(Boolean) : [],
      tokenType: body.token_type,
    }
  }

  async function exchangeFacebookCode(
    code: string,
    codeVerifier: string,
    options?: CallOptions,
  ): Promise<OAuthTokens> {
    const user = await sendGraphRequest(
      {
        method: 'GET',
        url: `https://graph.facebook.com/${version}/oauth/access_token?${new URLSearchParams({
          client_id: config.clientId,
          client_secret: config.clientSecret,
          redirect_uri: config.redirectURI,
          code,
          ...(config.pkce ? { code_verifier: codeVerifier } : {}),
        })}`,
      },
      options,
    ).catch(refusedGrant)
    const { access_token: userToken } = await readJSON(user, longTokenSchema, PLATFORM)
    // Facebook Login has no refresh grant: the ~60-day token comes from `fb_exchange_token`.
    const long = await sendGraphRequest(
      {
        method: 'GET',
        url: `https://graph.facebook.com/${version}/oauth/access_token?${new URLSearchParams({
          grant_type: 'fb_exchange_token',
          client_id: config.clientId,
          client_secret: config.clientSecret,
          fb_exchange_token: userToken,
        })}`,
      },
      options,
    )
    return longLivedTokens(await readJSON(long, longTokenSchema, PLATFORM))
  }

  async function createContainers(
    call: PublishParams,
    placement: 'feed' | 'story',
    collaborators: string[] | undefined,
    options?: CallOptions,
  ): Promise<string> {
    const client = graph(call.accessToken)
    const media = call.post.media ?? []
    const edge = `/${encodeURIComponent(call.accountId)}/media`
    const url = (item: PublishMedia) => {
      if (!item.publicURL) {
        throw new ContentRejectedError(
          `Instagram fetches media from a public URL, and media ${item.id} has none: set the server's PUBLIC_URL to an address reachable from the internet.`,
          { platform: PLATFORM, platformCode: 'MEDIA_PUBLIC_URL_MISSING' },
        )
      }
      return item.publicURL
    }
    const withAlt = (item: PublishMedia): Record<string, string> =>
      item.altText ? { alt_text: item.altText } : {}
    const collab: Record<string, string> = collaborators?.length
      ? { collaborators: JSON.stringify(collaborators) }
      : {}
    const [first] = media
    if (!first)
      throw new ContentRejectedError('An Instagram post needs an image or a video.', {
        platform: PLATFORM,
      })
    if (placement === 'story') {
      const source: Record<string, string> =
        first.kind === 'video' ? { video_url: url(first) } : { image_url: url(first) }
      return (await client.post(edge, { media_type: 'STORIES', ...source }, idSchema, options)).id
    }
    if (media.length === 1) {
      // Single feed videos are reels: `media_type=VIDEO` is for carousel items only (W2.1).
      const source: Record<string, string> =
        first.kind === 'video'
          ? { media_type: 'REELS', video_url: url(first) }
          : { image_url: url(first), ...withAlt(first) }
      const params = { ...source, caption: call.post.text, ...collab }
      return (await client.post(edge, params, idSchema, options)).id
    }
    // A carousel: one container per item (no caption on items), then the parent. The parent is
    // created at once and reads IN_PROGRESS until its video items are processed.
    const children: string[] = []
    for (const item of media) {
      const source: Record<string, string> =
        item.kind === 'video'
          ? { media_type: 'VIDEO', video_url: url(item) }
          : { image_url: url(item), ...withAlt(item) }
      const params = { ...source, is_carousel_item: 'true' }
      children.push((await client.post(edge, params, idSchema, options)).id)
    }
    const parent = {
      media_type: 'CAROUSEL',
      children: children.join(','),
      caption: call.post.text,
      ...collab,
    }
    return (await client.post(edge, parent, idSchema, options)).id
  }

  async function waitUntilFinished(
    client: GraphClient,
    containerId: string,
    options?: CallOptions,
  ) {
    for (let attempt = 1; ; attempt++) {
      const container = await readContainerStatus(client, containerId, options)
      if (container.status_code !== 'IN_PROGRESS' || attempt >= attempts) return container
      await sleep(intervalMs, options?.signal)
    }
  }

  async function checkQuota(client: GraphClient, accountId: string, options?: CallOptions) {
    const since = Math.floor(now().getTime() / 1000) - 86_400
    const { data } = await client.get(
      `/${encodeURIComponent(accountId)}/content_publishing_limit`,
      { fields: 'quota_usage,config', since: String(since) },
      quotaSchema,
      options,
    )
    const [limit] = data
    if (limit && limit.quota_usage >= limit.config.quota_total) {
      throw new RateLimitedError(
        `Instagram's publishing limit for this account is reached: ${limit.quota_usage} of ${limit.config.quota_total} posts in ${limit.config.quota_duration / 3600} h. Retry once the window moves on.`,
        { platform: PLATFORM, scope: 'account' },
      )
    }
  }

  async function finish(
    client: GraphClient,
    mediaId: string,
    firstComment: string | undefined,
    options?: CallOptions,
  ): Promise<PublishedPost> {
    const media = await client.get(`/${mediaId}`, { fields: 'id,permalink' }, mediaSchema, options)
    const comment =
      firstComment === undefined
        ? undefined
        : await client.post(`/${mediaId}/comments`, { message: firstComment }, idSchema, options)
    return {
      platformPostId: mediaId,
      url: media.permalink,
      ...(comment ? { firstCommentId: comment.id } : {}),
    }
  }

  // `media_publish` is irreversible: sent once, with the quota read first; a lost answer
  // surfaces as OUTCOME_UNKNOWN and the saved container then reads PUBLISHED.
  async function publishContainer(
    client: GraphClient,
    accountId: string,
    handles: ContainerHandles,
    options?: CallOptions,
  ): Promise<PublishedPost> {
    await checkQuota(client, accountId, options)
    const published = await client.post(
      `/${encodeURIComponent(accountId)}/media_publish`,
      { creation_id: handles.containerId },
      idSchema,
      { ...options, irreversible: true },
    )
    return finish(client, published.id, handles.firstComment, options)
  }

  // A PUBLISHED container proves the post exists, but does not name it (W2.1): find it among the
  // account's recent media, or undefined when it is not (unambiguously) there yet.
  async function findPublished(
    client: GraphClient,
    accountId: string,
    handles: ContainerHandles,
    options?: CallOptions,
  ): Promise<PublishedPost | undefined> {
    const found = await findPublishedMedia(client, accountId, handles, options)
    return found && finish(client, found.id, handles.firstComment, options)
  }

  function handlesOf(params: {
    handles?: Readonly<Record<string, string>>
  }): ContainerHandles | undefined {
    const handles = params.handles
    if (!handles?.containerId || !handles.createdAt) return undefined
    return {
      containerId: handles.containerId,
      createdAt: handles.createdAt,
      caption: handles.caption ?? '',
      placement: handles.placement === 'story' ? 'story' : 'feed',
      ...(handles.firstComment === undefined ? {} : { firstComment: handles.firstComment }),
    }
  }

  function processing(handles: ContainerHandles): ProcessingPublication {
    // Never past the container's 24 h life: an expired container can no longer be published.
    const lifeLeftSeconds = Math.floor(
      (Date.parse(handles.createdAt) + CONTAINER_LIFETIME_SECONDS * 1000 - now().getTime()) / 1000,
    )
    return {
      status: 'processing',
      handles: handlesRecord(handles),
      checkAfterSeconds,
      maxWaitSeconds: Math.max(0, Math.min(maxWaitSeconds, lifeLeftSeconds)),
    }
  }

  const adapter = {
    id: 'instagram',
    capabilities: login === 'instagram' ? instagramLoginCapabilities : instagramCapabilities,

    createAuthorizationURL({ state, codeVerifier, scopes }) {
      if (login === 'instagram') {
        const url = new URL('https://www.instagram.com/oauth/authorize')
        url.searchParams.set('client_id', config.clientId)
        url.searchParams.set('redirect_uri', config.redirectURI)
        url.searchParams.set('response_type', 'code')
        url.searchParams.set('scope', (scopes ?? instagramLoginScopes).join(','))
        url.searchParams.set('state', state)
        return url
      }
      const url = new URL(`https://www.facebook.com/${version}/dialog/oauth`)
      url.searchParams.set('client_id', config.clientId)
      url.searchParams.set('redirect_uri', config.redirectURI)
      url.searchParams.set('response_type', 'code')
      url.searchParams.set('scope', (scopes ?? facebookLoginScopes).join(','))
      url.searchParams.set('state', state)
      if (config.pkce) {
        url.searchParams.set('code_challenge', createS256CodeChallenge(codeVerifier))
        url.searchParams.set('code_challenge_method', 'S256')
      }
      return url
    },

    validateAuthorizationCode({ code, codeVerifier }, options?: CallOptions) {
      return login === 'instagram'
        ? exchangeInstagramCode(code, options)
        : exchangeFacebookCode(code, codeVerifier, options)
    },

    async listAccounts({ accessToken }, options?: CallOptions): Promise<PlatformAccount[]> {
      const client = graph(accessToken)
      if (login === 'instagram') {
        const me = await client.get(
          '/me',
          { fields: 'user_id,username,name,account_type,profile_picture_url' },
          z.object({
            user_id: z.coerce.string().min(1),
            username: z.string(),
            name: z.string().optional(),
            profile_picture_url: z.string().optional(),
          }),
          options,
        )
        return [
          {
            id: me.user_id,
            kind: 'business',
            name: me.name ?? me.username,
            username: me.username,
            ...(me.profile_picture_url ? { avatarURL: me.profile_picture_url } : {}),
            profileURL: `https://www.instagram.com/${me.username}/`,
          },
        ]
      }
      // Facebook Login: the business accounts are reached through the Pages they are linked to.
      const pages = await client.get(
        '/me/accounts',
        {
          fields: 'id,name,instagram_business_account{id,username,name,profile_picture_url}',
          limit: '100',
        },
        z.object({
          data: z.array(
            z.object({
              id: z.coerce.string(),
              name: z.string().optional(),
              instagram_business_account: z
                .object({
                  id: z.coerce.string(),
                  username: z.string(),
                  name: z.string().optional(),
                  profile_picture_url: z.string().optional(),
                })
                .optional(),
            }),
          ),
        }),
        options,
      )
      return pages.data.flatMap(({ instagram_business_account: account }) =>
        account
          ? [
              {
                id: account.id,
                kind: 'business' as const,
                name: account.name ?? account.username,
                username: account.username,
                ...(account.profile_picture_url ? { avatarURL: account.profile_picture_url } : {}),
                profileURL: `https://www.instagram.com/${account.username}/`,
              },
            ]
          : [],
      )
    },

    validatePost({ post }) {
      return validateInstagramPost(post)
    },

    async publish(params: PublishParams, options?: CallOptions): Promise<PublishResult> {
      const issues = validateInstagramPost(params.post)
      if (issues.length > 0) {
        throw new ContentRejectedError(
          `The post cannot be published to Instagram: ${issues.map((issue) => issue.message).join(' ')}`,
          { platform: PLATFORM, issues },
        )
      }
      const { placement, collaborators } = instagramOptionsSchema.parse(params.post.options ?? {})
      const client = graph(params.accessToken)
      const firstComment = placement === 'feed' ? params.post.firstComment : undefined
      const video = (params.post.media ?? []).some((item) => item.kind === 'video')
      let handles = handlesOf(params)
      // Handles saved by an older attempt may lack the first comment: the post has it.
      if (handles && firstComment !== undefined) handles = { ...handles, firstComment }
      if (handles) {
        const container = await readContainerStatus(client, handles.containerId, options)
        if (container.status_code === 'PUBLISHED') {
          const found = await findPublished(client, params.accountId, handles, options)
          if (!found) {
            throw new OutcomeUnknownError(
              'Instagram: the saved container reads PUBLISHED, but its post is not among the account’s recent media yet. Look it up again later.',
              { platform: PLATFORM },
            )
          }
          return found
        }
        // Expired or failed containers cannot be published: start again with a new one.
        if (container.status_code === 'EXPIRED' || container.status_code === 'ERROR')
          handles = undefined
      }
      const created = !handles
      if (!handles) {
        const createdAt = now().toISOString()
        const containerId = await createContainers(params, placement, collaborators, options)
        handles = {
          containerId,
          createdAt,
          caption: placement === 'story' ? '' : params.post.text,
          placement,
          ...(firstComment === undefined ? {} : { firstComment }),
        }
      }
      // Video takes minutes: read once and let the engine check back; images usually finish at
      // once, so a short poll publishes them in this call.
      const container = video
        ? await readContainerStatus(client, handles.containerId, options)
        : await waitUntilFinished(client, handles.containerId, options)
      if (container.status_code !== 'IN_PROGRESS' && container.status_code !== 'FINISHED')
        throw containerError(container)
      // Saved before answering processing and before `media_publish`: a check, a retry or a
      // look-up resumes this container, never makes a second one.
      if (created) await params.checkpoint(handlesRecord(handles))
      if (container.status_code === 'IN_PROGRESS') return processing(handles)
      return publishContainer(client, params.accountId, handles, options)
    },

    async checkPublication(params, options?: CallOptions): Promise<PublicationCheck> {
      const handles = handlesOf(params)
      if (!handles) {
        return {
          status: 'failed',
          error: new UnexpectedResponseError(
            'Instagram: no container was saved for this publication, so there is nothing to check. Publish the post again.',
            { platform: PLATFORM },
          ),
        }
      }
      const client = graph(params.accessToken)
      const container = await readContainerStatus(client, handles.containerId, options)
      switch (container.status_code) {
        case 'IN_PROGRESS':
          return { status: 'processing', checkAfterSeconds }
        case 'FINISHED':
          // Instagram publishes a container only when asked: this check makes the post public.
          return {
            status: 'published',
            ...(await publishContainer(client, params.accountId, handles, options)),
          }
        case 'PUBLISHED': {
          // A check (or publish) before this one sent `media_publish` and lost the answer.
          const found = await findPublished(client, params.accountId, handles, options)
          return found
            ? { status: 'published', ...found }
            : { status: 'processing', checkAfterSeconds }
        }
        default:
          return { status: 'failed', error: containerError(container) }
      }
    },

    async getMetrics(
      { accessToken, platformPostIds },
      options?: CallOptions,
    ): Promise<PostMetrics[]> {
      const client = graph(accessToken)
      const metrics: PostMetrics[] = []
      for (const id of platformPostIds) {
        // `impressions` is retired; `views` replaces it (2025-04-21).
        const { data } = await client.get(
          `/${encodeURIComponent(id)}/insights`,
          { metric: 'views,reach,likes,comments,shares,saved' },
          insightsSchema,
          options,
        )
        const value = (name: string) => {
          const entry = data.find((metric) => metric.name === name)
          return entry?.total_value?.value ?? entry?.values?.[0]?.value
        }
        metrics.push({
          platformPostId: id,
          ...defined({
            views: value('views'),
            likes: value('likes'),
            comments: value('comments'),
            shares: value('shares'),
          }),
          measuredAt: now(),
        })
      }
      return metrics
    },

    async lookUpPublication(params, options?: CallOptions): Promise<PublicationLookUp> {
      const handles = handlesOf(params)
      // No container saved: publish never reached `media_publish`, so nothing was posted.
      if (!handles) return { status: 'not_found' }
      const client = graph(params.accessToken)
      const container = await readContainerStatus(client, handles.containerId, options)
      // Still processing: the engine follows it with `checkPublication`, which publishes it.
      if (container.status_code === 'IN_PROGRESS') return processing(handles)
      if (container.status_code !== 'PUBLISHED') {
        // Only a FINISHED container can be published; it did not become PUBLISHED, so no post.
        return { status: 'not_found' }
      }
      // PUBLISHED proves the post exists: find it, or say `unknown`, never `not_found`.
      const found = await findPublishedMedia(client, params.accountId, handles, options)
      if (!found) {
        return {
          status: 'unknown',
          reason:
            'The container reads PUBLISHED, but its post is not (or not unambiguously) among the account’s recent media yet.',
          retryAfterSeconds: 60,
        }
      }
      return { status: 'published', platformPostId: found.id, url: found.permalink }
    },
  } satisfies Adapter

  if (login === 'instagram') {
    return {
      ...adapter,
      async refreshAccessToken({ refreshToken }: { refreshToken: string }, options?: CallOptions) {
        // Needs a long-lived token at least 24 h old and unexpired; an expired one needs a login.
        const body = await graph(refreshToken).get(
          '/refresh_access_token',
          { grant_type: 'ig_refresh_token' },
          longTokenSchema,
          options,
        )
        return longLivedTokens(body)
      },
    } satisfies Adapter
  }
  return {
    ...adapter,
    // Delete exists on the Facebook-Login graph only (`IGMedia` DELETE; `IGMediaForIGOnlyAPI` has none).
    async deletePost(
      { accessToken, platformPostId }: { accessToken: string; platformPostId: string },
      options?: CallOptions,
    ) {
      try {
        await graph(accessToken).delete(`/${encodeURIComponent(platformPostId)}`, options)
      } catch (error) {
        // Graph answers 100/33 for an object that no longer exists: already deleted.
        if ((error as { platformCode?: string }).platformCode === '33') return
        throw error
      }
    },
  } satisfies Adapter
}

const CONTAINER_LIFETIME_SECONDS = 86_400

// Subcodes of a container that failed for reasons of Instagram's own (a download timeout, a
// failed or unknown upload), not of the media: a new container may succeed
// (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes/).
const TRANSIENT_CONTAINER_SUBCODES = new Set(['2207003', '2207032', '2207053'])

/** The error of a container that cannot be published, classified from its `status` text. */
function containerError(
  container: ContainerStatus,
): ContentRejectedError | PlatformUnavailableError {
  const detail =
    container.status && container.status !== container.status_code ? `: ${container.status}` : ''
  if (container.status_code === 'EXPIRED') {
    return new PlatformUnavailableError(
      'Instagram let the media container expire: it was not published within 24 hours. Publish the post again.',
      { platform: PLATFORM },
    )
  }
  // `status` reads like `Error: 2207026`: the subcode says why.
  const subcode = /\d{7}/.exec(container.status ?? '')?.[0]
  if (subcode && TRANSIENT_CONTAINER_SUBCODES.has(subcode)) {
    return new PlatformUnavailableError(
      `Instagram could not prepare the media (${container.status_code}${detail}); publishing again may succeed.`,
      { platform: PLATFORM },
    )
  }
  return new ContentRejectedError(
    `Instagram could not prepare the media (${container.status_code}${detail}). Check it against Instagram's media specifications.`,
    {
      platform: PLATFORM,
      platformCode: subcode ?? container.status_code,
      ...(container.status ? { platformMessage: container.status } : {}),
    },
  )
}

function handlesRecord(handles: ContainerHandles): PublicationHandles {
  return Object.fromEntries(
    Object.entries(handles).filter((entry): entry is [string, string] => entry[1] !== undefined),
  )
}

function refusedGrant(error: unknown): never {
  if ((error as { code?: string }).code === 'CONTENT_REJECTED') {
    throw new ReconnectRequiredError(
      `Instagram refused the authorization code (${(error as Error).message}). Connect the account again.`,
      { platform: PLATFORM, reason: 'invalid_grant', cause: error },
    )
  }
  throw error
}

function defined<T extends Record<string, number | undefined>>(values: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(values).filter(([, value]) => value !== undefined),
  ) as Partial<T>
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        reject(signal.reason)
      },
      { once: true },
    )
  })
}
