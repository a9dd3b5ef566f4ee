import {
  type AccountCall,
  type Adapter,
  type CallOptions,
  ContentRejectedError,
  createS256CodeChallenge,
  isAdapterError,
  OutcomeUnknownError,
  type PublicationHandles,
  type PublicationLookUp,
  type PublishParams,
  readJSON,
  requestTokens,
  sendTokenEndpointRequest,
} from '@post-scheduler/adapter-core'
import { z } from 'zod'
import { validateXPost, type XRules, xCapabilities, xOptionsSchema } from '../capabilities.ts'
import { PLATFORM, sendXRequest, withXGrantErrors, xErrorCodes } from './errors.ts'
import { digestPostText, recoverSentText, type TimelinePost } from './matching.ts'
import { uploadXMedia, type XMediaOptions } from './media.ts'

/** How `lookUpPublication` searches the account's timeline for a post whose answer was lost. */
export interface XReconciliationOptions {
  /**
   * Seconds after an attempt before an empty timeline proves the post was not made. X's
   * timeline is eventually consistent and how long a new post takes to appear is UNCONFIRMED;
   * until then the answer is `unknown` with `retryAfterSeconds`. Defaults to 60.
   */
  settleSeconds?: number
  /** Searched this long before the checkpointed attempt time, for clock skew. Defaults to 300. */
  clockSkewSeconds?: number
  /** Timeline pages of 100 posts read at most; more means `unknown`. Defaults to 5. */
  maxPages?: number
}

/** Configuration of the X adapter: your X app, and what your access level allows. */
export interface XConfig extends XRules {
  /** OAuth 2.0 Client ID from the X developer portal (not the API key of OAuth 1.0a). */
  clientId: string
  /**
   * OAuth 2.0 Client Secret of a confidential client (Web App, Automated App): sent as HTTP Basic
   * at the token endpoint. Omit for a public client (Native App, SPA).
   */
  clientSecret?: string
  /** Our callback, registered exactly in the app's settings. */
  redirectURI: string
  /** Defaults to `tweet.read tweet.write users.read media.write offline.access`. */
  scopes?: string[]
  /** Defaults to `https://api.x.com`. */
  apiBaseURL?: string
  /** Where people consent. Defaults to `https://x.com/i/oauth2/authorize`. */
  authorizationURL?: string
  media?: XMediaOptions
  reconciliation?: XReconciliationOptions
  /** The clock, for expiry and look-up windows. Defaults to `() => new Date()`. */
  now?: () => Date
}

/** The scopes the adapter needs: post, read back (look-up, metrics), upload, stay connected. */
export const xDefaultScopes = [
  'tweet.read',
  'tweet.write',
  'users.read',
  'media.write',
  'offline.access',
]

const userSchema = z.object({
  data: z.object({
    id: z.string(),
    name: z.string(),
    username: z.string(),
    profile_image_url: z.string().optional(),
  }),
})

const createdSchema = z.object({ data: z.object({ id: z.string(), text: z.string() }) })

const timelineSchema = z.object({
  data: z
    .array(
      z.looseObject({
        id: z.string(),
        text: z.string(),
        created_at: z.string().optional(),
        note_tweet: z
          .object({
            text: z.string(),
            entities: z
              .looseObject({
                urls: z
                  .array(z.looseObject({ start: z.number(), end: z.number(), url: z.string() }))
                  .optional(),
              })
              .optional(),
          })
          .optional(),
        entities: z
          .looseObject({
            urls: z
              .array(
                z.looseObject({
                  start: z.number(),
                  end: z.number(),
                  url: z.string(),
                  expanded_url: z.string().optional(),
                  media_key: z.string().optional(),
                }),
              )
              .optional(),
          })
          .optional(),
        attachments: z.looseObject({ media_keys: z.array(z.string()).optional() }).optional(),
        referenced_tweets: z.array(z.object({ type: z.string(), id: z.string() })).optional(),
      }),
    )
    .optional(),
  meta: z.looseObject({ next_token: z.string().optional() }).optional(),
})

const metricsSchema = z.object({
  data: z
    .array(
      z.object({
        id: z.string(),
        public_metrics: z
          .object({
            retweet_count: z.number(),
            reply_count: z.number(),
            like_count: z.number(),
            quote_count: z.number().optional(),
            impression_count: z.number().optional(),
          })
          .optional(),
        attachments: z.object({ media_keys: z.array(z.string()).optional() }).optional(),
      }),
    )
    .optional(),
  includes: z
    .object({
      media: z
        .array(
          z.object({
            media_key: z.string(),
            public_metrics: z.object({ view_count: z.number().optional() }).optional(),
          }),
        )
        .optional(),
    })
    .optional(),
})

/**
 * Handle keys: `part.<n>.sentAt|digest|id|refusedAt` per post of a thread (`refusedAt` equals
 * `sentAt` when X answered that attempt with a refusal), plus `mediaIds`, `mediaExpiresAt` and
 * `parts`.
 */
const key = (part: number, field: 'sentAt' | 'digest' | 'id' | 'refusedAt') =>
  `part.${part}.${field}`

/** Whether the post request of this part may have reached X: sent, and not refused by X. */
const maybeSent = (handles: PublicationHandles, part: number) => {
  const sentAt = handles[key(part, 'sentAt')]
  return sentAt !== undefined && handles[key(part, 'refusedAt')] !== sentAt
}

/**
 * The X adapter (API v2): OAuth 2.0 with PKCE, text with X's weighted count, up to 4 images or
 * 1 GIF or 1 video (chunked upload, processing polled), threads, reply settings, delete, metrics.
 *
 * Exactly-once: X has no idempotency key, so `publish` checkpoints, before each post it sends,
 * the time of the attempt, a digest of the text and the uploaded media ids, and after each post
 * of a thread its id. A lost answer is `OUTCOME_UNKNOWN`; `lookUpPublication` searches the
 * account's timeline from that time for a post with that digest (and media, and reply parent),
 * and answers `not_found` only once the timeline has had time to show it. A retry with the
 * saved handles looks up first, reuses media, and resumes a thread after its last live post.
 *
 * @example
 * ```ts
 * const adapter = x({
 *   clientId: process.env.X_CLIENT_ID,
 *   clientSecret: process.env.X_CLIENT_SECRET,
 *   redirectURI: 'https://scheduler.example.com/v1/connections/x/callback',
 * })
 * const url = adapter.createAuthorizationURL({ state: generateState(), codeVerifier: generateCodeVerifier() })
 * ```
 */
export function x(config: XConfig) {
  const apiBaseURL = (config.apiBaseURL ?? 'https://api.x.com').replace(/\/+$/, '')
  const now = config.now ?? (() => new Date())
  const reconciliation = {
    settleSeconds: config.reconciliation?.settleSeconds ?? 60,
    clockSkewSeconds: config.reconciliation?.clockSkewSeconds ?? 300,
    maxPages: config.reconciliation?.maxPages ?? 5,
  }
  const bearer = (accessToken: string) => ({ authorization: `Bearer ${accessToken}` })
  const tokenRequest = (path: string, body: Record<string, string>) => ({
    platform: PLATFORM,
    url: `${apiBaseURL}${path}`,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    // Confidential clients authenticate with HTTP Basic; public ones send client_id in the body.
    authentication: 'basic' as const,
    body,
  })
  const postURL = (id: string) => `https://x.com/i/web/status/${id}`

  async function findPart(
    call: AccountCall,
    handles: PublicationHandles,
    part: number,
    previousId: string | undefined,
    options: CallOptions,
  ): Promise<
    { status: 'found'; id: string } | Exclude<PublicationLookUp, { status: 'published' }>
  > {
    const sentAt = new Date(handles[key(part, 'sentAt')] ?? '')
    const digest = handles[key(part, 'digest')]
    if (Number.isNaN(sentAt.getTime()) || digest === undefined) {
      return { status: 'unknown', reason: `the handles of post ${part + 1} are incomplete` }
    }
    const mediaKeys = part === 0 && handles.mediaIds ? handles.mediaIds.split(',') : []
    const startTime = new Date(sentAt.getTime() - reconciliation.clockSkewSeconds * 1000)
    let paginationToken: string | undefined
    for (let page = 0; page < reconciliation.maxPages; page++) {
      const url = new URL(`${apiBaseURL}/2/users/${encodeURIComponent(call.accountId)}/tweets`)
      url.searchParams.set('start_time', startTime.toISOString().replace(/\.\d{3}Z$/, 'Z'))
      url.searchParams.set('max_results', '100')
      url.searchParams.set('exclude', 'retweets')
      url.searchParams.set(
        'tweet.fields',
        'created_at,entities,attachments,referenced_tweets,note_tweet',
      )
      if (paginationToken) url.searchParams.set('pagination_token', paginationToken)
      const response = await sendXRequest(
        { method: 'GET', url, headers: bearer(call.accessToken) },
        options,
        now,
      )
      const timeline = await readJSON(response, timelineSchema, PLATFORM)
      for (const post of timeline.data ?? []) {
        if ((await digestPostText(recoverSentText(post as TimelinePost))) !== digest) continue
        const keys = post.attachments?.media_keys ?? []
        if (!mediaKeys.every((id) => keys.some((candidate) => candidate.endsWith(`_${id}`)))) {
          continue
        }
        const parent = post.referenced_tweets?.find((reference) => reference.type === 'replied_to')
        if (previousId !== undefined && parent?.id !== previousId) continue
        return { status: 'found', id: post.id }
      }
      paginationToken = timeline.meta?.next_token
      if (!paginationToken) {
        const waited = (now().getTime() - sentAt.getTime()) / 1000
        if (waited < reconciliation.settleSeconds) {
          return {
            status: 'unknown',
            reason: `X's timeline may not show post ${part + 1} yet`,
            retryAfterSeconds: Math.ceil(reconciliation.settleSeconds - waited),
          }
        }
        return { status: 'not_found' }
      }
    }
    return {
      status: 'unknown',
      reason: `more than ${reconciliation.maxPages * 100} posts since the attempt; cannot prove absence`,
    }
  }

  async function lookUp(
    call: AccountCall,
    handles: PublicationHandles,
    options: CallOptions,
  ): Promise<PublicationLookUp> {
    // The checkpoint precedes every post sent: no time for the first post, nothing was sent;
    // a refusal from X answered the attempt that was sent.
    if (!maybeSent(handles, 0) && handles[key(0, 'id')] === undefined)
      return { status: 'not_found' }
    const parts = Number(handles.parts ?? '1')
    const ids: string[] = []
    for (let part = 0; part < parts; part++) {
      const saved = handles[key(part, 'id')]
      if (saved) {
        ids.push(saved)
        continue
      }
      // Never sent, or refused: publishing again (with these handles) resumes here.
      if (!maybeSent(handles, part)) return { status: 'not_found' }
      const found = await findPart(call, handles, part, ids[part - 1], options)
      if (found.status !== 'found') return found
      ids.push(found.id)
    }
    const [first = '', ...rest] = ids
    return { status: 'published', platformPostId: first, url: postURL(first), threadPostIds: rest }
  }

  return {
    id: PLATFORM,
    capabilities: xCapabilities,

    createAuthorizationURL({ state, codeVerifier, scopes }) {
      const url = new URL(config.authorizationURL ?? 'https://x.com/i/oauth2/authorize')
      url.searchParams.set('response_type', 'code')
      url.searchParams.set('client_id', config.clientId)
      url.searchParams.set('redirect_uri', config.redirectURI)
      url.searchParams.set('scope', (scopes ?? config.scopes ?? xDefaultScopes).join(' '))
      url.searchParams.set('state', state)
      url.searchParams.set('code_challenge', createS256CodeChallenge(codeVerifier))
      url.searchParams.set('code_challenge_method', 'S256')
      return url
    },

    // The code lives 30 seconds: exchange it in the callback request itself.
    validateAuthorizationCode({ code, codeVerifier }, options?: CallOptions) {
      return withXGrantErrors(() =>
        requestTokens(
          tokenRequest('/2/oauth2/token', {
            grant_type: 'authorization_code',
            code,
            redirect_uri: config.redirectURI,
            code_verifier: codeVerifier,
          }),
          options,
        ),
      )
    },

    // X rotates refresh tokens: the old one dies once used, so store the returned one at once.
    refreshAccessToken({ refreshToken }, options?: CallOptions) {
      return withXGrantErrors(() =>
        requestTokens(
          tokenRequest('/2/oauth2/token', {
            grant_type: 'refresh_token',
            refresh_token: refreshToken,
          }),
          options,
        ),
      )
    },

    async revokeToken({ token }, options?: CallOptions) {
      await sendTokenEndpointRequest(tokenRequest('/2/oauth2/revoke', { token }), options)
    },

    async listAccounts({ accessToken }, options?: CallOptions) {
      const url = new URL(`${apiBaseURL}/2/users/me`)
      url.searchParams.set('user.fields', 'profile_image_url')
      const response = await sendXRequest(
        { method: 'GET', url, headers: bearer(accessToken) },
        options ?? {},
        now,
      )
      const { data } = await readJSON(response, userSchema, PLATFORM)
      return [
        {
          id: data.id,
          kind: 'personal' as const,
          name: data.name,
          username: data.username,
          avatarURL: data.profile_image_url,
          profileURL: `https://x.com/${data.username}`,
        },
      ]
    },

    validatePost({ post }) {
      return validateXPost(post, config)
    },

    async publish(params: PublishParams, options: CallOptions = {}) {
      const { post } = params
      const issues = validateXPost(post, config)
      if (issues.length > 0) {
        throw new ContentRejectedError(
          `The post does not fit X: ${issues.map((issue) => issue.message).join(' ')}`,
          { platform: PLATFORM, issues },
        )
      }
      const call = { accessToken: params.accessToken, accountId: params.accountId }
      const handles: Record<string, string> = { ...params.handles }
      const texts = [post.text, ...(post.thread ?? []).map((part) => part.text)]
      const replySettings = xOptionsSchema.parse(post.options ?? {}).replySettings

      // An earlier attempt may have sent a post whose answer was lost: find it before sending
      // anything, and never send while that cannot be known.
      const pending = texts.findIndex(
        (_, part) => maybeSent(handles, part) && !handles[key(part, 'id')],
      )
      if (pending >= 0) {
        const found = await findPart(
          call,
          handles,
          pending,
          handles[key(pending - 1, 'id')],
          options,
        )
        if (found.status === 'unknown') {
          throw new OutcomeUnknownError(
            `An earlier attempt may have published post ${pending + 1} on X (${found.reason}); look it up again${
              found.retryAfterSeconds ? ` in ${found.retryAfterSeconds} s` : ' later'
            } before publishing.`,
            { platform: PLATFORM },
          )
        }
        if (found.status === 'found') handles[key(pending, 'id')] = found.id
      }

      let mediaIds = handles.mediaIds?.split(',') ?? []
      const mediaExpiresAt = new Date(handles.mediaExpiresAt ?? 0)
      const media = post.media ?? []
      if (!handles[key(0, 'id')] && media.length > 0) {
        // Reuse uploads of an earlier attempt while X keeps them (an hour of margin).
        if (
          mediaIds.length !== media.length ||
          mediaExpiresAt.getTime() < now().getTime() + 3_600_000
        ) {
          const uploaded = []
          for (const [index, item] of media.entries()) {
            uploaded.push(
              await uploadXMedia(
                {
                  ...config.media,
                  apiBaseURL,
                  accessToken: params.accessToken,
                  media: item,
                  index,
                  now,
                },
                options,
              ),
            )
          }
          mediaIds = uploaded.map((item) => item.id)
          handles.mediaIds = mediaIds.join(',')
          handles.mediaExpiresAt = new Date(
            Math.min(...uploaded.map((item) => item.expiresAt.getTime())),
          ).toISOString()
        }
      }

      const ids: string[] = []
      for (const [part, text] of texts.entries()) {
        const saved = handles[key(part, 'id')]
        if (saved) {
          ids.push(saved)
          continue
        }
        const previousId = ids[part - 1]
        const retried = maybeSent(handles, part)
        handles.parts = String(texts.length)
        handles[key(part, 'sentAt')] = now().toISOString()
        handles[key(part, 'digest')] = await digestPostText(text)
        await params.checkpoint({ ...handles })
        const body = {
          ...(text.trim() === '' ? {} : { text }),
          ...(part === 0 && mediaIds.length > 0 ? { media: { media_ids: mediaIds } } : {}),
          ...(previousId ? { reply: { in_reply_to_tweet_id: previousId } } : {}),
          ...(replySettings === 'everyone' ? {} : { reply_settings: replySettings }),
        }
        let response: Response
        try {
          response = await sendXRequest(
            {
              method: 'POST',
              url: `${apiBaseURL}/2/tweets`,
              headers: bearer(params.accessToken),
              json: body,
              irreversible: true,
            },
            options,
            now,
          )
        } catch (error) {
          const described = describePartFailure(error, part, ids, retried)
          if (isAdapterError(described) && described.code !== 'OUTCOME_UNKNOWN') {
            // X answered no: record it, so the next attempt need not wait to prove it. Best
            // effort: without it the next attempt looks the post up first, which is also safe.
            handles[key(part, 'refusedAt')] = handles[key(part, 'sentAt')] ?? ''
            await params.checkpoint({ ...handles }).catch(() => undefined)
          }
          throw described
        }
        // A 2xx X answered but we cannot read: the post exists, its id unknown. Reconcile.
        const created = await readJSON(response, createdSchema, PLATFORM).catch(
          (error: unknown) => {
            throw new OutcomeUnknownError(
              `X accepted post ${part + 1} but its answer could not be read; look it up before trying again.`,
              { platform: PLATFORM, status: response.status, cause: error },
            )
          },
        )
        ids.push(created.data.id)
        handles[key(part, 'id')] = created.data.id
      }
      const [first = '', ...rest] = ids
      return { platformPostId: first, url: postURL(first), threadPostIds: rest }
    },

    async deletePost({ accessToken, platformPostId }, options?: CallOptions) {
      try {
        await sendXRequest(
          {
            method: 'DELETE',
            url: `${apiBaseURL}/2/tweets/${encodeURIComponent(platformPostId)}`,
            headers: bearer(accessToken),
          },
          options ?? {},
          now,
        )
      } catch (error) {
        // Already gone is what the caller wanted.
        if (isAdapterError(error) && error.status === 404) return
        throw error
      }
    },

    async getMetrics({ accessToken, platformPostIds }, options?: CallOptions) {
      const metrics = []
      for (let start = 0; start < platformPostIds.length; start += 100) {
        const url = new URL(`${apiBaseURL}/2/tweets`)
        url.searchParams.set('ids', platformPostIds.slice(start, start + 100).join(','))
        // public_metrics only: non-public and organic metrics fail for posts over 30 days old.
        url.searchParams.set('tweet.fields', 'public_metrics,attachments')
        url.searchParams.set('expansions', 'attachments.media_keys')
        url.searchParams.set('media.fields', 'public_metrics')
        const response = await sendXRequest(
          { method: 'GET', url, headers: bearer(accessToken) },
          options ?? {},
          now,
        )
        const body = await readJSON(response, metricsSchema, PLATFORM)
        const views = new Map(
          (body.includes?.media ?? []).map((item) => [
            item.media_key,
            item.public_metrics?.view_count,
          ]),
        )
        const measuredAt = now()
        for (const post of body.data ?? []) {
          const counts = post.public_metrics
          const view = (post.attachments?.media_keys ?? [])
            .map((mediaKey) => views.get(mediaKey))
            .find((value) => value !== undefined)
          metrics.push({
            platformPostId: post.id,
            impressions: counts?.impression_count,
            views: view,
            likes: counts?.like_count,
            comments: counts?.reply_count,
            shares: counts ? counts.retweet_count + (counts.quote_count ?? 0) : undefined,
            measuredAt,
          })
        }
      }
      return metrics
    },

    lookUpPublication({ accessToken, accountId, handles }, options?: CallOptions) {
      return lookUp({ accessToken, accountId }, handles, options ?? {})
    },
  } satisfies Adapter
}

function describePartFailure(
  error: unknown,
  part: number,
  ids: string[],
  retried: boolean,
): unknown {
  if (!isAdapterError(error, 'CONTENT_REJECTED')) return error
  // A duplicate of what an earlier attempt may have posted is not the person's mistake: the
  // look-up before sending could not see it yet. Reconcile rather than fail.
  if (retried && error.platformCode === xErrorCodes.duplicateContent) {
    return new OutcomeUnknownError(
      `X calls post ${part + 1} a duplicate, so an earlier attempt probably published it; look it up before trying again.`,
      { platform: PLATFORM, status: error.status, cause: error },
    )
  }
  if (part === 0) return error
  return new ContentRejectedError(
    `X refused post ${part + 1} of the thread; posts 1 to ${part} are published (${ids.join(', ')}). ${error.message}`,
    {
      platform: PLATFORM,
      status: error.status,
      cause: error,
      platformCode: error.platformCode,
      platformMessage: error.platformMessage,
      issues: [{ path: ['thread', part - 1], code: 'PLATFORM_REJECTED', message: error.message }],
    },
  )
}
