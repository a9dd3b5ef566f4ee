import { createEmulatorKit, hangUntilAborted } from '@post-scheduler/adapter-core/emulator'
// Types only: erased, so this entry does not load vitest.
import type {
  ConformanceEmulator,
  ConformanceFault,
  ConformanceOperation,
  InjectedFault,
} from '@post-scheduler/adapter-core/testing'
import { unescapeLittleText } from '../adapter/text.ts'

/** An organization page the emulated member has a role on. */
export interface LinkedInEmulatorOrganization {
  /** Numeric id; the URN is `urn:li:organization:{id}`. */
  id: string
  name: string
  vanityName?: string
  /** The member's role: `ADMINISTRATOR`, `CONTENT_ADMIN`, `ANALYST`, `RECRUITING_POSTER`… */
  role: string
}

/** Options of {@link createLinkedInEmulator}. */
export interface LinkedInEmulatorOptions {
  /** The app's client id; any id is accepted when absent. */
  clientId?: string
  /** The app's client secret; any non-empty secret is accepted when absent. */
  clientSecret?: string
  /** Redirect URIs registered on the app; any is accepted when absent. */
  redirectURIs?: string[]
  /** Scopes the app's products allow; others make consent fail. Default: all LinkedIn scopes used here. */
  availableScopes?: string[]
  /** Whether the app is approved for programmatic refresh tokens. Default `false`. */
  refreshTokens?: boolean
  /** The member who consents. */
  member?: { sub: string; name: string; picture?: string }
  /** Pages the member has a role on. Default: one page administered, one where they are an analyst. */
  organizations?: LinkedInEmulatorOrganization[]
  /** Oldest `LinkedIn-Version` still served (YYYYMM). Default `202509`. */
  oldestActiveVersion?: string
  /** Size of video upload parts. Default 4 MiB, as LinkedIn. */
  videoPartSizeBytes?: number
  /** How many status reads a video stays `PROCESSING` after `finalizeUpload`. Default 1. */
  videoProcessingPolls?: number
  /** Makes every video fail processing with this reason. */
  videoProcessingFailure?: string
  /** Posts a member may create per UTC day before 429s. Default unlimited. */
  postsPerMemberPerDay?: number
  /** The platform's clock; `clock.set`/`clock.advance` move it. Default the system clock. */
  now?: () => Date
  /** Where the emulated API is (the adapter's `apiBaseURL`). Default `https://api.linkedin.com`. */
  apiBaseURL?: string
  /**
   * Where the emulated `www.linkedin.com` is: OAuth at `<wwwBaseURL>/oauth/v2` (the adapter's
   * `oauthBaseURL`) and the upload URLs it hands out. Default `https://www.linkedin.com`.
   */
  wwwBaseURL?: string
}

/** The API calls a failure can be injected into. */
export type LinkedInOperation =
  | 'token'
  | 'userinfo'
  | 'organizations'
  | 'initializeImageUpload'
  | 'initializeDocumentUpload'
  | 'videoUpload'
  | 'videoStatus'
  | 'upload'
  | 'publish'
  | 'findPosts'
  | 'deletePost'
  | 'memberAnalytics'
  | 'organizationStatistics'

/** A failure the emulator answers with, with LinkedIn's status, headers and body. */
export type LinkedInEmulatorFailure =
  /** 429 with no rate-limit headers: the daily limit (resets at midnight UTC). */
  | 'daily_limit'
  /** 401 `serviceErrorCode` 65601: the member revoked the app. */
  | 'token_revoked'
  /** 401 `serviceErrorCode` 65600: an invalid token. */
  | 'token_invalid'
  /** 403 `ACCESS_DENIED` `serviceErrorCode` 100: a missing scope or page role. */
  | 'access_denied'
  /** 400 `FIELD_LENGTH_TOO_LONG`. */
  | 'field_too_long'
  /** 500: on the create call, the post may or may not have been made. */
  | 'server_error'
  /** 503 Service Unavailable. */
  | 'unavailable'
  /** 426 for a sunset `LinkedIn-Version`. */
  | 'version_sunset'
  /** 200 with an HTML page (a proxy's error page). */
  | 'malformed'
  /** The connection fails. */
  | 'network_error'

/** A post the emulated LinkedIn holds. */
export interface LinkedInEmulatorPost {
  id: string
  author: string
  commentary: string
  visibility: string
  lifecycleState: string
  isReshareDisabledByAuthor: boolean
  content: Record<string, unknown> | undefined
  createdAt: number
  lastModifiedAt: number
  deleted: boolean
}

interface AccessGrant {
  sub: string
  scopes: Set<string>
  expiresAtMs: number
  revoked: boolean
}

interface Asset {
  urn: string
  owner: string
  kind: 'image' | 'document' | 'video'
  uploaded: boolean
  status: 'WAITING_UPLOAD' | 'PROCESSING' | 'AVAILABLE' | 'PROCESSING_FAILED'
  pollsLeft: number
  parts: { firstByte: number; lastByte: number; etag: string | undefined }[]
}

const ACCESS_TOKEN_SECONDS = 60 * 24 * 60 * 60
const REFRESH_TOKEN_SECONDS = 365 * 24 * 60 * 60
const CODE_SECONDS = 30 * 60
const ALL_SCOPES = [
  'openid',
  'profile',
  'email',
  'w_member_social',
  'r_member_social',
  'r_member_postAnalytics',
  'w_organization_social',
  'r_organization_social',
  'rw_organization_admin',
]
const POSTING_ROLES = new Set(['ADMINISTRATOR', 'CONTENT_ADMIN'])

// Bodies as LinkedIn sends them (shapes from its error tables; exact messages partly UNCONFIRMED).
const BODIES = {
  daily_limit: {
    status: 429,
    body: {
      status: 429,
      code: 'TOO_MANY_REQUESTS',
      message: 'Resource level throttle limit for calls to this resource is reached.',
    },
  },
  token_revoked: {
    status: 401,
    body: {
      status: 401,
      serviceErrorCode: 65601,
      code: 'REVOKED_ACCESS_TOKEN',
      message: 'The token used in the request has been revoked by the user',
    },
  },
  token_invalid: {
    status: 401,
    body: {
      status: 401,
      serviceErrorCode: 65600,
      code: 'INVALID_ACCESS_TOKEN',
      message: 'Invalid access token',
    },
  },
  token_expired: {
    status: 401,
    body: {
      status: 401,
      code: 'EXPIRED_ACCESS_TOKEN',
      message: 'The token used in the request has expired',
    },
  },
  token_empty: {
    status: 401,
    body: { status: 401, code: 'EMPTY_ACCESS_TOKEN', message: 'Empty oauth2 access token' },
  },
  access_denied: {
    status: 403,
    body: {
      status: 403,
      serviceErrorCode: 100,
      code: 'ACCESS_DENIED',
      message: 'Not enough permissions to access this resource',
    },
  },
  field_too_long: {
    status: 400,
    body: {
      status: 400,
      code: 'FIELD_LENGTH_TOO_LONG',
      message: '/commentary :: length exceeds the maximum allowed length of 3000',
    },
  },
  server_error: { status: 500, body: { status: 500, message: 'Internal Server Error' } },
  unavailable: { status: 503, body: { status: 503, message: 'Service Unavailable' } },
  version_sunset: {
    status: 426,
    body: {
      status: 426,
      code: 'NONEXISTENT_VERSION',
      message: 'Requested version is not active',
    },
  },
} as const

const OPERATIONS: Record<LinkedInOperation, { method: string; path: string | RegExp }> = {
  token: { method: 'POST', path: '/oauth/v2/accessToken' },
  userinfo: { method: 'GET', path: '/v2/userinfo' },
  organizations: { method: 'GET', path: '/v2/organizationalEntityAcls' },
  initializeImageUpload: { method: 'POST', path: '/rest/images' },
  initializeDocumentUpload: { method: 'POST', path: '/rest/documents' },
  videoUpload: { method: 'POST', path: '/rest/videos' },
  videoStatus: { method: 'GET', path: /^\/rest\/videos\/./ },
  upload: { method: 'PUT', path: /^\/dms-uploads\// },
  publish: { method: 'POST', path: '/rest/posts' },
  findPosts: { method: 'GET', path: '/rest/posts' },
  deletePost: { method: 'DELETE', path: /^\/rest\/posts\/./ },
  memberAnalytics: { method: 'GET', path: '/rest/memberCreatorPostAnalytics' },
  organizationStatistics: { method: 'GET', path: '/rest/organizationalEntityShareStatistics' },
}

/**
 * LinkedIn's documented API as msw handlers, for offline tests and demos: the OAuth consent and
 * token endpoints (60-day tokens, refresh tokens only for approved apps), `/v2/userinfo`,
 * organization ACLs, the Images, Documents and Videos upload flows (multipart with ETags,
 * `finalizeUpload`, processing states), the Posts API (`x-restli-id`, find by author, delete),
 * member and organization statistics. It checks `LinkedIn-Version`, `X-Restli-Protocol-Version`,
 * scopes and page roles, refuses duplicate posts, counts daily limits by its own clock, and
 * answers failures with LinkedIn's statuses and bodies (429 without headers).
 *
 * @example
 * ```ts
 * import { setupServer } from 'msw/node'
 * import { createLinkedInEmulator } from '@post-scheduler/adapter-linkedin/testing'
 *
 * const emulator = createLinkedInEmulator({ refreshTokens: true })
 * const server = setupServer(...emulator.handlers)
 * server.listen()
 * emulator.fail('publish', 'daily_limit')
 * const adapter = linkedin({ clientId, clientSecret, redirectURI, now: emulator.clock.now })
 * ```
 */
export function createLinkedInEmulator(options: LinkedInEmulatorOptions = {}) {
  const API = (options.apiBaseURL ?? 'https://api.linkedin.com').replace(/\/+$/, '')
  const WWW = (options.wwwBaseURL ?? 'https://www.linkedin.com').replace(/\/+$/, '')
  const baseNow = options.now ?? (() => new Date())
  let offsetMs = 0
  const clock = {
    /** The platform's current time. */
    now: (): Date => new Date(baseNow().getTime() + offsetMs),
    /** Moves the platform's clock to `at`. */
    set(at: Date) {
      offsetMs = at.getTime() - baseNow().getTime()
    },
    /** Moves the platform's clock forward. */
    advance(seconds: number) {
      offsetMs += seconds * 1000
    },
  }
  const nowMs = () => clock.now().getTime()
  const kit = createEmulatorKit({ platform: 'linkedin', now: nowMs })
  const member = options.member ?? {
    sub: 'Emu782bbtaQ',
    name: 'Conformance User',
    picture: 'https://media.licdn.com/dms/image/emulator/profile.jpg',
  }
  const personURN = `urn:li:person:${member.sub}`
  const organizations = options.organizations ?? [
    {
      id: '2414183',
      name: 'Post Scheduler Inc.',
      vanityName: 'post-scheduler',
      role: 'ADMINISTRATOR',
    },
    { id: '5515715', name: 'Analytics Only Ltd', vanityName: 'analytics-only', role: 'ANALYST' },
  ]
  const availableScopes = new Set(options.availableScopes ?? ALL_SCOPES)
  const oldestVersion = options.oldestActiveVersion ?? '202509'
  const partSize = options.videoPartSizeBytes ?? 4 * 1024 * 1024

  const codes = new Map<
    string,
    { redirectURI: string; scopes: string[]; challenge: string | undefined; expiresAtMs: number }
  >()
  const accessTokens = new Map<string, AccessGrant>()
  const refreshTokens = new Map<string, { scopes: string[]; expiresAtMs: number }>()
  const assets = new Map<string, Asset>()
  const uploadURLs = new Map<string, { asset: Asset; part: number | undefined }>()
  const posts: LinkedInEmulatorPost[] = []
  const dailyPosts = new Map<string, number>()
  const hangs: { committed: () => void }[] = []
  let counter = 0
  const nextId = () => (++counter).toString().padStart(6, '0')

  function json(body: unknown, status = 200, headers: Record<string, string> = {}) {
    return new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    })
  }
  const error = (failure: keyof typeof BODIES) => json(BODIES[failure].body, BODIES[failure].status)
  const restError = (status: number, code: string, message: string) =>
    json({ status, code, message }, status)

  function issueTokens(sub: string, scopes: string[], refreshToken: string | undefined) {
    const accessToken = `AQX${crypto.randomUUID().replaceAll('-', '')}`
    accessTokens.set(accessToken, {
      sub,
      scopes: new Set(scopes),
      expiresAtMs: nowMs() + ACCESS_TOKEN_SECONDS * 1000,
      revoked: false,
    })
    const body: Record<string, unknown> = {
      access_token: accessToken,
      expires_in: ACCESS_TOKEN_SECONDS,
      // LinkedIn separates granted scopes with commas.
      scope: scopes.join(','),
      token_type: 'Bearer',
    }
    if (options.refreshTokens) {
      const token = refreshToken ?? `AQW${crypto.randomUUID().replaceAll('-', '')}`
      const grant = refreshTokens.get(token) ?? {
        scopes,
        expiresAtMs: nowMs() + REFRESH_TOKEN_SECONDS * 1000,
      }
      refreshTokens.set(token, grant)
      body.refresh_token = token
      // The refresh token's lifetime runs from the first consent; refreshing never extends it.
      body.refresh_token_expires_in = Math.floor((grant.expiresAtMs - nowMs()) / 1000)
    }
    return body
  }

  async function token(request: Request): Promise<Response> {
    const form = new URLSearchParams(await request.text())
    const clientId = form.get('client_id')
    const secret = form.get('client_secret')
    if (
      !clientId ||
      !secret ||
      (options.clientId !== undefined && clientId !== options.clientId) ||
      (options.clientSecret !== undefined && secret !== options.clientSecret)
    ) {
      return json(
        { error: 'invalid_client', error_description: 'Client authentication failed' },
        401,
      )
    }
    if (form.get('grant_type') === 'refresh_token') {
      const refreshToken = form.get('refresh_token') ?? ''
      const grant = refreshTokens.get(refreshToken)
      if (!options.refreshTokens || !grant || grant.expiresAtMs <= nowMs()) {
        return json(
          { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' },
          400,
        )
      }
      return json(issueTokens(member.sub, grant.scopes, refreshToken))
    }
    if (form.get('grant_type') !== 'authorization_code') {
      return json(
        { error: 'unsupported_grant_type', error_description: 'Unsupported grant type' },
        400,
      )
    }
    const code = form.get('code') ?? ''
    const pending = codes.get(code)
    codes.delete(code)
    const verifier = form.get('code_verifier')
    const verifierMatches =
      pending?.challenge === undefined ||
      (verifier !== null && (await s256(verifier)) === pending.challenge)
    if (
      !pending ||
      pending.expiresAtMs <= nowMs() ||
      pending.redirectURI !== form.get('redirect_uri') ||
      !verifierMatches
    ) {
      return json(
        {
          error: 'invalid_request',
          error_description:
            'Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired. Or external member binding exists',
        },
        400,
      )
    }
    return json(issueTokens(member.sub, pending.scopes, undefined))
  }

  function authenticate(request: Request): AccessGrant | Response {
    const match = /^Bearer\s+(.+)$/i.exec(request.headers.get('authorization') ?? '')
    if (!match?.[1]) return error('token_empty')
    const grant = accessTokens.get(match[1])
    if (!grant) return error('token_invalid')
    if (grant.revoked) return error('token_revoked')
    if (grant.expiresAtMs <= nowMs()) return error('token_expired')
    return grant
  }

  function checkVersion(request: Request): Response | undefined {
    const version = request.headers.get('linkedin-version')
    if (!version) {
      return restError(
        400,
        'VERSION_MISSING',
        'A version must be present. Please specify a version by adding the LinkedIn-Version header.',
      )
    }
    if (!/^\d{6}(\.\d{2})?$/.test(version) || version.slice(0, 6) < oldestVersion) {
      return json(
        { ...BODIES.version_sunset.body, message: `Requested version ${version} is not active` },
        426,
      )
    }
    if (request.headers.get('x-restli-protocol-version') !== '2.0.0') {
      return restError(400, 'ILLEGAL_ARGUMENT', 'X-Restli-Protocol-Version 2.0.0 is required')
    }
    return undefined
  }

  const roleOf = (organizationURN: string) =>
    organizations.find(
      (organization) => `urn:li:organization:${organization.id}` === organizationURN,
    )?.role

  /** Whether the token may act as `author` for `need` (`write`, `read`, `admin`). */
  function mayActAs(grant: AccessGrant, author: string, need: 'write' | 'read' | 'admin') {
    if (author === personURN) {
      const scope = {
        write: 'w_member_social',
        read: 'r_member_social',
        admin: 'r_member_postAnalytics',
      }
      return grant.scopes.has(scope[need])
    }
    const role = roleOf(author)
    if (role === undefined) return false
    if (need === 'write')
      return grant.scopes.has('w_organization_social') && POSTING_ROLES.has(role)
    if (need === 'read') return grant.scopes.has('r_organization_social')
    return grant.scopes.has('rw_organization_admin')
  }

  async function api(request: Request): Promise<Response> {
    const url = new URL(request.url)
    // The API's own path (`/rest/…`), also when it is served under a prefix (hosted by a dev server).
    const path = url.pathname.slice(new URL(API).pathname.replace(/\/+$/, '').length)
    const grant = authenticate(request)
    if (grant instanceof Response) return grant

    if (request.method === 'GET' && path === '/v2/userinfo') {
      if (!grant.scopes.has('openid')) return error('access_denied')
      const [given, ...family] = member.name.split(' ')
      return json({
        sub: member.sub,
        name: member.name,
        given_name: given,
        family_name: family.join(' '),
        picture: member.picture,
        locale: { country: 'US', language: 'en' },
      })
    }
    if (request.method === 'GET' && path === '/v2/organizationalEntityAcls') {
      if (!grant.scopes.has('rw_organization_admin')) return error('access_denied')
      const start = Number(url.searchParams.get('start') ?? 0)
      const count = Number(url.searchParams.get('count') ?? 10)
      const decorate = (url.searchParams.get('projection') ?? '').includes('organizationalTarget~')
      return json({
        paging: { start, count, total: organizations.length },
        elements: organizations.slice(start, start + count).map((organization) => ({
          role: organization.role,
          roleAssignee: personURN,
          state: 'APPROVED',
          organizationalTarget: `urn:li:organization:${organization.id}`,
          ...(decorate
            ? {
                'organizationalTarget~': {
                  localizedName: organization.name,
                  vanityName: organization.vanityName,
                  logoV2: {
                    original: `urn:li:digitalmediaAsset:logo${organization.id}`,
                    'original~': {
                      elements: [
                        {
                          identifiers: [
                            {
                              identifier: `https://media.licdn.com/dms/image/emulator/${organization.id}.png`,
                            },
                          ],
                        },
                      ],
                    },
                  },
                },
              }
            : {}),
        })),
      })
    }

    const versionProblem = checkVersion(request)
    if (versionProblem) return versionProblem

    if (request.method === 'POST' && (path === '/rest/images' || path === '/rest/documents')) {
      const body = await readBody(request)
      const owner = body?.initializeUploadRequest?.owner
      if (typeof owner !== 'string') {
        return restError(
          422,
          'UNPROCESSABLE_ENTITY',
          'ERROR :: /initializeUploadRequest/owner :: field is required but not found and has no default value',
        )
      }
      if (!mayActAs(grant, owner, 'write')) return error('access_denied')
      const kind = path === '/rest/images' ? 'image' : 'document'
      const prefix = kind === 'image' ? 'C4E10AQ' : 'D4D10AQ'
      const asset = createAsset(`urn:li:${kind}:${prefix}${nextId()}`, owner, kind)
      const uploadUrl = `${WWW}/dms-uploads/emulator/${kind}/${nextId()}`
      uploadURLs.set(uploadUrl, { asset, part: undefined })
      return json({
        value: {
          uploadUrlExpiresAt: nowMs() + 60 * 60 * 1000,
          uploadUrl,
          [kind]: asset.urn,
        },
      })
    }
    if (request.method === 'POST' && path === '/rest/videos') {
      const body = await readBody(request)
      if (url.searchParams.get('action') === 'initializeUpload') {
        const init = body?.initializeUploadRequest
        if (typeof init?.owner !== 'string' || typeof init.fileSizeBytes !== 'number') {
          return restError(
            422,
            'UNPROCESSABLE_ENTITY',
            'ERROR :: /initializeUploadRequest :: owner and fileSizeBytes are required',
          )
        }
        if (!mayActAs(grant, init.owner, 'write')) return error('access_denied')
        const asset = createAsset(`urn:li:video:C5F10AQ${nextId()}`, init.owner, 'video')
        const parts = Math.max(1, Math.ceil(init.fileSizeBytes / partSize))
        const uploadInstructions = Array.from({ length: parts }, (_, index) => {
          const firstByte = index * partSize
          const lastByte = Math.min(init.fileSizeBytes, firstByte + partSize) - 1
          asset.parts.push({ firstByte, lastByte, etag: undefined })
          const uploadUrl = `${WWW}/dms-uploads/emulator/video/${nextId()}/part/${index}`
          uploadURLs.set(uploadUrl, { asset, part: index })
          return { uploadUrl, firstByte, lastByte }
        })
        return json({
          value: {
            uploadUrlsExpireAt: nowMs() + 60 * 60 * 1000,
            video: asset.urn,
            uploadInstructions,
            uploadToken: '',
          },
        })
      }
      if (url.searchParams.get('action') === 'finalizeUpload') {
        const finalize = body?.finalizeUploadRequest
        const asset = assets.get(String(finalize?.video))
        if (asset?.kind !== 'video') return restError(404, 'NOT_FOUND', 'Video not found')
        if (!mayActAs(grant, asset.owner, 'write')) return error('access_denied')
        const etags = asset.parts.map((part) => part.etag)
        if (
          etags.some((etag) => etag === undefined) ||
          JSON.stringify(finalize?.uploadedPartIds) !== JSON.stringify(etags)
        ) {
          return restError(
            400,
            'ILLEGAL_ARGUMENT',
            'uploadedPartIds do not match the uploaded parts, in order',
          )
        }
        asset.uploaded = true
        asset.status = options.videoProcessingFailure ? 'PROCESSING_FAILED' : 'PROCESSING'
        return new Response(null, { status: 200 })
      }
      return restError(400, 'ILLEGAL_ARGUMENT', 'Unknown action')
    }
    if (request.method === 'GET' && path.startsWith('/rest/videos/')) {
      const asset = assets.get(decodeURIComponent(path.slice('/rest/videos/'.length)))
      if (!asset) return restError(404, 'NOT_FOUND', 'Video not found')
      if (asset.status === 'PROCESSING') {
        if (asset.pollsLeft > 0) asset.pollsLeft--
        else asset.status = 'AVAILABLE'
      }
      return json({
        id: asset.urn,
        owner: asset.owner,
        status: asset.status,
        ...(asset.status === 'PROCESSING_FAILED'
          ? { processingFailureReason: options.videoProcessingFailure }
          : {}),
      })
    }

    if (request.method === 'POST' && path === '/rest/posts') return createPost(request, grant)
    if (request.method === 'GET' && path === '/rest/posts') {
      if (url.searchParams.get('q') !== 'author')
        return restError(400, 'ILLEGAL_ARGUMENT', 'Unsupported finder')
      const author = url.searchParams.get('author') ?? ''
      if (!mayActAs(grant, author, 'read')) return error('access_denied')
      const start = Number(url.searchParams.get('start') ?? 0)
      const count = Number(url.searchParams.get('count') ?? 10)
      const key = url.searchParams.get('sortBy') === 'CREATED' ? 'createdAt' : 'lastModifiedAt'
      const live = posts
        .filter((post) => post.author === author && !post.deleted)
        .sort((a, b) => b[key] - a[key])
      return json({
        paging: { start, count, total: live.length, links: [] },
        elements: live.slice(start, start + count).map(present),
      })
    }
    if (path.startsWith('/rest/posts/')) {
      const post = posts.find((candidate) => candidate.id === decodeURIComponent(path.slice(12)))
      if (!post || post.deleted) return restError(404, 'NOT_FOUND', 'Post not found')
      if (request.method === 'GET') {
        return mayActAs(grant, post.author, 'read') ? json(present(post)) : error('access_denied')
      }
      if (request.method === 'DELETE') {
        if (!mayActAs(grant, post.author, 'write')) return error('access_denied')
        post.deleted = true
        return new Response(null, { status: 204 })
      }
    }
    if (request.method === 'GET' && path === '/rest/memberCreatorPostAnalytics') {
      if (!grant.scopes.has('r_member_postAnalytics')) return error('access_denied')
      const entity = /^\((?:share|ugc):(.+)\)$/.exec(url.searchParams.get('entity') ?? '')?.[1]
      const queryType = url.searchParams.get('queryType') ?? ''
      const post = posts.find(
        (candidate) => candidate.id === entity && candidate.author === personURN,
      )
      return json({
        paging: { start: 0, count: 10, links: [] },
        elements: post
          ? [
              {
                count: metric(post.id, queryType),
                metricType: {
                  'com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1':
                    queryType,
                },
              },
            ]
          : [],
      })
    }
    if (request.method === 'GET' && path === '/rest/organizationalEntityShareStatistics') {
      const organization = url.searchParams.get('organizationalEntity') ?? ''
      if (!mayActAs(grant, organization, 'admin') || roleOf(organization) === undefined) {
        return error('access_denied')
      }
      const listed = (name: string) =>
        /^List\((.*)\)$/
          .exec(url.searchParams.get(name) ?? '')?.[1]
          ?.split(',')
          .filter(Boolean) ?? []
      const ids = [...listed('shares'), ...listed('ugcPosts')]
      return json({
        paging: { start: 0, count: ids.length, links: [] },
        elements: posts
          .filter((post) => ids.includes(post.id) && post.author === organization)
          .map((post) => ({
            organizationalEntity: organization,
            [post.id.startsWith('urn:li:ugcPost:') ? 'ugcPost' : 'share']: post.id,
            totalShareStatistics: {
              impressionCount: metric(post.id, 'IMPRESSION'),
              uniqueImpressionsCount: metric(post.id, 'MEMBERS_REACHED'),
              clickCount: metric(post.id, 'CLICK'),
              likeCount: metric(post.id, 'REACTION'),
              commentCount: metric(post.id, 'COMMENT'),
              shareCount: metric(post.id, 'RESHARE'),
              engagement: 0.05,
            },
          })),
      })
    }
    return restError(404, 'NOT_FOUND', `No resource at ${request.method} ${path}`)
  }

  async function createPost(request: Request, grant: AccessGrant): Promise<Response> {
    const body = await readBody(request)
    if (body === undefined) {
      return restError(400, 'ILLEGAL_ARGUMENT', 'Request body could not be converted to data map')
    }
    const missing = ['author', 'commentary', 'visibility', 'distribution', 'lifecycleState'].filter(
      (field) => body[field] === undefined,
    )
    if (missing.length > 0) {
      return json(
        {
          message: missing
            .map(
              (field) =>
                `ERROR :: /${field} :: field is required but not found and has no default value`,
            )
            .join('\n'),
          status: 422,
        },
        422,
      )
    }
    const author = String(body.author)
    if (!mayActAs(grant, author, 'write')) return error('access_denied')
    const commentary = String(body.commentary)
    if (unescapeLittleText(commentary).length > 3000) return error('field_too_long')
    const mediaProblem = checkContent(body.content, author)
    if (mediaProblem) return mediaProblem
    const day = `${grant.sub}:${clock.now().toISOString().slice(0, 10)}`
    const used = dailyPosts.get(day) ?? 0
    if (used >= (options.postsPerMemberPerDay ?? Number.POSITIVE_INFINITY))
      return error('daily_limit')
    dailyPosts.set(day, used + 1)
    const latest = posts
      .filter((post) => post.author === author && !post.deleted)
      .sort((a, b) => b.createdAt - a.createdAt)[0]
    if (latest && latest.commentary === commentary && commentary !== '') {
      // UNCONFIRMED wording; LinkedIn names the existing post.
      return json({ message: `Content is a duplicate of ${latest.id}`, status: 422 }, 422)
    }
    const id = `urn:li:share:7${String(Date.now() % 1e12).padStart(12, '0')}${nextId()}`
    const createdAt = nowMs()
    posts.push({
      id,
      author,
      commentary,
      visibility: String(body.visibility),
      lifecycleState: String(body.lifecycleState),
      isReshareDisabledByAuthor: body.isReshareDisabledByAuthor === true,
      content: body.content,
      createdAt,
      lastModifiedAt: createdAt,
      deleted: false,
    })
    const hang = hangs.shift()
    if (hang) {
      hang.committed()
      return hangUntilAborted(request)
    }
    return new Response(null, { status: 201, headers: { 'x-restli-id': id } })
  }

  function checkContent(content: Record<string, unknown> | undefined, author: string) {
    if (content === undefined) return undefined
    const invalid = (message: string) => restError(400, 'INVALID_URN_ID', message)
    const usable = (urn: unknown, kinds: Asset['kind'][]) => {
      const asset = assets.get(String(urn))
      if (!asset || !kinds.includes(asset.kind)) return `${String(urn)} does not exist`
      if (asset.owner !== author) return `${asset.urn} belongs to another owner`
      if (!asset.uploaded) return `${asset.urn} was not uploaded`
      if (asset.kind === 'video' && asset.status !== 'AVAILABLE') {
        return `${asset.urn} is not ready (status ${asset.status})`
      }
      return undefined
    }
    const multi = content.multiImage as { images?: { id?: unknown }[] } | undefined
    if (multi) {
      const images = multi.images ?? []
      if (images.length < 2 || images.length > 20) {
        return restError(422, 'UNPROCESSABLE_ENTITY', 'multiImage needs 2 to 20 images')
      }
      for (const image of images) {
        const problem = usable(image.id, ['image'])
        if (problem) return invalid(problem)
      }
      return undefined
    }
    const media = content.media as { id?: unknown; title?: unknown } | undefined
    if (!media) return restError(422, 'UNPROCESSABLE_ENTITY', 'Unsupported content')
    const problem = usable(media.id, ['image', 'video', 'document'])
    if (problem) return invalid(problem)
    if (String(media.id).startsWith('urn:li:document:') && typeof media.title !== 'string') {
      return restError(
        422,
        'UNPROCESSABLE_ENTITY',
        'ERROR :: /content/media/title :: a document needs a title',
      )
    }
    return undefined
  }

  async function upload(request: Request): Promise<Response> {
    const url = new URL(request.url)
    const target = uploadURLs.get(`${url.origin}${url.pathname}`)
    if (!target) return new Response('Not Found', { status: 404 })
    const bytes = await request.arrayBuffer()
    const { asset, part } = target
    if (part === undefined) {
      // Images and documents: one PUT of the whole file, with the member's token.
      const grant = authenticate(request)
      if (grant instanceof Response) return grant
      asset.uploaded = true
      asset.status = 'AVAILABLE'
      return new Response(null, { status: 201 })
    }
    const expected = asset.parts[part]
    if (!expected || bytes.byteLength !== expected.lastByte - expected.firstByte + 1) {
      return restError(
        400,
        'ILLEGAL_ARGUMENT',
        `Part ${part} must be bytes ${expected?.firstByte}–${expected?.lastByte}`,
      )
    }
    expected.etag = `"${crypto.randomUUID().replaceAll('-', '')}"`
    return new Response(null, { status: 200, headers: { etag: expected.etag } })
  }

  function createAsset(urn: string, owner: string, kind: Asset['kind']): Asset {
    const asset: Asset = {
      urn,
      owner,
      kind,
      uploaded: false,
      status: 'WAITING_UPLOAD',
      pollsLeft: options.videoProcessingPolls ?? 1,
      parts: [],
    }
    assets.set(urn, asset)
    return asset
  }

  async function approve(authorizationURL: URL) {
    if (
      `${authorizationURL.origin}${authorizationURL.pathname}` !== `${WWW}/oauth/v2/authorization`
    ) {
      throw new Error(`not LinkedIn's authorization endpoint: ${authorizationURL.href}`)
    }
    const params = authorizationURL.searchParams
    const redirectURI = params.get('redirect_uri') ?? ''
    if (params.get('response_type') !== 'code') throw new Error('response_type must be code')
    if (options.clientId !== undefined && params.get('client_id') !== options.clientId) {
      throw new Error(`unknown client_id ${params.get('client_id')}`)
    }
    if (options.redirectURIs && !options.redirectURIs.includes(redirectURI)) {
      throw new Error(`The redirect_uri does not match the registered value: ${redirectURI}`)
    }
    const scopes = (params.get('scope') ?? '').split(/[\s,]+/).filter(Boolean)
    const unauthorized = scopes.filter((scope) => !availableScopes.has(scope))
    if (unauthorized.length > 0) {
      // LinkedIn redirects with error=unauthorized_scope_error for scopes the app's products lack.
      throw new Error(`unauthorized_scope_error: ${unauthorized.join(', ')}`)
    }
    const code = `AQT${crypto.randomUUID().replaceAll('-', '')}`
    codes.set(code, {
      redirectURI,
      scopes,
      challenge: params.get('code_challenge') ?? undefined,
      expiresAtMs: nowMs() + CODE_SECONDS * 1000,
    })
    return { code, state: params.get('state') ?? '' }
  }

  /** Makes the next `times` (default 1) calls of `operation` fail as LinkedIn does. */
  function fail(
    operation: LinkedInOperation,
    failure: LinkedInEmulatorFailure,
    failOptions: { times?: number } = {},
  ) {
    const target = OPERATIONS[operation]
    const match = { method: target.method, path: target.path }
    if (failure === 'network_error') {
      kit.faults.inject(match, { kind: 'network_error' }, failOptions)
    } else if (failure === 'malformed') {
      kit.faults.inject(
        match,
        {
          kind: 'response',
          status: 200,
          headers: { 'content-type': 'text/html' },
          body: '<html><body>Request blocked</body></html>',
        },
        failOptions,
      )
    } else {
      kit.faults.inject(match, { kind: 'response', ...BODIES[failure] }, failOptions)
    }
  }

  function injectFault(operation: ConformanceOperation, fault: ConformanceFault): InjectedFault {
    const target: LinkedInOperation = operation === 'publish' ? 'publish' : 'userinfo'
    switch (fault.kind) {
      case 'rate_limited': {
        // LinkedIn's 429 has no headers: the wait is until the daily reset at midnight UTC. Run
        // out of quota `retryAfterSeconds` before midnight by the platform's clock.
        const now = clock.now()
        const ahead = new Date(now.getTime() + fault.retryAfterSeconds * 1000)
        // Midnight itself, not `ahead` plus whole seconds: a fraction of a second there, plus the
        // time the request takes, read as 41 s now and then.
        const midnight = Date.UTC(
          ahead.getUTCFullYear(),
          ahead.getUTCMonth(),
          ahead.getUTCDate() + 1,
        )
        clock.set(new Date(midnight - fault.retryAfterSeconds * 1000))
        fail(target, 'daily_limit')
        return {}
      }
      case 'content_rejected':
        fail(target, 'field_too_long')
        return { platformCode: 'FIELD_LENGTH_TOO_LONG' }
      case 'platform_unavailable':
        fail(target, 'unavailable')
        return {}
      case 'reconnect_required':
        fail(target, 'token_revoked')
        return {}
      case 'unexpected_response':
        fail(target, 'malformed')
        return {}
      case 'network_failure':
        fail(target, 'network_error')
        return {}
      case 'outcome_unknown':
        return { committed: new Promise<void>((resolve) => hangs.push({ committed: resolve })) }
    }
  }

  return {
    handlers: [
      kit.route('post', `${WWW}/oauth/v2/accessToken`, ({ request }) => token(request)),
      kit.route('put', new RegExp(`^${escapeRegExp(WWW)}/dms-uploads/`), ({ request }) =>
        upload(request),
      ),
      kit.route('all', new RegExp(`^${escapeRegExp(API)}/`), ({ request }) => api(request)),
    ],
    approve,
    injectFault,
    async countPosts(accountId: string) {
      return posts.filter((post) => post.author === accountId && !post.deleted).length
    },
    /** Makes the next calls of an operation fail with LinkedIn's status, headers and body. */
    fail,
    /**
     * Makes the next create call store the post and then never answer (until the client gives
     * up). Resolves when the post is stored.
     */
    hangAfterNextPost(): Promise<void> {
      return new Promise<void>((resolve) => hangs.push({ committed: resolve }))
    },
    /** The platform's clock: tokens, codes, daily limits and post times follow it. */
    clock,
    /** Every post made (deleted ones flagged), oldest first. */
    posts: (): readonly LinkedInEmulatorPost[] => posts,
    /** The member revokes the app in their LinkedIn settings: the token answers 401 65601. */
    revokeAccess(accessToken: string) {
      const grant = accessTokens.get(accessToken)
      if (grant) grant.revoked = true
    },
    /** The member's URN, `urn:li:person:{sub}`. */
    memberURN: personURN,
    /** Every request received. */
    requests: kit.requests,
  } satisfies ConformanceEmulator & Record<string, unknown>
}

/** What {@link createLinkedInEmulator} returns. */
export type LinkedInEmulator = ReturnType<typeof createLinkedInEmulator>

function present(post: LinkedInEmulatorPost) {
  return {
    id: post.id,
    author: post.author,
    commentary: post.commentary,
    visibility: post.visibility,
    lifecycleState: post.lifecycleState,
    isReshareDisabledByAuthor: post.isReshareDisabledByAuthor,
    distribution: {
      feedDistribution: 'MAIN_FEED',
      targetEntities: [],
      thirdPartyDistributionChannels: [],
    },
    ...(post.content ? { content: post.content } : {}),
    createdAt: post.createdAt,
    lastModifiedAt: post.lastModifiedAt,
    publishedAt: post.createdAt,
  }
}

// Deterministic numbers per post and metric, so tests can compare them.
function metric(id: string, kind: string): number {
  let hash = 0
  for (const character of `${id}:${kind}`)
    hash = (hash * 31 + (character.codePointAt(0) ?? 0)) >>> 0
  return hash % 1000
}

// biome-ignore lint/suspicious/noExplicitAny: request bodies are checked field by field.
async function readBody(request: Request): Promise<Record<string, any> | undefined> {
  try {
    const parsed: unknown = JSON.parse(await request.text())
    return typeof parsed === 'object' && parsed !== null
      ? (parsed as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

async function s256(verifier: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)),
  )
  return btoa(String.fromCharCode(...digest))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '')
}
