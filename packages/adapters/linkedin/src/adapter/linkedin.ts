import {
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
  type PublishParams,
  ReconnectRequiredError,
  readJSON,
  requestTokens,
  UnexpectedResponseError,
  validatePostContent,
} from '@post-scheduler/adapter-core'
import { z } from 'zod'
import {
  LINKEDIN_MAX_IMAGE_PIXELS,
  linkedinCapabilities,
  linkedinOptionsSchema,
} from '../capabilities.ts'
import {
  API_ORIGIN,
  duplicateOf,
  type LinkedInHTTPContext,
  OAUTH_BASE_URL,
  PLATFORM,
  sendLinkedInRequest,
} from './http.ts'
import { findPublication, type LookUpSettings, postURL } from './look-up.ts'
import { type MediaSettings, uploadMedia, waitForVideo } from './media.ts'
import { getMemberMetrics, getOrganizationMetrics } from './metrics.ts'
import { digestText, escapeLittleText } from './text.ts'

/** Configuration of the LinkedIn adapter: the app registered in LinkedIn's Developer Portal. */
export interface LinkedInConfig {
  clientId: string
  clientSecret: string
  /** Our OAuth callback, registered on the app's Auth tab. */
  redirectURI: string
  /**
   * Whether the app has the Community Management API, to connect organization pages: requests
   * the organization scopes and lists the pages the member administers. Default `true`; set
   * `false` for an app with only "Share on LinkedIn" and "Sign In with LinkedIn".
   */
  organizations?: boolean
  /**
   * Whether LinkedIn approved the app for programmatic refresh tokens (partner/MDP apps only).
   * Default `false`: tokens last 60 days and `refreshAccessToken` throws `RECONNECT_REQUIRED`,
   * so the account must be reconnected before `calculateReauthorizationAt(tokens)`.
   */
  refreshTokens?: boolean
  /**
   * Send a PKCE challenge and verifier. LinkedIn documents PKCE for native apps only
   * (UNCONFIRMED for web apps); default `false`. `state` still protects the callback.
   */
  pkce?: boolean
  /** Scopes to request instead of the defaults (see `linkedinDefaultScopes`). */
  scopes?: string[]
  /**
   * `LinkedIn-Version` (YYYYMM) of the `/rest` API. Versions are sunset about a year after
   * release, so keep it current. Default `202608`.
   */
  version?: string
  /** Page roles that may publish as the organization. Default `ADMINISTRATOR`, `CONTENT_ADMIN`. */
  organizationRoles?: string[]
  /**
   * Whether the app may read members' posts (`r_member_social`, closed to new apps). Without it
   * `lookUpPublication` answers `unknown` for members. Default `false`.
   */
  memberPostsReadable?: boolean
  /** Send the token with video part uploads (the docs say none is needed; UNCONFIRMED). Default `false`. */
  authorizeVideoPartUploads?: boolean
  /** Video processing polls: interval (default 3,000 ms) and how many (default 60). */
  videoProcessing?: { pollIntervalMs?: number; maxPolls?: number }
  /** Reconciliation tuning (see `docs/adapters/linkedin.md`). */
  lookUp?: Partial<Omit<LookUpSettings, 'memberPostsReadable'>>
  /** The clock (for the daily limit reset and reconciliation windows). Default `new Date()`. */
  now?: () => Date
  /** Where the API is, e.g. an emulator (`createLinkedInEmulator`). Default `https://api.linkedin.com`. */
  apiBaseURL?: string
  /**
   * Where the OAuth consent page (`/authorization`) and token endpoint (`/accessToken`) are, e.g.
   * an emulator. Default `https://www.linkedin.com/oauth/v2`.
   */
  oauthBaseURL?: string
}

/**
 * Scopes requested by default: "Sign In with LinkedIn using OpenID Connect" and "Share on
 * LinkedIn" (`openid profile w_member_social`), plus the Community Management API's organization
 * and analytics scopes unless `organizations` is `false`.
 *
 * @example
 * ```ts
 * linkedinDefaultScopes({ organizations: false }) // ['openid', 'profile', 'w_member_social']
 * ```
 */
export function linkedinDefaultScopes(config: { organizations?: boolean } = {}): string[] {
  const member = ['openid', 'profile', 'w_member_social']
  if (config.organizations === false) return member
  return [
    ...member,
    'w_organization_social',
    'r_organization_social',
    'rw_organization_admin',
    // Member post statistics; listed with the Community Management API (UNCONFIRMED).
    'r_member_postAnalytics',
  ]
}

const userInfoSchema = z.object({
  sub: z.string().min(1),
  name: z.string().optional(),
  given_name: z.string().optional(),
  family_name: z.string().optional(),
  picture: z.string().optional(),
})

const aclsSchema = z.object({
  elements: z.array(
    z.object({
      role: z.string(),
      organizationalTarget: z.string(),
      'organizationalTarget~': z
        .looseObject({
          localizedName: z.string().optional(),
          vanityName: z.string().optional(),
          logoV2: z.unknown().optional(),
        })
        .optional(),
    }),
  ),
})

const ACL_PAGE_SIZE = 100
const ACL_PROJECTION =
  '(elements*(role,organizationalTarget~(localizedName,vanityName,logoV2(original~:playableStreams))))'

/**
 * The LinkedIn adapter: members and the organization pages they administer, through the
 * versioned Posts, Images, Videos and Documents APIs.
 *
 * Exactly-once: LinkedIn has no idempotency key. Media URNs are checkpointed as soon as each
 * upload is done (a retry reuses them), then the author, a digest of the text and the send time
 * are checkpointed before the create call. A lost answer is `OUTCOME_UNKNOWN`;
 * `lookUpPublication` then reads the author's recent posts and matches the digest within the
 * time window. A retry whose handles show the create call went out looks first and returns the
 * post it finds, and a duplicate refusal naming a post on such a retry is that post.
 *
 * @example
 * ```ts
 * const adapter = linkedin({
 *   clientId: process.env.LINKEDIN_CLIENT_ID,
 *   clientSecret: process.env.LINKEDIN_CLIENT_SECRET,
 *   redirectURI: 'https://app.example.com/v1/connections/linkedin/callback',
 * })
 * const url = adapter.createAuthorizationURL({ state: generateState(), codeVerifier: generateCodeVerifier() })
 * ```
 */
export function linkedin(config: LinkedInConfig) {
  const oauthBaseURL = (config.oauthBaseURL ?? OAUTH_BASE_URL).replace(/\/+$/, '')
  const context: LinkedInHTTPContext = {
    apiBaseURL: (config.apiBaseURL ?? API_ORIGIN).replace(/\/+$/, ''),
    version: config.version ?? '202608',
    now: config.now ?? (() => new Date()),
  }
  const mediaSettings: MediaSettings = {
    authorizeVideoPartUploads: config.authorizeVideoPartUploads ?? false,
    pollIntervalMs: config.videoProcessing?.pollIntervalMs ?? 3000,
    maxPolls: config.videoProcessing?.maxPolls ?? 60,
  }
  const lookUpSettings: LookUpSettings = {
    memberPostsReadable: config.memberPostsReadable ?? false,
    clockSkewSeconds: config.lookUp?.clockSkewSeconds ?? 300,
    settleSeconds: config.lookUp?.settleSeconds ?? 120,
    pageSize: config.lookUp?.pageSize ?? 20,
    maxPages: config.lookUp?.maxPages ?? 5,
  }
  const organizationRoles = new Set(config.organizationRoles ?? ['ADMINISTRATOR', 'CONTENT_ADMIN'])

  const tokenRequest = (body: Record<string, string>) => ({
    platform: PLATFORM,
    url: `${oauthBaseURL}/accessToken`,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    // LinkedIn wants client_id and client_secret in the form body, not HTTP Basic.
    authentication: 'body' as const,
    body,
    // Seen as "openid,profile,w_member_social"; spaces are accepted too (format UNCONFIRMED).
    scopeSeparator: /[\s,]+/,
  })

  async function exchangeTokens(
    body: Record<string, string>,
    options: CallOptions | undefined,
  ): Promise<OAuthTokens> {
    try {
      return await requestTokens(tokenRequest(body), options)
    } catch (error) {
      // LinkedIn answers a used, expired or mismatched code with `invalid_request` ("appid/
      // redirect uri/code verifier does not match authorization code. Or authorization code
      // expired"), not `invalid_grant`: only a new consent fixes it.
      if (
        isAdapterError(error, 'UNEXPECTED_RESPONSE') &&
        /authorization code/i.test(error.message)
      ) {
        throw new ReconnectRequiredError(
          'LinkedIn refused the authorization code (used, expired, or issued for another redirect URI or verifier). Start the connection again.',
          { platform: PLATFORM, status: error.status, reason: 'invalid_grant', cause: error },
        )
      }
      // 401 `invalid_client` is the app's client id or secret, which no reconnect can fix.
      if (isAdapterError(error, 'RECONNECT_REQUIRED') && error.reason === 'invalid_client') {
        throw new UnexpectedResponseError(
          "LinkedIn refused the app's credentials (invalid_client). Check the LinkedIn client id and secret.",
          { platform: PLATFORM, status: error.status, cause: error },
        )
      }
      throw error
    }
  }

  function validate(post: PostContent): ContentIssue[] {
    const issues = validatePostContent(post, linkedinCapabilities)
    const options = linkedinOptionsSchema.safeParse(post.options ?? {})
    const media = post.media ?? []
    media.forEach((item, index) => {
      if (
        item.kind === 'image' &&
        item.width !== undefined &&
        item.height !== undefined &&
        item.width * item.height > LINKEDIN_MAX_IMAGE_PIXELS
      ) {
        issues.push({
          path: ['media', index],
          code: 'MEDIA_DIMENSIONS_OUT_OF_RANGE',
          message: `The image has ${item.width * item.height} pixels; LinkedIn accepts up to ${LINKEDIN_MAX_IMAGE_PIXELS}.`,
        })
      }
    })
    if (options.success && media.some((item) => item.kind === 'document')) {
      if (options.data.documentTitle === undefined) {
        issues.push({
          path: ['options', 'documentTitle'],
          code: 'DOCUMENT_TITLE_REQUIRED',
          message: 'LinkedIn needs a title for a document post.',
        })
      }
    }
    return issues
  }

  async function listOrganizations(
    accessToken: string,
    options: CallOptions | undefined,
  ): Promise<PlatformAccount[]> {
    const found = new Map<string, PlatformAccount>()
    for (let start = 0; start < 10 * ACL_PAGE_SIZE; start += ACL_PAGE_SIZE) {
      let response: Response
      try {
        response = await sendLinkedInRequest(
          context,
          {
            method: 'GET',
            url: `/v2/organizationalEntityAcls?q=roleAssignee&state=APPROVED&start=${start}&count=${ACL_PAGE_SIZE}&projection=${ACL_PROJECTION}`,
            accessToken,
            headers: { 'x-restli-protocol-version': '2.0.0' },
          },
          options,
        )
      } catch (error) {
        // No organization scope granted (the app lacks the Community Management API): the member
        // can still connect their own profile.
        if (isAdapterError(error, 'RECONNECT_REQUIRED') && error.status === 403) return []
        throw error
      }
      const { elements } = await readJSON(response, aclsSchema, PLATFORM)
      for (const acl of elements) {
        if (!organizationRoles.has(acl.role) || found.has(acl.organizationalTarget)) continue
        const organization = acl['organizationalTarget~']
        const vanityName = organization?.vanityName
        found.set(acl.organizationalTarget, {
          id: acl.organizationalTarget,
          kind: 'organization',
          name:
            organization?.localizedName ??
            vanityName ??
            acl.organizationalTarget.replace('urn:li:organization:', ''),
          username: vanityName,
          avatarURL: logoURL(organization?.logoV2),
          profileURL: vanityName ? `https://www.linkedin.com/company/${vanityName}/` : undefined,
        })
      }
      if (elements.length < ACL_PAGE_SIZE) break
    }
    return [...found.values()]
  }

  async function publish(params: PublishParams, options: CallOptions = {}) {
    const { post } = params
    const issues = validate(post)
    if (issues.length > 0) {
      throw new ContentRejectedError(
        `The post does not fit LinkedIn: ${issues.map((issue) => issue.message).join(' ')}`,
        { platform: PLATFORM, issues },
      )
    }
    const postOptions = linkedinOptionsSchema.parse(post.options ?? {})
    const author = authorURN(params.accountId)
    const previous = params.handles ?? {}

    // An earlier attempt sent the create call and its outcome was not proven: look first.
    if (previous.sentAt !== undefined) {
      const found = await findPublication(
        context,
        lookUpSettings,
        { accessToken: params.accessToken, author, handles: previous },
        options,
      )
      if (found.status === 'published')
        return { platformPostId: found.platformPostId, url: found.url }
      // LinkedIn may not list the earlier post yet: posting now could make a second one.
      if (found.status === 'unknown' && found.retryAfterSeconds !== undefined) {
        throw new OutcomeUnknownError(
          `An earlier attempt sent this post and LinkedIn cannot tell yet whether it was made (${found.reason}). Look it up again in ${found.retryAfterSeconds} s before publishing.`,
          { platform: PLATFORM },
        )
      }
    }

    // Handles are passed whole every time, so the runner may merge or replace them.
    const handles: Record<string, string> = { ...previous }
    const mediaURNs: string[] = []
    for (const media of post.media ?? []) {
      const key = `media:${media.id}`
      let urn = handles[key]
      if (urn === undefined) {
        urn = await uploadMedia(
          context,
          mediaSettings,
          { accessToken: params.accessToken, owner: author, media },
          options,
        )
        handles[key] = urn
        await params.checkpoint({ ...handles })
      }
      if (media.kind === 'video') {
        await waitForVideo(
          context,
          mediaSettings,
          { accessToken: params.accessToken, urn },
          options,
        )
      }
      mediaURNs.push(urn)
    }

    handles.author = author
    handles.textDigest = await digestText(post.text)
    handles.sentAt = previous.sentAt ?? context.now().toISOString()
    await params.checkpoint({ ...handles })

    let response: Response
    try {
      response = await sendLinkedInRequest(
        context,
        {
          method: 'POST',
          url: '/rest/posts',
          accessToken: params.accessToken,
          versioned: true,
          json: buildPostBody(author, post, postOptions, mediaURNs),
          irreversible: true,
        },
        options,
      )
    } catch (error) {
      // LinkedIn refuses an identical post as a duplicate of the one it names: on a retry of an
      // attempt whose create call went out, that is the post the earlier attempt made.
      const duplicate = previous.sentAt === undefined ? undefined : duplicateOf(error)
      if (duplicate?.urn) return { platformPostId: duplicate.urn, url: postURL(duplicate.urn) }
      throw error
    }
    // https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
    // 201 with an empty body; the post's URN is only in the x-restli-id header.
    const urn = response.headers.get('x-restli-id')
    if (!urn) {
      throw new OutcomeUnknownError(
        `LinkedIn answered ${response.status} to the post without an x-restli-id header; the post was probably made. Look it up before trying again.`,
        { platform: PLATFORM, status: response.status },
      )
    }
    return { platformPostId: urn, url: postURL(urn) }
  }

  return {
    id: PLATFORM,
    capabilities: linkedinCapabilities,

    createAuthorizationURL({ state, codeVerifier, scopes }) {
      const url = new URL(`${oauthBaseURL}/authorization`)
      url.searchParams.set('response_type', 'code')
      url.searchParams.set('client_id', config.clientId)
      url.searchParams.set('redirect_uri', config.redirectURI)
      url.searchParams.set('state', state)
      url.searchParams.set(
        'scope',
        (scopes ?? config.scopes ?? linkedinDefaultScopes(config)).join(' '),
      )
      if (config.pkce) {
        url.searchParams.set('code_challenge', createS256CodeChallenge(codeVerifier))
        url.searchParams.set('code_challenge_method', 'S256')
      }
      return url
    },

    validateAuthorizationCode({ code, codeVerifier }, options?: CallOptions) {
      return exchangeTokens(
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: config.redirectURI,
          ...(config.pkce ? { code_verifier: codeVerifier } : {}),
        },
        options,
      )
    },

    /**
     * Only apps LinkedIn approved for programmatic refresh tokens can refresh; the refresh token
     * itself expires 365 days after the first consent and refreshing does not extend it.
     */
    async refreshAccessToken({ refreshToken }, options?: CallOptions): Promise<OAuthTokens> {
      if (!config.refreshTokens) {
        throw new ReconnectRequiredError(
          'This LinkedIn app has no refresh tokens (only approved partner apps do): the member must connect the account again before the 60-day token expires.',
          { platform: PLATFORM, reason: 'refresh_unavailable' },
        )
      }
      return exchangeTokens({ grant_type: 'refresh_token', refresh_token: refreshToken }, options)
    },

    async listAccounts({ accessToken }, options?: CallOptions) {
      const response = await sendLinkedInRequest(
        context,
        { method: 'GET', url: '/v2/userinfo', accessToken },
        options,
      )
      const member = await readJSON(response, userInfoSchema, PLATFORM)
      const accounts: PlatformAccount[] = [
        {
          id: `urn:li:person:${member.sub}`,
          kind: 'personal',
          name:
            member.name ??
            ([member.given_name, member.family_name].filter(Boolean).join(' ') || member.sub),
          avatarURL: member.picture,
        },
      ]
      if (config.organizations !== false) {
        accounts.push(...(await listOrganizations(accessToken, options)))
      }
      return accounts
    },

    validatePost({ post }) {
      return validate(post)
    },

    publish,

    async deletePost({ accessToken, platformPostId }, options?: CallOptions) {
      try {
        await sendLinkedInRequest(
          context,
          {
            method: 'DELETE',
            url: `/rest/posts/${encodeURIComponent(platformPostId)}`,
            accessToken,
            versioned: true,
            headers: { 'x-restli-method': 'DELETE' },
          },
          options,
        )
      } catch (error) {
        // Already gone is what the caller wanted.
        if (isAdapterError(error) && error.status === 404) return
        throw error
      }
    },

    getMetrics({ accessToken, accountId, platformPostIds }, options: CallOptions = {}) {
      const author = authorURN(accountId)
      return author.startsWith('urn:li:organization:')
        ? getOrganizationMetrics(
            context,
            { accessToken, organization: author, platformPostIds },
            options,
          )
        : getMemberMetrics(context, { accessToken, platformPostIds }, options)
    },

    lookUpPublication({ accessToken, accountId, handles }, options: CallOptions = {}) {
      return findPublication(
        context,
        lookUpSettings,
        { accessToken, author: handles.author ?? authorURN(accountId), handles },
        options,
      )
    },
  } satisfies Adapter
}

/**
 * When a LinkedIn connection must be renewed by the member: `leadSeconds` (default 7 days) before
 * the access token expires, or, for apps with refresh tokens, before the refresh token does
 * (365 days after the first consent, never extended). `undefined` when the tokens carry no expiry.
 * The server marks the account `reauth_required` from then on.
 *
 * @example
 * ```ts
 * const dueAt = calculateReauthorizationAt(tokens, { refreshTokens: false })
 * await accounts.update(id, { reauthorizeAt: dueAt })
 * ```
 */
export function calculateReauthorizationAt(
  tokens: Pick<OAuthTokens, 'accessTokenExpiresAt' | 'refreshTokenExpiresAt' | 'refreshToken'>,
  options: { refreshTokens?: boolean; leadSeconds?: number } = {},
): Date | undefined {
  const leadMs = (options.leadSeconds ?? 7 * 24 * 60 * 60) * 1000
  const expiresAt =
    options.refreshTokens && tokens.refreshToken !== undefined
      ? tokens.refreshTokenExpiresAt
      : tokens.accessTokenExpiresAt
  return expiresAt === undefined ? undefined : new Date(expiresAt.getTime() - leadMs)
}

/** The author URN of an account id from `listAccounts` (a bare member id is taken as a person). */
function authorURN(accountId: string): string {
  return accountId.startsWith('urn:li:') ? accountId : `urn:li:person:${accountId}`
}

function buildPostBody(
  author: string,
  post: PostContent,
  options: z.output<typeof linkedinOptionsSchema>,
  mediaURNs: string[],
) {
  const media = post.media ?? []
  const visibility = { public: 'PUBLIC', connections: 'CONNECTIONS', logged_in: 'LOGGED_IN' }
  return {
    author,
    commentary: escapeLittleText(post.text),
    visibility: visibility[options.visibility],
    distribution: {
      feedDistribution: 'MAIN_FEED',
      targetEntities: [],
      thirdPartyDistributionChannels: [],
    },
    lifecycleState: 'PUBLISHED',
    isReshareDisabledByAuthor: options.disableReshare,
    ...(media.length === 0 ? {} : { content: buildContent(media, mediaURNs, options) }),
  }
}

function buildContent(
  media: NonNullable<PostContent['media']>,
  urns: string[],
  options: z.output<typeof linkedinOptionsSchema>,
) {
  const first = media[0]
  if (media.length > 1) {
    // https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/multiimage-post-api
    return {
      multiImage: {
        images: media.map((item, index) => ({
          id: urns[index],
          ...(item.altText ? { altText: item.altText } : {}),
        })),
      },
    }
  }
  const title =
    first?.kind === 'document'
      ? options.documentTitle
      : first?.kind === 'video'
        ? options.videoTitle
        : undefined
  return {
    media: {
      id: urns[0],
      ...(title ? { title } : {}),
      ...(first?.altText ? { altText: first.altText } : {}),
    },
  }
}

function logoURL(logo: unknown): string | undefined {
  const elements = (logo as { 'original~'?: { elements?: unknown[] } } | undefined)?.['original~']
    ?.elements
  const last = elements?.at(-1) as { identifiers?: { identifier?: unknown }[] } | undefined
  const identifier = last?.identifiers?.[0]?.identifier
  return typeof identifier === 'string' ? identifier : undefined
}
