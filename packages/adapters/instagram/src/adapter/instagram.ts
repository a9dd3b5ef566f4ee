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
  type PublicationLookUp,
  type PublishedPost,
  type PublishMedia,
  type PublishParams,
  RateLimitedError,
  ReconnectRequiredError,
  readJSON,
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
import { type ContainerHandles, findPublishedMedia, readContainerStatus } from './look-up.ts'

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
   * How image containers are polled before `media_publish`. Image containers are usually
   * `FINISHED` at once; Meta's guidance is at most once a minute for five minutes, so a container
   * still in progress after these attempts ends the call with a retryable error and a 60 s wait,
   * the container saved for the next attempt. Default 4 attempts, 2,000 ms apart.
   */
  containerPolling?: { attempts?: number; intervalMs?: number }
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
 * Login, image posts, carousels of 2–10 images and image stories through media containers,
 * captions, alt text, collaborators, a first comment, metrics, and delete with Facebook Login.
 * Media are handed over by URL (`PublishMedia.publicURL`): Instagram fetches them.
 *
 * Exactly once: the container id is saved with `checkpoint` before `media_publish`; a retry
 * reuses it, and a container that reads `PUBLISHED` is never published again.
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
      throw new ContentRejectedError('An Instagram post needs an image.', { platform: PLATFORM })
    if (placement === 'story') {
      return (
        await client.post(edge, { media_type: 'STORIES', image_url: url(first) }, idSchema, options)
      ).id
    }
    if (media.length === 1) {
      const params = {
        image_url: url(first),
        caption: call.post.text,
        ...withAlt(first),
        ...collab,
      }
      return (await client.post(edge, params, idSchema, options)).id
    }
    // A carousel: one container per image (no caption on items), then the parent.
    const children: string[] = []
    for (const item of media) {
      const params = { image_url: url(item), is_carousel_item: 'true', ...withAlt(item) }
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

    async publish(params: PublishParams, options?: CallOptions): Promise<PublishedPost> {
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
      let handles = handlesOf(params)
      if (handles) {
        const container = await readContainerStatus(client, handles.containerId, options)
        if (container.status_code === 'PUBLISHED') {
          const found = await findPublishedMedia(client, params.accountId, handles, options)
          if (!found) {
            throw new OutcomeUnknownError(
              'Instagram: the saved container reads PUBLISHED, but its post is not among the account’s recent media yet. Look it up again later.',
              { platform: PLATFORM },
            )
          }
          return finish(client, found.id, firstComment, options)
        }
        // Expired or failed containers cannot be published: start again with a new one.
        if (container.status_code === 'EXPIRED' || container.status_code === 'ERROR')
          handles = undefined
      }
      if (!handles) {
        const createdAt = now().toISOString()
        const containerId = await createContainers(params, placement, collaborators, options)
        handles = {
          containerId,
          createdAt,
          caption: placement === 'story' ? '' : params.post.text,
          placement,
        }
      }
      const container = await waitUntilFinished(client, handles.containerId, options)
      if (container.status_code === 'IN_PROGRESS') {
        await params.checkpoint({ ...handles })
        throw new PlatformUnavailableError(
          'Instagram is still processing the media; the container is saved and the next attempt publishes it.',
          { platform: PLATFORM, retryAfterSeconds: 60 },
        )
      }
      if (container.status_code !== 'FINISHED') {
        throw new ContentRejectedError(
          `Instagram could not prepare the media (${container.status_code}${container.status ? `: ${container.status}` : ''}).`,
          {
            platform: PLATFORM,
            platformCode: /\d{7}/.exec(container.status ?? '')?.[0] ?? container.status_code,
            platformMessage: container.status,
          },
        )
      }
      await checkQuota(client, params.accountId, options)
      await params.checkpoint({ ...handles })
      const published = await client.post(
        `/${encodeURIComponent(params.accountId)}/media_publish`,
        { creation_id: handles.containerId },
        idSchema,
        { ...options, irreversible: true },
      )
      return finish(client, published.id, firstComment, options)
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
