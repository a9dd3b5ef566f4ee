import {
  type AccountCall,
  type Adapter,
  type CallOptions,
  type ContentIssue,
  ContentRejectedError,
  createS256CodeChallenge,
  isAdapterError,
  type OAuthTokens,
  OutcomeUnknownError,
  type PlatformAccount,
  type PostContent,
  type PostMetrics,
  type ProcessingPublication,
  type PublicationCheck,
  type PublicationHandles,
  type PublishedPost,
  type PublishMedia,
  type PublishParams,
  type PublishResult,
  ReconnectRequiredError,
  readJSON,
  UnexpectedResponseError,
} from '@post-scheduler/adapter-core'
import { z } from 'zod'
import {
  facebookCapabilities,
  facebookOptionsSchema,
  validateFacebookPost,
} from '../capabilities.ts'
import {
  DEFAULT_GRAPH_VERSION,
  DIALOG_ORIGIN,
  GRAPH_ORIGIN,
  GRAPH_VIDEO_ORIGIN,
  type GraphContext,
  PLATFORM,
  sendGraphRequest,
} from './http.ts'
import { digestText, findPublication, type LookUpSettings, postURL } from './look-up.ts'
import {
  checkVideo,
  findPageVideo,
  lookUpVideo,
  publishPageVideo,
  publishReel,
  readVideo,
  type VideoContext,
} from './video.ts'

/** Configuration of the Facebook adapter: the app registered at developers.facebook.com. */
export interface FacebookConfig {
  /** The app id. */
  clientId: string
  /** The app secret. */
  clientSecret: string
  /** Our OAuth callback, listed in the app's "Valid OAuth Redirect URIs". */
  redirectURI: string
  /** The Graph API version, e.g. `v24.0`. Meta retires versions about two years after release. */
  graphVersion?: string
  /** Permissions to request instead of `facebookDefaultScopes`. */
  scopes?: string[]
  /**
   * Send a PKCE challenge and verifier (Facebook Login's OIDC code flow with PKCE, documented as
   * "still in testing"). Default `false`; `state` still protects the callback.
   * https://developers.facebook.com/docs/facebook-login/guides/advanced/oidc-token
   */
  pkce?: boolean
  /** Reconciliation tuning (see `docs/adapters/facebook.md`). */
  lookUp?: Partial<LookUpSettings>
  /** The clock, for reconciliation windows. Default `new Date()`. */
  now?: () => Date
  /** Where Graph is, e.g. an emulator. Default `https://graph.facebook.com`. */
  graphBaseURL?: string
  /** Where the Login dialog is, e.g. an emulator. Default `https://www.facebook.com`. */
  dialogBaseURL?: string
  /** Where `POST /{page-id}/videos` goes, e.g. an emulator. Default `https://graph-video.facebook.com`. */
  graphVideoBaseURL?: string
}

/**
 * The permissions requested by default: list the person's Pages, publish and delete Page posts,
 * read their engagement and insights, and comment as the Page (the first comment).
 *
 * @example
 * ```ts
 * facebook({ clientId, clientSecret, redirectURI, scopes: [...facebookDefaultScopes, 'business_management'] })
 * ```
 */
export const facebookDefaultScopes: readonly string[] = [
  'pages_show_list',
  'pages_manage_posts',
  'pages_read_engagement',
  'pages_manage_engagement',
  'read_insights',
]

const tokenSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().default('bearer'),
  expires_in: z.coerce.number().optional(),
})
const permissionsSchema = z.object({
  data: z.array(z.object({ permission: z.string(), status: z.string() })),
})
const pagesSchema = z.object({
  data: z.array(
    z.looseObject({
      id: z.string().min(1),
      name: z.string(),
      access_token: z.string().min(1),
      username: z.string().optional(),
      link: z.string().optional(),
      picture: z.object({ data: z.object({ url: z.string() }) }).optional(),
    }),
  ),
  paging: z
    .object({ cursors: z.object({ after: z.string() }).optional(), next: z.string().optional() })
    .optional(),
})
const idSchema = z.object({ id: z.string().min(1), permalink_url: z.string().optional() })
const successSchema = z.object({ success: z.boolean() })
const countsSchema = z.object({
  shares: z.object({ count: z.number() }).optional(),
  reactions: z.object({ summary: z.object({ total_count: z.number() }) }).optional(),
  comments: z.object({ summary: z.object({ total_count: z.number() }) }).optional(),
})
const insightsSchema = z.object({
  data: z.array(z.object({ name: z.string(), values: z.array(z.object({ value: z.unknown() })) })),
})

const PAGE_FIELDS = 'id,name,username,link,access_token,picture.type(large)'
const ACCOUNTS_PAGE_SIZE = 100

// A retried reel may already be done: its status becomes `publish`'s answer (a failure thrown).
function publishResultOf(result: ProcessingPublication | PublicationCheck): PublishResult {
  switch (result.status) {
    case 'failed':
      throw result.error
    case 'published':
      return { platformPostId: result.platformPostId ?? '', url: result.url }
    case 'processing':
      return {
        status: 'processing',
        handles: result.handles ?? {},
        checkAfterSeconds: result.checkAfterSeconds,
        ...('maxWaitSeconds' in result ? { maxWaitSeconds: result.maxWaitSeconds } : {}),
      }
  }
}

/**
 * The Facebook Pages adapter: Facebook Login, a long-lived user token, the person's Pages (each
 * with its own Page token), and Page posts with text, a link, photos or a video (a Page video
 * through the Resumable Upload API, or a reel), a first comment, delete, insights and
 * reconciliation. A video answers `processing` after its irreversible call, and
 * `checkPublication` reads its status until it is published or has failed.
 *
 * Exactly-once: Graph takes no idempotency key. Photos are uploaded unpublished and their ids
 * checkpointed (a retry reuses them); then the send time and a digest of the text are
 * checkpointed before the feed post. A lost answer is `OUTCOME_UNKNOWN`, and
 * `lookUpPublication` reads the Page's recent `published_posts` for the same text; a retry whose
 * handles show the feed call went out looks first and returns the post it finds.
 *
 * @example
 * ```ts
 * const adapter = facebook({
 *   clientId: process.env.FACEBOOK_APP_ID,
 *   clientSecret: process.env.FACEBOOK_APP_SECRET,
 *   redirectURI: 'https://app.example.com/v1/oauth/facebook/callback',
 *   graphVersion: 'v24.0',
 * })
 * const url = adapter.createAuthorizationURL({ state: generateState(), codeVerifier: generateCodeVerifier() })
 * ```
 */
export function facebook(config: FacebookConfig) {
  const context: GraphContext = {
    graphBaseURL: (config.graphBaseURL ?? GRAPH_ORIGIN).replace(/\/+$/, ''),
    version: config.graphVersion ?? DEFAULT_GRAPH_VERSION,
  }
  const dialogBaseURL = (config.dialogBaseURL ?? DIALOG_ORIGIN).replace(/\/+$/, '')
  const videoContext: VideoContext = {
    ...context,
    graphVideoBaseURL: (config.graphVideoBaseURL ?? GRAPH_VIDEO_ORIGIN).replace(/\/+$/, ''),
    appId: config.clientId,
  }
  const now = config.now ?? (() => new Date())
  const lookUpSettings: LookUpSettings = {
    clockSkewSeconds: config.lookUp?.clockSkewSeconds ?? 300,
    pageSize: config.lookUp?.pageSize ?? 25,
    maxPages: config.lookUp?.maxPages ?? 4,
  }

  async function tokenRequest(
    query: Record<string, string>,
    options: CallOptions | undefined,
  ): Promise<z.output<typeof tokenSchema>> {
    const search = new URLSearchParams({
      client_id: config.clientId,
      client_secret: config.clientSecret,
      ...query,
    })
    try {
      // https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow#confirm
      // The token endpoint is a GET with the secret in the query, as Meta documents it.
      const response = await sendGraphRequest(
        context,
        { method: 'GET', path: `/oauth/access_token?${search}` },
        options,
      )
      return await readJSON(response, tokenSchema, PLATFORM)
    } catch (error) {
      // Graph answers a used, expired or mismatched code (or verifier) with code 100 and the
      // app's wrong secret with code 1 or 101: only the first is fixed by connecting again.
      if (isAdapterError(error, 'CONTENT_REJECTED') && error.platformCode?.startsWith('100')) {
        throw new ReconnectRequiredError(
          `Facebook refused the authorization code (${error.platformMessage ?? error.platformCode}). Start the connection again.`,
          { platform: PLATFORM, status: error.status, reason: 'invalid_grant', cause: error },
        )
      }
      if (
        isAdapterError(error, 'CONTENT_REJECTED') ||
        isAdapterError(error, 'UNEXPECTED_RESPONSE')
      ) {
        throw new UnexpectedResponseError(
          `Facebook refused the token request (${error.message}). Check the app id, secret and redirect URI.`,
          { platform: PLATFORM, status: error.status, cause: error },
        )
      }
      throw error
    }
  }

  function validate(post: PostContent): ContentIssue[] {
    return validateFacebookPost(post)
  }

  async function uploadPhotos(params: PublishParams, options: CallOptions) {
    const handles: Record<string, string> = {}
    const ids: string[] = []
    for (const [index, item] of (params.post.media ?? []).entries()) {
      const key = `photo.${index}`
      const saved = params.handles?.[key]
      if (saved !== undefined) {
        ids.push(saved)
        continue
      }
      // Unpublished photos are not shown on the Page until a feed post attaches them.
      // https://developers.facebook.com/docs/graph-api/reference/page/photos/#Creating
      const form = new FormData()
      form.set('published', 'false')
      if (item.altText) form.set('alt_text_custom', item.altText)
      form.set('source', await item.open({ signal: options.signal }), `photo-${index}`)
      const response = await sendGraphRequest(
        context,
        {
          method: 'POST',
          path: `/${params.accountId}/photos`,
          accessToken: params.accessToken,
          body: form as unknown as Blob,
        },
        options,
      )
      const { id } = await readJSON(response, idSchema, PLATFORM)
      ids.push(id)
      handles[key] = id
      // Saved one by one, so a retry after a failed upload does not upload the others again.
      await params.checkpoint({ [key]: id })
    }
    return ids
  }

  // The feed call is the irreversible one. When Graph refuses it (any error but a lost or
  // unreadable answer), nothing was made: the send time is cleared, so the engine's look-up
  // answers `not_found` and the retry publishes (reusing the photos) instead of ending
  // `unconfirmed`. If clearing fails, the handles still say "sent": safe, never a duplicate.
  async function sendFeedPost(
    graphContext: GraphContext,
    request: Parameters<typeof sendGraphRequest>[1],
    options: CallOptions,
    params: PublishParams,
  ): Promise<Response> {
    try {
      return await sendGraphRequest(graphContext, request, options)
    } catch (error) {
      if (
        isAdapterError(error) &&
        error.code !== 'OUTCOME_UNKNOWN' &&
        error.code !== 'UNEXPECTED_RESPONSE'
      ) {
        await params.checkpoint({ sentAt: '', textDigest: '' }).catch(() => undefined)
      }
      throw error
    }
  }

  async function publishVideo(
    params: PublishParams,
    media: PublishMedia,
    postOptions: z.output<typeof facebookOptionsSchema>,
    options: CallOptions,
  ): Promise<PublishResult> {
    const handles = params.handles ?? {}
    const video = {
      accessToken: params.accessToken,
      accountId: params.accountId,
      handles,
      media,
      description: params.post.text,
      title: postOptions.title,
      checkpoint: params.checkpoint,
      now,
    }
    if (postOptions.videoFormat === 'reel') {
      return publishResultOf(await publishReel(videoContext, video, options))
    }
    // An earlier attempt sent the video call and its answer was lost: look first.
    if (handles.sentAt) {
      const found = await findPageVideo(
        context,
        lookUpSettings,
        { accessToken: params.accessToken, accountId: params.accountId, handles },
        options,
      )
      if (found.status === 'published' || found.status === 'processing') return found
      throw new OutcomeUnknownError(
        `An earlier attempt sent this video and Facebook does not list it (${found.status === 'unknown' ? found.reason : 'not found'}); publishing again could post it twice. Check the Page's videos before publishing it again.`,
        { platform: PLATFORM },
      )
    }
    return publishPageVideo(videoContext, video, options)
  }

  return {
    id: 'facebook',
    capabilities: facebookCapabilities,

    createAuthorizationURL({ state, codeVerifier, scopes }) {
      // https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow#login
      const url = new URL(`${dialogBaseURL}/${context.version}/dialog/oauth`)
      url.searchParams.set('client_id', config.clientId)
      url.searchParams.set('redirect_uri', config.redirectURI)
      url.searchParams.set('state', state)
      url.searchParams.set('response_type', 'code')
      // Facebook separates permissions with commas.
      url.searchParams.set('scope', (scopes ?? config.scopes ?? facebookDefaultScopes).join(','))
      if (config.pkce) {
        url.searchParams.set('code_challenge', createS256CodeChallenge(codeVerifier))
        url.searchParams.set('code_challenge_method', 'S256')
      }
      return url
    },

    async validateAuthorizationCode(
      { code, codeVerifier }: { code: string; codeVerifier: string },
      options?: CallOptions,
    ) {
      const startedAt = Date.now()
      const short = await tokenRequest(
        {
          redirect_uri: config.redirectURI,
          code,
          ...(config.pkce ? { code_verifier: codeVerifier } : {}),
        },
        options,
      )
      // The code gives a short-lived user token (about an hour); Page tokens read with a
      // long-lived one (about 60 days) never expire, so exchange it before listing Pages.
      // https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived
      const long = await tokenRequest(
        { grant_type: 'fb_exchange_token', fb_exchange_token: short.access_token },
        options,
      )
      const permissions = await sendGraphRequest(
        context,
        { method: 'GET', path: '/me/permissions', accessToken: long.access_token },
        options,
      )
      const { data } = await readJSON(permissions, permissionsSchema, PLATFORM)
      return {
        accessToken: long.access_token,
        accessTokenExpiresAt:
          long.expires_in === undefined ? undefined : new Date(startedAt + long.expires_in * 1000),
        refreshToken: undefined,
        refreshTokenExpiresAt: undefined,
        scopes: data.filter((entry) => entry.status === 'granted').map((entry) => entry.permission),
        tokenType: long.token_type,
      } satisfies OAuthTokens
    },

    async revokeToken({ token }: { token: string }, options?: CallOptions) {
      // Removing the app's permissions de-authorizes it, which also ends the Page tokens.
      // https://developers.facebook.com/docs/graph-api/reference/user/permissions/#Deleting
      const response = await sendGraphRequest(
        context,
        { method: 'DELETE', path: '/me/permissions', accessToken: token },
        options,
      )
      await readJSON(response, successSchema, PLATFORM)
    },

    async listAccounts({ accessToken }: { accessToken: string }, options?: CallOptions) {
      // The Pages the person manages, each with its own Page token (the contract's per-account
      // credentials). https://developers.facebook.com/docs/pages-api/overview#get-page-token
      const accounts: PlatformAccount[] = []
      let after: string | undefined
      for (let page = 0; page < 10; page++) {
        const query = new URLSearchParams({
          fields: PAGE_FIELDS,
          limit: String(ACCOUNTS_PAGE_SIZE),
        })
        if (after) query.set('after', after)
        const response = await sendGraphRequest(
          context,
          { method: 'GET', path: `/me/accounts?${query}`, accessToken },
          options,
        )
        const { data, paging } = await readJSON(response, pagesSchema, PLATFORM)
        for (const entry of data) {
          accounts.push({
            id: entry.id,
            kind: 'page',
            name: entry.name,
            ...(entry.username ? { username: entry.username } : {}),
            ...(entry.picture ? { avatarURL: entry.picture.data.url } : {}),
            profileURL: entry.link ?? `https://www.facebook.com/${entry.id}`,
            accessToken: entry.access_token,
          })
        }
        after = paging?.next ? paging.cursors?.after : undefined
        if (!after) break
      }
      return accounts
    },

    validatePost({ post }) {
      return validate(post)
    },

    async publish(params, options = {}): Promise<PublishResult> {
      const { post } = params
      const issues = validate(post)
      if (issues.length > 0) {
        throw new ContentRejectedError(
          `The post does not fit Facebook: ${issues.map((issue) => issue.message).join(' ')}`,
          { platform: PLATFORM, issues },
        )
      }
      const postOptions = facebookOptionsSchema.parse(post.options ?? {})
      const call = { accessToken: params.accessToken, accountId: params.accountId }
      const video = post.media?.find((item) => item.kind === 'video')
      if (video) return publishVideo(params, video, postOptions, options)

      // An earlier attempt sent the feed call and its outcome was not proven: look first.
      if (params.handles?.sentAt) {
        const found = await findPublication(
          context,
          lookUpSettings,
          { ...call, handles: params.handles },
          options,
        )
        if (found.status === 'published') {
          return { platformPostId: found.platformPostId, url: found.url }
        }
        throw new OutcomeUnknownError(
          `An earlier attempt sent this post and Facebook does not list it (${found.status === 'unknown' ? found.reason : 'not found'}); publishing again could post it twice. Check the Page before publishing it again.`,
          { platform: PLATFORM },
        )
      }

      const photoIds = await uploadPhotos(params, options)
      await params.checkpoint({
        sentAt: now().toISOString(),
        textDigest: await digestText(post.text),
      })
      // https://developers.facebook.com/docs/pages-api/posts#publish-posts
      const response = await sendFeedPost(
        context,
        {
          method: 'POST',
          path: `/${params.accountId}/feed?fields=id,permalink_url`,
          accessToken: params.accessToken,
          json: {
            message: post.text,
            ...(postOptions.link ? { link: postOptions.link } : {}),
            ...(photoIds.length > 0
              ? { attached_media: photoIds.map((id) => ({ media_fbid: id })) }
              : {}),
            published: true,
          },
          irreversible: true,
        },
        options,
        params,
      )
      const created = await readJSON(response, idSchema, PLATFORM)
      const published: PublishedPost = {
        platformPostId: created.id,
        url: created.permalink_url ?? postURL(created.id),
      }
      if (post.firstComment) {
        try {
          const comment = await sendGraphRequest(
            context,
            {
              method: 'POST',
              path: `/${created.id}/comments`,
              accessToken: params.accessToken,
              json: { message: post.firstComment },
            },
            options,
          )
          published.firstCommentId = (await readJSON(comment, idSchema, PLATFORM)).id
        } catch {
          // The post is made: a failed comment must not make the runner publish it again.
          // `firstCommentId` stays absent, which is how the caller learns of it.
        }
      }
      return published
    },

    async deletePost(
      { accessToken, platformPostId }: AccountCall & { platformPostId: string },
      options?: CallOptions,
    ) {
      try {
        const response = await sendGraphRequest(
          context,
          { method: 'DELETE', path: `/${platformPostId}`, accessToken },
          options,
        )
        await readJSON(response, successSchema, PLATFORM)
      } catch (error) {
        // Graph answers a post that no longer exists with code 100, subcode 33.
        if (isAdapterError(error, 'CONTENT_REJECTED') && error.platformCode === '100/33') return
        throw error
      }
    },

    async getMetrics(
      { accessToken, platformPostIds }: AccountCall & { platformPostIds: string[] },
      options,
    ) {
      const metrics: PostMetrics[] = []
      for (const id of platformPostIds) {
        const counts = await readJSON(
          await sendGraphRequest(
            context,
            {
              method: 'GET',
              path: `/${id}?fields=shares,reactions.limit(0).summary(total_count),comments.limit(0).summary(total_count)`,
              accessToken,
            },
            options,
          ),
          countsSchema,
          PLATFORM,
        )
        // post_impressions_unique was retired on 2026-06-15 for post_total_media_view_unique.
        const insights = await readJSON(
          await sendGraphRequest(
            context,
            {
              method: 'GET',
              path: `/${id}/insights?metric=post_total_media_view_unique,post_clicks`,
              accessToken,
            },
            options,
          ),
          insightsSchema,
          PLATFORM,
        )
        const value = (name: string) => {
          const found = insights.data.find((entry) => entry.name === name)?.values[0]?.value
          return typeof found === 'number' ? found : undefined
        }
        const entry: PostMetrics = { platformPostId: id, measuredAt: now() }
        const views = value('post_total_media_view_unique')
        const clicks = value('post_clicks')
        if (views !== undefined) entry.views = views
        if (clicks !== undefined) entry.clicks = clicks
        if (counts.reactions) entry.likes = counts.reactions.summary.total_count
        if (counts.comments) entry.comments = counts.comments.summary.total_count
        entry.shares = counts.shares?.count ?? 0
        metrics.push(entry)
      }
      return metrics
    },

    async checkPublication(
      { accessToken, handles }: AccountCall & { handles: PublicationHandles },
      options?: CallOptions,
    ): Promise<PublicationCheck> {
      const { videoId } = handles
      if (!videoId) {
        throw new UnexpectedResponseError(
          'There is no Facebook video id among the publication’s handles, so its status cannot be read.',
          { platform: PLATFORM },
        )
      }
      return checkVideo(await readVideo(context, accessToken, videoId, options ?? {}))
    },

    async lookUpPublication(
      {
        accessToken,
        accountId,
        handles,
      }: AccountCall & { attemptId: string; handles: PublicationHandles },
      options?: CallOptions,
    ) {
      if (handles.videoId && (handles.videoFormat !== 'reel' || handles.sentAt)) {
        const video = await readVideo(context, accessToken, handles.videoId, options ?? {})
        // Uploaded and never finished: the finish call may still be on its way, so not
        // `not_found`; a retry of `publish` sends it again for the same video id.
        if (video.status?.video_status === 'upload_complete') {
          return {
            status: 'unknown',
            reason: 'The reel is uploaded and Facebook has not yet been asked to publish it.',
            retryAfterSeconds: 60,
          }
        }
        return lookUpVideo(video)
      }
      if (handles.videoFormat === 'reel') return { status: 'not_found' }
      if (handles.videoFormat === 'video') {
        return findPageVideo(
          context,
          lookUpSettings,
          { accessToken, accountId, handles },
          options ?? {},
        )
      }
      return findPublication(
        context,
        lookUpSettings,
        { accessToken, accountId, handles },
        options ?? {},
      )
    },
  } satisfies Adapter
}
