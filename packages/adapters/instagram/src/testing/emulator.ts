import { createS256CodeChallenge } from '@post-scheduler/adapter-core'
import {
  createEmulatorKit,
  createGraphErrorBody,
  type GraphPath,
  type GraphSpecValidator,
  hangUntilAborted,
  parseGraphPath,
  readGraphParameters,
} from '@post-scheduler/adapter-core/emulator'
import type {
  ConformanceEmulator,
  ConformanceFault,
  ConformanceOperation,
  InjectedFault,
} from '@post-scheduler/adapter-core/testing'
import { HttpResponse } from 'msw'

/** Options of {@link createInstagramEmulator}. */
export interface InstagramEmulatorOptions {
  clientId?: string
  clientSecret?: string
  redirectURIs?: string[]
  /** Checks every Graph request against Meta's node specs; a mismatch answers Graph's 400. */
  graph?: GraphSpecValidator
  /** How the short-lived token answer of Instagram Login is shaped: documented `wrapped` (default) or `flat`. */
  shortTokenShape?: 'wrapped' | 'flat'
  /** `quota_total` of `content_publishing_limit` (default 100, as the current guide says). */
  quotaTotal?: number
  /** Status reads a new image container answers `IN_PROGRESS` before `FINISHED` (default 1). */
  containerReadsInProgress?: number
  /**
   * How long a video container (reel, video story, carousel video item) stays `IN_PROGRESS` on
   * the emulator's clock before it reads `FINISHED` (default 90 s): advance `clock`, or call
   * `finishContainer` to finish it at once.
   */
  videoProcessingSeconds?: number
  /** The platform's clock start (ms since the epoch); default now. */
  startAt?: number
}

/** A post the emulated account holds. */
export interface InstagramEmulatorMedia {
  id: string
  owner: string
  caption: string
  productType: 'FEED' | 'STORY' | 'REELS'
  mediaType: 'IMAGE' | 'VIDEO' | 'CAROUSEL_ALBUM'
  timestamp: string
  permalink: string
  altTexts: string[]
  collaborators: string[]
  comments: string[]
  deleted: boolean
}

interface Container {
  id: string
  owner: string
  status: 'IN_PROGRESS' | 'FINISHED' | 'PUBLISHED' | 'ERROR' | 'EXPIRED'
  /** The `status` text of an `ERROR` container, e.g. `Error: 2207026`. */
  statusText?: string
  readsLeft: number
  createdAt: number
  /** Video containers: when (emulator clock) processing ends. */
  readyAt?: number
  /** `deferCompletion`: when (wall clock, as the suite waits in real time) and how it ends. */
  deferred?: { until: number; outcome: 'published' | 'failed' }
  carouselItem: boolean
  story: boolean
  video: boolean
  reel: boolean
  children: string[]
  caption: string
  altText?: string
  collaborators: string[]
}

interface Token {
  login: 'instagram' | 'facebook'
  kind: 'short' | 'long'
  issuedAt: number
  expiresAt: number
}

const IG_USER = '17841400000000001'
const PAGE = '100000000000002'
const USERNAME = 'emulated_brand'
const DAY_MS = 86_400_000
const WWW_INSTAGRAM = 'https://www.instagram.com/oauth/authorize'
const GRAPH = /^https:\/\/graph\.(instagram|facebook)\.com\//

/**
 * An emulator of the Instagram Graph API's content publishing, on msw: both logins (Instagram
 * Login's short → long-lived token and `ig_refresh_token`; Facebook Login's code exchange,
 * `fb_exchange_token` and the Page linked to the business account), media containers as a state
 * machine (`IN_PROGRESS` → `FINISHED` → `PUBLISHED`, or `ERROR`; `EXPIRED` after 24 h) for
 * images, reels (`REELS`), image and video stories and carousels of images and `VIDEO` items
 * (video containers process for `videoProcessingSeconds`; `finishContainer`, `failContainer` and
 * `deferCompletion` settle them on demand), `media_publish` with
 * the quota of `content_publishing_limit`, recent media, comments, delete (Facebook Login only),
 * insights, and Graph's error envelope. With `graph`, every Graph request is checked against
 * Meta's node specs first.
 *
 * @example
 * ```ts
 * const emulator = createInstagramEmulator({ clientId: 'id', clientSecret: 'secret', redirectURIs: [redirectURI] })
 * server.use(...emulator.handlers)
 * ```
 */
export function createInstagramEmulator(options: InstagramEmulatorOptions = {}) {
  const clientId = options.clientId ?? 'post-scheduler-tests'
  const clientSecret = options.clientSecret ?? 'not-a-secret'
  const redirectURIs = options.redirectURIs ?? []
  let clock = options.startAt ?? Date.now()
  const now = () => clock
  const kit = createEmulatorKit({ platform: 'instagram', now })
  const codes = new Map<
    string,
    { login: Token['login']; redirectURI: string; challenge?: string; used: boolean }
  >()
  const tokens = new Map<string, Token>()
  const containers = new Map<string, Container>()
  const media: InstagramEmulatorMedia[] = []
  let hangNextPublish: (() => void) | undefined
  let deferNext: { afterSeconds: number; outcome: 'published' | 'failed' } | undefined
  let serial = 0
  const nextId = (prefix: bigint) => (prefix + BigInt(++serial)).toString()
  const mint = (kind: string) => `IG${kind}${++serial}${crypto.randomUUID().replaceAll('-', '')}`

  const graphError = (
    status: number,
    error: { code: number; error_subcode?: number; message: string; error_user_msg?: string },
    headers?: Record<string, string>,
  ) =>
    HttpResponse.json(
      { error: { type: 'OAuthException', fbtrace_id: 'Aemulated', ...error } },
      { status, headers },
    )
  const missingObject = (id: string, method: string) =>
    graphError(400, {
      code: 100,
      error_subcode: 33,
      message: `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
    })

  function issueToken(login: Token['login'], kind: Token['kind']) {
    const token = mint(kind === 'short' ? 'S' : 'L')
    const seconds = kind === 'short' ? 3600 : 5_183_944
    tokens.set(token, { login, kind, issuedAt: now(), expiresAt: now() + seconds * 1000 })
    return { token, seconds }
  }

  function nodeOf(login: Token['login']) {
    return (path: GraphPath): string | undefined => {
      const id = path.objectId
      const ig = login === 'instagram'
      if (ig && id === 'access_token') return 'IGAccessTokenForIGOnlyAPI'
      if (ig && id === 'refresh_access_token') return 'IGRefreshAccessTokenForIGOnlyAPI'
      if (id === 'me') return ig ? 'IGUserForIGOnlyAPI' : 'User'
      if (id === IG_USER) return ig ? 'IGUserForIGOnlyAPI' : 'IGUser'
      if (!ig && id === PAGE) return 'Page'
      if (containers.has(id)) return 'ShadowIGMediaBuilder'
      if (media.some((item) => item.id === id)) return ig ? 'IGMediaForIGOnlyAPI' : 'IGMedia'
      return undefined
    }
  }

  async function shortToken(request: Request) {
    const form = new URLSearchParams(await request.text())
    const code = codes.get(form.get('code') ?? '')
    const refuse = (message: string) =>
      HttpResponse.json(
        { error_type: 'OAuthException', code: 400, error_message: message },
        { status: 400 },
      )
    if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret)
      return refuse('Invalid platform app')
    if (form.get('grant_type') !== 'authorization_code') return refuse('Invalid grant_type')
    if (code?.login !== 'instagram' || code.used)
      return refuse('This authorization code has been used')
    if (form.get('redirect_uri') !== code.redirectURI)
      return refuse(
        'Error validating verification code. Please make sure your redirect_uri is identical',
      )
    code.used = true
    const { token } = issueToken('instagram', 'short')
    const answer = {
      access_token: token,
      user_id: Number(IG_USER),
      permissions: 'instagram_business_basic,instagram_business_content_publish',
    }
    return HttpResponse.json(options.shortTokenShape === 'flat' ? answer : { data: [answer] })
  }

  // Facebook Login's token endpoint (not in the node specs: checked here by hand against
  // https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow).
  function facebookToken(url: URL) {
    const query = url.searchParams
    if (query.get('client_id') !== clientId || query.get('client_secret') !== clientSecret)
      return graphError(400, {
        code: 1,
        message: 'Error validating application. Invalid application ID.',
      })
    if (query.get('grant_type') === 'fb_exchange_token') {
      const token = tokens.get(query.get('fb_exchange_token') ?? '')
      if (token?.login !== 'facebook' || token.expiresAt <= now())
        return graphError(400, { code: 190, message: 'Invalid OAuth access token.' })
      const issued = issueToken('facebook', 'long')
      return HttpResponse.json({
        access_token: issued.token,
        token_type: 'bearer',
        expires_in: issued.seconds,
      })
    }
    const code = codes.get(query.get('code') ?? '')
    const used = () =>
      graphError(400, {
        code: 100,
        error_subcode: 36009,
        message: 'This authorization code has been used.',
      })
    if (code?.login !== 'facebook' || code.used) return used()
    if (query.get('redirect_uri') !== code.redirectURI)
      return graphError(400, {
        code: 100,
        error_subcode: 36008,
        message:
          'Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request',
      })
    if (code.challenge !== undefined) {
      const verifier = query.get('code_verifier') ?? ''
      if (createS256CodeChallenge(verifier) !== code.challenge)
        return graphError(400, { code: 100, message: 'Invalid code verifier.' })
    }
    code.used = true
    const issued = issueToken('facebook', 'short')
    return HttpResponse.json({
      access_token: issued.token,
      token_type: 'bearer',
      expires_in: issued.seconds,
    })
  }

  async function graphRoute(request: Request): Promise<Response> {
    const url = new URL(request.url)
    const login: Token['login'] = url.hostname === 'graph.instagram.com' ? 'instagram' : 'facebook'
    if (login === 'facebook' && /^\/v[\d.]+\/oauth\/access_token$/.test(url.pathname))
      return facebookToken(url)
    const path = parseGraphPath(url.pathname)
    let params: Record<string, unknown>
    if (options.graph) {
      const checked = await options.graph.checkRequest(request.clone(), nodeOf(login))
      const [issue] = checked.issues
      if (issue) return HttpResponse.json(createGraphErrorBody(issue), { status: 400 })
      params = checked.params
    } else {
      params = await readGraphParameters(request)
    }
    const text = (name: string) => {
      const value = params[name]
      return value === undefined
        ? undefined
        : Array.isArray(value)
          ? value.map(String)
          : String(value)
    }
    const single = (name: string) => {
      const value = text(name)
      return Array.isArray(value) ? value.join(',') : value
    }
    if (!path || !nodeOf(login)(path))
      return missingObject(path?.objectId ?? url.pathname, request.method)
    const accessToken = single('access_token') ?? ''
    const token = tokens.get(accessToken)
    if (!token || token.login !== login || token.expiresAt <= now())
      return graphError(400, {
        code: 190,
        message: 'Invalid OAuth access token - Cannot parse access token',
      })
    const { objectId: id, edge } = path
    const method = request.method

    if (id === 'access_token') {
      if (
        token.kind !== 'short' ||
        single('grant_type') !== 'ig_exchange_token' ||
        single('client_secret') !== clientSecret
      )
        return graphError(400, { code: 100, message: 'Invalid exchange request' })
      const issued = issueToken('instagram', 'long')
      return HttpResponse.json({
        access_token: issued.token,
        token_type: 'bearer',
        expires_in: issued.seconds,
      })
    }
    if (id === 'refresh_access_token') {
      // Only a long-lived token at least 24 h old can be refreshed.
      if (
        token.kind !== 'long' ||
        single('grant_type') !== 'ig_refresh_token' ||
        now() - token.issuedAt < DAY_MS
      )
        return graphError(400, { code: 190, message: 'The access token cannot be refreshed yet.' })
      const issued = issueToken('instagram', 'long')
      return HttpResponse.json({
        access_token: issued.token,
        token_type: 'bearer',
        expires_in: issued.seconds,
        permissions: 'instagram_business_basic,instagram_business_content_publish',
      })
    }
    const account = {
      id: IG_USER,
      user_id: IG_USER,
      username: USERNAME,
      name: 'Emulated Brand',
      account_type: 'BUSINESS',
      profile_picture_url: 'https://scontent.cdninstagram.com/emulated.jpg',
    }
    if (id === 'me' && !edge && method === 'GET')
      return HttpResponse.json(
        login === 'instagram' ? account : { id: '10000000000000009', name: 'Emulated Person' },
      )
    if (id === 'me' && edge === 'accounts' && method === 'GET') {
      const { user_id: _, account_type: __, ...linked } = account
      return HttpResponse.json({
        data: [
          { id: PAGE, name: 'Emulated Page', instagram_business_account: linked },
          { id: '100000000000008', name: 'A Page without Instagram' },
        ],
      })
    }
    if ((id === 'me' || id === IG_USER) && edge === 'media' && method === 'POST')
      return createContainer(params, text, single)
    if ((id === 'me' || id === IG_USER) && edge === 'media_publish' && method === 'POST')
      return publish(request, single('creation_id') ?? '')
    if ((id === 'me' || id === IG_USER) && edge === 'content_publishing_limit') {
      return HttpResponse.json({
        data: [
          {
            quota_usage: quotaUsage(),
            config: { quota_total: options.quotaTotal ?? 100, quota_duration: 86_400 },
          },
        ],
      })
    }
    if (
      (id === 'me' || id === IG_USER) &&
      (edge === 'media' || edge === 'stories') &&
      method === 'GET'
    ) {
      const since = Number(single('since') ?? 0) * 1000
      const listed = media
        .filter((item) => !item.deleted && (item.productType === 'STORY') === (edge === 'stories'))
        .filter((item) => Date.parse(item.timestamp) >= since)
        .reverse()
        .map(({ id: mediaId, caption, timestamp, permalink }) => ({
          id: mediaId,
          caption,
          timestamp,
          permalink,
        }))
      return HttpResponse.json({ data: listed })
    }
    const container = containers.get(id)
    if (container && !edge && method === 'GET') {
      advanceContainer(container, { read: true })
      return HttpResponse.json({
        id,
        status_code: container.status,
        status: container.statusText ?? container.status,
      })
    }
    const item = media.find((candidate) => candidate.id === id)
    if (item) {
      if (item.deleted) return missingObject(id, method)
      if (!edge && method === 'GET')
        return HttpResponse.json({
          id,
          permalink: item.permalink,
          caption: item.caption,
          timestamp: item.timestamp,
        })
      if (!edge && method === 'DELETE') {
        item.deleted = true
        return HttpResponse.json({ success: true })
      }
      if (edge === 'comments' && method === 'POST') {
        item.comments.push(single('message') ?? '')
        return HttpResponse.json({ id: nextId(17_850_000_000_000_000n) })
      }
      if (edge === 'insights' && method === 'GET') {
        const metrics = (single('metric') ?? '').split(',')
        return HttpResponse.json({
          data: metrics.map((name) => ({
            name,
            period: 'lifetime',
            values: [{ value: name === 'comments' ? item.comments.length : 7 }],
            id: `${id}/insights/${name}/lifetime`,
          })),
        })
      }
    }
    return missingObject(id, method)
  }

  // The container state machine: IN_PROGRESS → FINISHED or ERROR; FINISHED or IN_PROGRESS →
  // EXPIRED after 24 h; a carousel finishes once all its items have (and fails with the first
  // that failed). A status read counts down an image container's reads in progress.
  function advanceContainer(container: Container, { read }: { read: boolean }) {
    if (container.status === 'IN_PROGRESS') {
      const items = container.children.flatMap((child) => containers.get(child) ?? [])
      for (const item of items) advanceContainer(item, { read })
      const failed = items.find((item) => item.status === 'ERROR')
      const own = (() => {
        if (container.deferred) {
          if (Date.now() < container.deferred.until) return 'IN_PROGRESS'
          return container.deferred.outcome === 'published' ? 'FINISHED' : 'ERROR'
        }
        if (container.readyAt !== undefined)
          return now() >= container.readyAt ? 'FINISHED' : 'IN_PROGRESS'
        if (read) container.readsLeft--
        return container.readsLeft < 0 ? 'FINISHED' : 'IN_PROGRESS'
      })()
      if (failed) fail(container, failed.statusText ?? 'Error: 2207032')
      else if (own === 'ERROR') fail(container, 'Error: 2207026')
      else if (own === 'FINISHED' && items.every((item) => item.status === 'FINISHED'))
        container.status = 'FINISHED'
    }
    if (
      (container.status === 'FINISHED' || container.status === 'IN_PROGRESS') &&
      now() - container.createdAt > DAY_MS
    )
      container.status = 'EXPIRED'
  }

  function fail(container: Container, statusText: string) {
    container.status = 'ERROR'
    container.statusText = statusText
  }

  function quotaUsage() {
    return media.filter(
      (item) => item.owner === IG_USER && Date.parse(item.timestamp) > now() - DAY_MS,
    ).length
  }

  function createContainer(
    params: Record<string, unknown>,
    text: (name: string) => string | string[] | undefined,
    single: (name: string) => string | undefined,
  ) {
    const type = single('media_type')?.toUpperCase()
    const children = (() => {
      const value = text('children')
      if (value === undefined) return []
      return Array.isArray(value) ? value : value.split(',').map((child) => child.trim())
    })()
    const collaborators = (() => {
      const value = params.collaborators
      if (value === undefined) return []
      if (Array.isArray(value)) return value.map(String)
      const raw = String(value)
      return raw.startsWith('[') ? (JSON.parse(raw) as string[]) : raw.split(',')
    })()
    const caption = single('caption') ?? ''
    const carouselItem = /^(true|1)$/i.test(single('is_carousel_item') ?? '')
    if (collaborators.length > 3)
      return graphError(400, { code: 100, message: 'Up to 3 collaborators are allowed.' })
    const fetchable = (url: string | undefined) =>
      url !== undefined && /^https?:\/\/[\x21-\x7e]+$/.test(url)
    const cannotFetch = () =>
      graphError(400, {
        code: 9004,
        error_subcode: 2207052,
        message: 'Only photo or video can be accepted as media type.',
        error_user_msg: 'The media could not be fetched from this URI.',
      })
    const imageURL = single('image_url')
    const videoURL = single('video_url')
    // `VIDEO` is for carousel items only; single feed videos are reels (W2.1).
    if (type === 'VIDEO' && !carouselItem)
      return graphError(400, {
        code: 100,
        message: 'media_type VIDEO is only supported for carousel items; use REELS.',
      })
    if (type === 'REELS' && carouselItem)
      return graphError(400, { code: 100, message: 'Reels cannot be carousel items.' })
    const video = type === 'VIDEO' || type === 'REELS' || (type === 'STORIES' && !imageURL)
    if (video && (imageURL !== undefined || !fetchable(videoURL))) return cannotFetch()
    if (video && single('alt_text') !== undefined)
      return graphError(400, { code: 100, message: 'alt_text is supported for images only.' })
    if (type === 'CAROUSEL') {
      const valid = children.every((child) => {
        const found = containers.get(child)
        return found?.carouselItem && found.owner === IG_USER
      })
      if (!valid || children.length < 2 || children.length > 10)
        return graphError(400, {
          code: 100,
          error_subcode: 2207028,
          message:
            'Carousel should have between 2 and 10 items (too little or too many attachments).',
        })
    } else {
      if (!video && (videoURL !== undefined || !fetchable(imageURL))) return cannotFetch()
      if (carouselItem && caption !== '')
        return graphError(400, { code: 100, message: 'Carousel items cannot have a caption.' })
    }
    if (type === 'STORIES' && (caption !== '' || collaborators.length > 0))
      return graphError(400, {
        code: 100,
        message: 'param collaborators is not allowed for stories',
      })
    const id = nextId(17_890_000_000_000_000n)
    const deferred =
      deferNext && !carouselItem
        ? { until: Date.now() + deferNext.afterSeconds * 1000, outcome: deferNext.outcome }
        : undefined
    if (deferred) deferNext = undefined
    containers.set(id, {
      id,
      owner: IG_USER,
      status: 'IN_PROGRESS',
      readsLeft: options.containerReadsInProgress ?? 1,
      createdAt: now(),
      ...(video ? { readyAt: now() + (options.videoProcessingSeconds ?? 90) * 1000 } : {}),
      ...(deferred ? { deferred } : {}),
      carouselItem,
      story: type === 'STORIES',
      video,
      reel: type === 'REELS',
      children,
      caption,
      ...(single('alt_text') ? { altText: single('alt_text') } : {}),
      collaborators,
    })
    return HttpResponse.json({ id })
  }

  async function publish(request: Request, creationId: string) {
    const container = containers.get(creationId)
    if (!container || container.carouselItem) return missingObject(creationId, 'POST')
    advanceContainer(container, { read: false })
    if (container.status === 'PUBLISHED')
      // Publishing a container twice fails and makes no second post (W2.1; exact error unconfirmed).
      return graphError(400, { code: 100, message: 'The media has already been published.' })
    if (container.status !== 'FINISHED')
      return graphError(400, {
        code: 9007,
        error_subcode: 2207027,
        message: 'Media ID is not available',
        error_user_msg: 'The media is not ready for publishing, please wait for a moment',
      })
    if (quotaUsage() >= (options.quotaTotal ?? 100))
      return graphError(400, {
        code: 9,
        error_subcode: 2207042,
        message: 'Application request limit reached',
        error_user_msg:
          'You reached maximum number of posts that is allowed to be published by Content Publishing API.',
      })
    const id = nextId(17_920_000_000_000_000n)
    const altTexts = container.children.length
      ? container.children.flatMap((child) => containers.get(child)?.altText ?? [])
      : container.altText
        ? [container.altText]
        : []
    media.push({
      id,
      owner: container.owner,
      caption: container.caption,
      productType: container.story ? 'STORY' : container.reel ? 'REELS' : 'FEED',
      mediaType: container.children.length ? 'CAROUSEL_ALBUM' : container.video ? 'VIDEO' : 'IMAGE',
      timestamp: new Date(now()).toISOString(),
      permalink: `https://www.instagram.com/p/${id.slice(-11)}/`,
      altTexts,
      collaborators: container.collaborators,
      comments: [],
      deleted: false,
    })
    container.status = 'PUBLISHED'
    if (hangNextPublish) {
      const committed = hangNextPublish
      hangNextPublish = undefined
      committed()
      return hangUntilAborted(request)
    }
    return HttpResponse.json({ id })
  }

  async function approve(authorizationURL: URL) {
    const query = authorizationURL.searchParams
    const login: Token['login'] = authorizationURL.href.startsWith(WWW_INSTAGRAM)
      ? 'instagram'
      : 'facebook'
    const redirectURI = query.get('redirect_uri') ?? ''
    if (query.get('client_id') !== clientId) throw new Error('approve: unknown client_id')
    if (!redirectURIs.includes(redirectURI)) throw new Error('approve: redirect_uri not registered')
    const code = mint('C')
    const challenge = query.get('code_challenge') ?? undefined
    codes.set(code, { login, redirectURI, ...(challenge ? { challenge } : {}), used: false })
    return { code, state: query.get('state') ?? '' }
  }

  function injectFault(operation: ConformanceOperation, fault: ConformanceFault): InjectedFault {
    const match =
      operation === 'publish'
        ? { method: 'POST', path: /\/media$/ }
        : { method: 'GET', path: /\/me(\/accounts)?$/ }
    const respond = (status: number, body: unknown, headers?: Record<string, string>) =>
      kit.faults.inject(match, { kind: 'response', status, body, ...(headers ? { headers } : {}) })
    switch (fault.kind) {
      case 'rate_limited':
        // Meta says the wait in whole minutes; the fraction keeps the suite's seconds exact.
        respond(
          400,
          {
            error: {
              message: 'Application request limit reached',
              type: 'OAuthException',
              code: 80002,
              fbtrace_id: 'Aemulated',
            },
          },
          {
            'x-business-use-case-usage': JSON.stringify({
              [IG_USER]: [
                {
                  type: 'instagram',
                  call_count: 100,
                  total_cputime: 20,
                  total_time: 30,
                  estimated_time_to_regain_access: fault.retryAfterSeconds / 60,
                },
              ],
            }),
          },
        )
        return {}
      case 'content_rejected':
        respond(400, {
          error: {
            message: 'The image format is not supported.',
            type: 'OAuthException',
            code: 36001,
            error_subcode: 2207005,
            error_user_msg: 'Only JPEG images can be published.',
            fbtrace_id: 'Aemulated',
          },
        })
        return { platformCode: '2207005' }
      case 'reconnect_required':
        respond(400, {
          error: {
            message:
              'Error validating access token: The session has been invalidated because the user changed their password.',
            type: 'OAuthException',
            code: 190,
            error_subcode: 460,
            fbtrace_id: 'Aemulated',
          },
        })
        return {}
      case 'platform_unavailable':
        respond(500, {
          error: {
            message: 'Service temporarily unavailable',
            type: 'OAuthException',
            code: 2,
            is_transient: true,
            fbtrace_id: 'Aemulated',
          },
        })
        return {}
      case 'unexpected_response':
        respond(200, '<html>Sorry, something went wrong.</html>')
        return {}
      case 'network_failure':
        kit.faults.inject(match, { kind: 'network_error' })
        return {}
      case 'outcome_unknown':
        return { committed: new Promise<void>((resolve) => (hangNextPublish = resolve)) }
    }
  }

  return {
    handlers: [
      kit.route('post', 'https://api.instagram.com/oauth/access_token', ({ request }) =>
        shortToken(request),
      ),
      kit.route('all', GRAPH, ({ request }) => graphRoute(request)),
    ],
    approve,
    injectFault,
    /**
     * Makes the next post's container (a single item, a story or a carousel's parent) finish
     * `afterSeconds` of wall-clock time later (the conformance suite waits in real time), as
     * `FINISHED` or, for `failed`, `ERROR` with `Error: 2207026`.
     */
    deferCompletion(completion: { afterSeconds: number; outcome: 'published' | 'failed' }) {
      deferNext = completion
    },
    /** Finishes a container still processing now (its carousel items too), as tests need. */
    finishContainer(containerId: string) {
      const container = containers.get(containerId)
      if (!container) throw new Error(`finishContainer: no container ${containerId}`)
      for (const item of [
        container,
        ...container.children.flatMap((child) => containers.get(child) ?? []),
      ]) {
        if (item.status === 'IN_PROGRESS') item.status = 'FINISHED'
      }
    },
    /**
     * Makes a container still processing end `ERROR`, with Instagram's `status` text (default
     * `Error: 2207026`, an unsupported video format).
     */
    failContainer(containerId: string, statusText = 'Error: 2207026') {
      const container = containers.get(containerId)
      if (!container) throw new Error(`failContainer: no container ${containerId}`)
      fail(container, statusText)
    },
    /**
     * The posts an account holds: its media (deleted ones excluded) plus the posts Instagram is
     * still processing (top-level containers `IN_PROGRESS`), each of which `media_publish` turns
     * into one post: a second container for the same publication would be a duplicate.
     */
    async countPosts(accountId: string) {
      const processing = [...containers.values()].filter((container) => {
        if (container.owner !== accountId || container.carouselItem) return false
        advanceContainer(container, { read: false })
        return container.status === 'IN_PROGRESS'
      })
      return (
        media.filter((item) => item.owner === accountId && !item.deleted).length + processing.length
      )
    },
    /** Every post made (deleted ones flagged), oldest first. */
    media: (): readonly InstagramEmulatorMedia[] => media,
    /** The platform's clock: tokens, containers and the quota window follow it. */
    clock: {
      now: () => new Date(clock),
      advance(ms: number) {
        clock += ms
      },
    },
    /** The emulated business account's id. */
    accountId: IG_USER,
    /** Every request received and fault injection, from the emulator kit. */
    requests: kit.requests,
    faults: kit.faults,
  } satisfies ConformanceEmulator & Record<string, unknown>
}

/** What {@link createInstagramEmulator} returns. */
export type InstagramEmulator = ReturnType<typeof createInstagramEmulator>
