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
// Types only: erased, so this entry does not load vitest.
import type {
  ConformanceFault,
  ConformanceOperation,
  InjectedFault,
} from '@post-scheduler/adapter-core/testing'
import { HttpResponse } from 'msw'

/** A Page the emulated person manages. */
export interface FacebookEmulatorPage {
  id: string
  name: string
  username?: string
}

/** A post the emulated Graph holds. */
export interface FacebookEmulatorPost {
  id: string
  pageId: string
  message: string
  link?: string
  /** Ids of the photos attached through `attached_media`, in order. */
  photoIds: string[]
  createdAt: Date
  deleted: boolean
  comments: { id: string; message: string }[]
  /** The video this post shows, for a Page video or reel once Facebook has processed it. */
  videoId?: string
}

/** A Page video or reel the emulated Graph holds, and where it is in upload and processing. */
export interface FacebookEmulatorVideo {
  id: string
  pageId: string
  format: 'video' | 'reel'
  description: string
  title?: string
  /** Bytes received so far; `sizeBytes` once complete. */
  receivedBytes: number
  /** Declared size (`file_size`), once known. */
  sizeBytes?: number
  /** The `file_offset`/`offset` of every upload request, in order (a resumed upload shows it). */
  uploadOffsets: number[]
  createdAt: Date
  /** When the publishing call (`/videos` or reel `finish`) arrived; absent before. */
  finishedAt?: number
  /** How long processing takes after `finishedAt`, and how it ends. */
  processingMs: number
  outcome: 'published' | 'failed'
  /** The feed post made when it was published. */
  postId?: string
  deleted: boolean
}

/** A Resumable Upload API session (`upload:<id>`). */
export interface FacebookEmulatorUploadSession {
  id: string
  fileLength: number
  fileType: string
  bytes: Uint8Array
  /** The `file_offset` header of every upload request, in order. */
  uploadOffsets: number[]
  /** The file handle, once every byte has arrived. */
  handle?: string
}

/** Options of {@link createFacebookEmulator}. */
export interface FacebookEmulatorOptions {
  clientId?: string
  clientSecret?: string
  /** Redirect URIs registered on the app; the Login dialog refuses any other. */
  redirectURIs?: string[]
  /** The Pages the person manages. Default: two Pages. */
  pages?: FacebookEmulatorPage[]
  /**
   * Checks every Graph request against Meta's node specs (see `createGraphSpecValidator` in
   * `@post-scheduler/adapter-core/testing`) and refuses a wrong one as Graph does: HTTP 400,
   * code 100. The published emulator does not carry the specs; a test passes them.
   */
  graph?: GraphSpecValidator
  /** Where Graph is. Default `https://graph.facebook.com`. */
  graphBaseURL?: string
  /** Where the Login dialog is. Default `https://www.facebook.com`. */
  dialogBaseURL?: string
  /** The clock of `created_time` and video processing. Default `Date.now`. */
  now?: () => number
  /** Where `POST /{page-id}/videos` goes. Default `https://graph-video.facebook.com`. */
  graphVideoBaseURL?: string
  /** Where reels' bytes go. Default `https://rupload.facebook.com`. */
  ruploadBaseURL?: string
  /**
   * How long a video processes after its publishing call before its status reads ready (or
   * error), in seconds. Default 0: ready at the first status read. See also `deferCompletion`
   * and `completeVideos`.
   */
  videoProcessingSeconds?: number
}

interface UserToken {
  userId: string
  longLived: boolean
}

const DEFAULT_PAGES: FacebookEmulatorPage[] = [
  { id: '101000000000001', name: 'Emulated Bakery', username: 'emulatedbakery' },
  { id: '101000000000002', name: 'Emulated Books' },
]
const USER_ID = '900000000000001'

/**
 * An emulator of the Graph API as the Facebook adapter uses it, on msw: the Login dialog
 * (`approve`), the token endpoint (code → short-lived → `fb_exchange_token` long-lived, with
 * PKCE when the dialog got a challenge), `/me/permissions` (GET and the revoking DELETE),
 * `/me/accounts` with Page tokens and cursor paging, `POST /{page}/photos` (unpublished
 * uploads), `POST /{page}/feed` with `attached_media`, comments, delete, `published_posts`,
 * engagement counts and insights; and video: Resumable Upload API sessions
 * (`POST /{app-id}/uploads`, `upload:<session>` with `file_offset`, the token in an `OAuth`
 * header), `POST /{page}/videos` on graph-video.facebook.com, `video_reels` start and finish with
 * rupload in between, `GET /{page}/videos` and `GET /{video-id}?fields=status`, whose status moves
 * from processing to ready (or error) after `videoProcessingSeconds`, as `deferCompletion` says,
 * or on `completeVideos()`; `interruptNextUpload` cuts uploads short. Errors come in Graph's envelope (`{error: {code,
 * error_subcode, …}}`, HTTP 400) and a throttle carries `X-Business-Use-Case-Usage`.
 *
 * With `graph`, every request is checked against Meta's node specs first.
 *
 * @example
 * ```ts
 * const emulator = createFacebookEmulator({ clientId: 'app', clientSecret: 'secret', redirectURIs: [redirectURI] })
 * const server = setupServer(...emulator.handlers)
 * const { code } = await emulator.approve(adapter.createAuthorizationURL({ state, codeVerifier }))
 * ```
 */
export function createFacebookEmulator(options: FacebookEmulatorOptions = {}) {
  const clientId = options.clientId ?? 'facebook-emulator-app'
  const clientSecret = options.clientSecret ?? 'facebook-emulator-secret'
  const redirectURIs = options.redirectURIs ?? ['https://app.test/callback']
  const graphBaseURL = (options.graphBaseURL ?? 'https://graph.facebook.com').replace(/\/+$/, '')
  const dialogBaseURL = (options.dialogBaseURL ?? 'https://www.facebook.com').replace(/\/+$/, '')
  const now = options.now ?? Date.now
  const kit = createEmulatorKit({ platform: 'facebook', now })
  const pages = options.pages ?? DEFAULT_PAGES
  const codes = new Map<
    string,
    { redirectURI: string; challenge: string | undefined; used: boolean; scopes: string[] }
  >()
  const userTokens = new Map<string, UserToken>()
  const pageTokens = new Map<string, { pageId: string; userToken: string }>()
  const grantedScopes = new Set<string>()
  const photos = new Map<string, { pageId: string; published: boolean; attachedTo?: string }>()
  const posts = new Map<string, FacebookEmulatorPost>()
  const videos = new Map<string, FacebookEmulatorVideo>()
  const sessions = new Map<string, FacebookEmulatorUploadSession>()
  const fileHandles = new Map<string, string>()
  const graphVideoBaseURL = (
    options.graphVideoBaseURL ?? 'https://graph-video.facebook.com'
  ).replace(/\/+$/, '')
  const ruploadBaseURL = (options.ruploadBaseURL ?? 'https://rupload.facebook.com').replace(
    /\/+$/,
    '',
  )
  let nextCompletion: { afterSeconds: number; outcome: 'published' | 'failed' } | undefined
  let interruption: { afterBytes: number; times: number } | undefined
  let counter = 0
  let hang: { resolve: () => void } | undefined
  const nextId = () => `${Date.now()}${(++counter).toString().padStart(4, '0')}`
  const mint = (prefix: string) => `EAA${prefix}${crypto.randomUUID().replaceAll('-', '')}`

  const graphError = (
    code: number,
    message: string,
    extra: {
      subcode?: number
      status?: number
      headers?: Record<string, string>
      type?: string
    } = {},
  ) =>
    HttpResponse.json(
      {
        error: {
          message,
          type: extra.type ?? 'OAuthException',
          code,
          ...(extra.subcode === undefined ? {} : { error_subcode: extra.subcode }),
          fbtrace_id: `A${crypto.randomUUID().slice(0, 10)}`,
        },
      },
      { status: extra.status ?? 400, headers: extra.headers },
    )

  // Graph reads the token from the `access_token` parameter or the Authorization header
  // (`OAuth <token>` or `Bearer <token>`).
  function tokenOf(request: Request, params: Record<string, unknown>): string | undefined {
    const header = /^(?:OAuth|Bearer)\s+(.+)$/i.exec(request.headers.get('authorization') ?? '')
    return (
      header?.[1] ?? (typeof params.access_token === 'string' ? params.access_token : undefined)
    )
  }

  function nodeOf(path: GraphPath): string | undefined {
    if (path.objectId === 'me' || path.objectId === USER_ID) return 'User'
    if (path.objectId === clientId) return 'Application'
    if (sessions.has(path.objectId)) return 'UploadSession'
    const video = videos.get(path.objectId)
    if (video && !video.deleted) return 'AdVideo'
    if (pages.some((page) => page.id === path.objectId)) return 'Page'
    const post = posts.get(path.objectId)
    if (post && !post.deleted) return 'PagePost'
    if (photos.has(path.objectId)) return 'Photo'
    return undefined
  }

  async function tokenEndpoint(request: Request): Promise<Response> {
    const params = Object.fromEntries(new URL(request.url).searchParams)
    // The token endpoint is not a node, so no spec covers it; its parameters are checked by
    // hand against https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow
    // and /guides/access-tokens/get-long-lived.
    const known = new Set([
      'client_id',
      'client_secret',
      'redirect_uri',
      'code',
      'code_verifier',
      'grant_type',
      'fb_exchange_token',
    ])
    const unknown = Object.keys(params).find((name) => !known.has(name))
    if (unknown) return graphError(100, `(#100) Param ${unknown} is not a valid parameter`)
    if (params.client_id !== clientId) {
      return graphError(101, 'Error validating application. Invalid application ID.')
    }
    if (params.client_secret !== clientSecret) {
      return graphError(1, 'Error validating client secret.')
    }
    if (params.grant_type === 'fb_exchange_token') {
      const short = userTokens.get(params.fb_exchange_token ?? '')
      if (!short) return graphError(190, 'Invalid OAuth access token - Cannot parse access token')
      const token = mint('long')
      userTokens.set(token, { userId: short.userId, longLived: true })
      return HttpResponse.json({ access_token: token, token_type: 'bearer', expires_in: 5_183_944 })
    }
    const grant = codes.get(params.code ?? '')
    if (!grant) {
      return graphError(100, 'Invalid verification code format.', { subcode: 36007 })
    }
    if (grant.used) {
      return graphError(100, 'This authorization code has been used.', { subcode: 36009 })
    }
    grant.used = true
    if (grant.redirectURI !== params.redirect_uri) {
      return graphError(
        100,
        'Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request',
        { subcode: 36008 },
      )
    }
    if (
      grant.challenge !== undefined &&
      (params.code_verifier === undefined ||
        createS256CodeChallenge(params.code_verifier) !== grant.challenge)
    ) {
      return graphError(100, 'Invalid code verifier.', { subcode: 36008 })
    }
    for (const scope of grant.scopes) grantedScopes.add(scope)
    const token = mint('short')
    userTokens.set(token, { userId: USER_ID, longLived: false })
    return HttpResponse.json({ access_token: token, token_type: 'bearer', expires_in: 5_400 })
  }

  async function graphEndpoint(request: Request): Promise<Response> {
    const url = new URL(request.url)
    if (/^\/v\d+\.\d+\/oauth\/access_token$/.test(url.pathname) && request.method === 'GET') {
      return tokenEndpoint(request)
    }
    const params = await readGraphParameters(request)
    const token = tokenOf(request, params)
    const user = token === undefined ? undefined : userTokens.get(token)
    const pageGrant = token === undefined ? undefined : pageTokens.get(token)
    if (!user && !pageGrant) {
      return graphError(190, 'Invalid OAuth access token - Cannot parse access token')
    }
    if (options.graph) {
      const { issues } = await options.graph.checkRequest(request, nodeOf)
      if (issues[0]) return HttpResponse.json(createGraphErrorBody(issues[0]), { status: 400 })
    }
    const path = parseGraphPath(url.pathname)
    const node = path && nodeOf(path)
    if (!path || !node) return unsupported(request.method, path?.objectId ?? url.pathname)
    const route = `${request.method} ${node}${path.edge ? `/${path.edge}` : ''}`
    const fields = typeof params.fields === 'string' ? params.fields.split(',') : []

    if (node === 'User') {
      if (!user) return graphError(190, 'A user access token is required to request this resource.')
      switch (route) {
        case 'GET User/permissions':
          return HttpResponse.json({
            data: [...grantedScopes].map((permission) => ({ permission, status: 'granted' })),
          })
        case 'DELETE User/permissions': {
          // De-authorizing the app ends the user's tokens and every Page token derived from them.
          for (const [value, entry] of userTokens)
            if (entry.userId === user.userId) userTokens.delete(value)
          for (const [value] of pageTokens) pageTokens.delete(value)
          grantedScopes.clear()
          return HttpResponse.json({ success: true })
        }
        case 'GET User/accounts': {
          const limit = Number(params.limit ?? 25)
          const start = typeof params.after === 'string' ? Number(atob(params.after)) : 0
          const slice = pages.slice(start, start + limit)
          const data = slice.map((page) => {
            // A Page token from a long-lived user token never expires; from a short one, an hour.
            const pageToken = mint('page')
            pageTokens.set(pageToken, { pageId: page.id, userToken: token ?? '' })
            return {
              id: page.id,
              name: page.name,
              access_token: pageToken,
              ...(page.username ? { username: page.username } : {}),
              link: `https://www.facebook.com/${page.username ?? page.id}`,
              picture: { data: { url: `https://scontent.example/${page.id}.jpg` } },
            }
          })
          const more = start + limit < pages.length
          return HttpResponse.json({
            data,
            paging: {
              cursors: { before: btoa(String(start)), after: btoa(String(start + slice.length)) },
              ...(more
                ? {
                    next: `${graphBaseURL}${url.pathname}?after=${btoa(String(start + slice.length))}`,
                  }
                : {}),
            },
          })
        }
      }
      return unsupported(request.method, path.objectId)
    }

    if (node === 'Application' || node === 'UploadSession') {
      return uploadEndpoint(request, route, path, params)
    }

    const pageId =
      node === 'Page'
        ? path.objectId
        : (posts.get(path.objectId)?.pageId ??
          photos.get(path.objectId)?.pageId ??
          videos.get(path.objectId)?.pageId)
    // Page actions need that Page's token (or a user token of an admin, for reads).
    if (request.method !== 'GET' && pageGrant?.pageId !== pageId) {
      return graphError(
        200,
        "(#200) The user hasn't authorized the application to perform this action. A Page access token is required.",
      )
    }

    switch (route) {
      case 'POST Page/photos': {
        const id = nextId()
        const published = params.published !== false && params.published !== 'false'
        photos.set(id, { pageId: path.objectId, published })
        if (!published) return HttpResponse.json({ id })
        const post = createPost(
          path.objectId,
          String(params.caption ?? params.message ?? ''),
          undefined,
          [id],
        )
        return HttpResponse.json({ id, post_id: post.id })
      }
      case 'POST Page/feed': {
        const message = typeof params.message === 'string' ? params.message : ''
        const link = typeof params.link === 'string' ? params.link : undefined
        const attached = Array.isArray(params.attached_media) ? params.attached_media : []
        const photoIds: string[] = []
        for (const item of attached) {
          const id =
            typeof item === 'object' && item !== null
              ? (item as { media_fbid?: unknown }).media_fbid
              : undefined
          const photo = typeof id === 'string' ? photos.get(id) : undefined
          if (typeof id !== 'string' || !photo || photo.pageId !== path.objectId) {
            return graphError(
              100,
              `(#100) attached_media: media_fbid ${String(id)} is not a photo of this Page`,
            )
          }
          // A photo can be attached once; a second post attaching it is refused (1366051).
          if (photo.published || photo.attachedTo) {
            return graphError(100, 'These photos were already posted.', { subcode: 1366051 })
          }
          photoIds.push(id)
        }
        if (message === '' && !link && photoIds.length === 0) {
          return graphError(100, '(#100) Missing message or attachment.')
        }
        // "Duplicate status message": the same text posted again on the same Page.
        const duplicate = [...posts.values()].some(
          (post) =>
            !post.deleted &&
            post.pageId === path.objectId &&
            message !== '' &&
            post.message === message &&
            photoIds.length === 0,
        )
        if (duplicate) return graphError(506, '(#506) Duplicate status message')
        const post = createPost(path.objectId, message, link, photoIds)
        for (const id of photoIds) {
          const photo = photos.get(id)
          if (photo) photo.attachedTo = post.id
        }
        if (hang) {
          const { resolve } = hang
          hang = undefined
          resolve()
          return hangUntilAborted(request)
        }
        return HttpResponse.json({
          id: post.id,
          ...(fields.includes('permalink_url') ? { permalink_url: permalink(post.id) } : {}),
        })
      }
      case 'GET Page/published_posts': {
        const limit = Number(params.limit ?? 25)
        const start = typeof params.after === 'string' ? Number(atob(params.after)) : 0
        const listed = [...posts.values()]
          .filter((post) => post.pageId === path.objectId && !post.deleted)
          .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id))
        const slice = listed.slice(start, start + limit)
        const end = start + slice.length
        return HttpResponse.json({
          data: slice.map((post) => ({
            id: post.id,
            created_time: post.createdAt.toISOString().replace(/\.\d{3}Z$/, '+0000'),
            ...(post.message ? { message: post.message } : {}),
            ...(fields.includes('permalink_url') ? { permalink_url: permalink(post.id) } : {}),
          })),
          paging: {
            cursors: { before: btoa(String(start)), after: btoa(String(end)) },
            ...(end < listed.length
              ? { next: `${graphBaseURL}${url.pathname}?after=${btoa(String(end))}` }
              : {}),
          },
        })
      }
      case 'POST PagePost/comments': {
        const post = posts.get(path.objectId)
        const message = typeof params.message === 'string' ? params.message : ''
        if (!post || message === '') return graphError(100, '(#100) Missing message or attachment.')
        const comment = { id: `${post.id.split('_')[1]}_${nextId()}`, message }
        post.comments.push(comment)
        return HttpResponse.json({ id: comment.id })
      }
      case 'DELETE PagePost': {
        const post = posts.get(path.objectId)
        if (post) post.deleted = true
        const video = post?.videoId ? videos.get(post.videoId) : undefined
        if (video) video.deleted = true
        return HttpResponse.json({ success: true })
      }
      case 'POST Page/videos': {
        // Meta documents this call on graph-video.facebook.com.
        if (!request.url.startsWith(`${graphVideoBaseURL}/`)) {
          return graphError(100, '(#100) Video uploads go to graph-video.facebook.com')
        }
        const session = sessions.get(
          fileHandles.get(String(params.fbuploader_video_file_chunk)) ?? '',
        )
        if (!session) {
          return graphError(100, '(#100) fbuploader_video_file_chunk is not a valid file handle')
        }
        const video = createVideo(path.objectId, 'video', {
          description: String(params.description ?? ''),
          title: typeof params.title === 'string' ? params.title : undefined,
          receivedBytes: session.fileLength,
          sizeBytes: session.fileLength,
          uploadOffsets: [...session.uploadOffsets],
        })
        finishVideo(video)
        if (hang) return hangAfterCommit(request)
        return HttpResponse.json({ id: video.id })
      }
      case 'POST Page/video_reels': {
        const phase = String(params.upload_phase ?? '').toLowerCase()
        if (phase === 'start') {
          const video = createVideo(path.objectId, 'reel', {
            description: '',
            receivedBytes: 0,
            uploadOffsets: [],
          })
          return HttpResponse.json({
            video_id: video.id,
            upload_url: `${ruploadBaseURL}/video-upload/${path.version ?? 'v24.0'}/${video.id}`,
          })
        }
        const video = videos.get(String(params.video_id ?? ''))
        if (!video || video.pageId !== path.objectId || video.format !== 'reel') {
          return graphError(100, '(#100) video_id is not a reel of this Page')
        }
        if (video.sizeBytes === undefined || video.receivedBytes < video.sizeBytes) {
          return graphError(100, '(#100) The video has not finished uploading')
        }
        if (String(params.video_state ?? '').toUpperCase() !== 'PUBLISHED') {
          return graphError(
            100,
            '(#100) This emulator publishes reels with video_state=PUBLISHED only',
          )
        }
        // A second finish for the same video names the same reel: nothing new is made.
        if (video.finishedAt === undefined) {
          video.description = typeof params.description === 'string' ? params.description : ''
          if (typeof params.title === 'string') video.title = params.title
          finishVideo(video)
        }
        if (hang) return hangAfterCommit(request)
        return HttpResponse.json({ success: true })
      }
      case 'GET Page/videos': {
        const limit = Number(params.limit ?? 25)
        const start = typeof params.after === 'string' ? Number(atob(params.after)) : 0
        const listed = [...videos.values()]
          .filter(
            (video) =>
              video.pageId === path.objectId && !video.deleted && video.finishedAt !== undefined,
          )
          .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id))
        const slice = listed.slice(start, start + limit)
        const end = start + slice.length
        return HttpResponse.json({
          data: slice.map((video) => videoFields(video, fields)),
          paging: {
            cursors: { before: btoa(String(start)), after: btoa(String(end)) },
            ...(end < listed.length
              ? { next: `${graphBaseURL}${url.pathname}?after=${btoa(String(end))}` }
              : {}),
          },
        })
      }
      case 'GET AdVideo': {
        const video = videos.get(path.objectId)
        if (!video) return unsupported(request.method, path.objectId)
        return HttpResponse.json(videoFields(video, fields))
      }
      case 'DELETE AdVideo': {
        const video = videos.get(path.objectId)
        if (video) video.deleted = true
        const post = video?.postId ? posts.get(video.postId) : undefined
        if (post) post.deleted = true
        return HttpResponse.json({ success: true })
      }
      case 'GET PagePost': {
        const post = posts.get(path.objectId)
        if (!post) return unsupported(request.method, path.objectId)
        return HttpResponse.json({
          id: post.id,
          shares: { count: 0 },
          reactions: { data: [], summary: { total_count: 3 } },
          comments: { data: [], summary: { total_count: post.comments.length } },
        })
      }
      case 'GET PagePost/insights': {
        const metrics = String(params.metric ?? '')
          .split(',')
          .filter(Boolean)
        return HttpResponse.json({
          data: metrics.map((name) => ({
            name,
            period: 'lifetime',
            values: [{ value: name === 'post_clicks' ? 2 : 17 }],
            title: name,
            id: `${path.objectId}/insights/${name}/lifetime`,
          })),
        })
      }
    }
    return unsupported(request.method, path.objectId)
  }

  // The Resumable Upload API: a session on the app, then the bytes, resumable from `file_offset`.
  // https://developers.facebook.com/docs/graph-api/guides/upload
  async function uploadEndpoint(
    request: Request,
    route: string,
    path: GraphPath,
    params: Record<string, unknown>,
  ): Promise<Response> {
    // The upload endpoints read the token from `Authorization: OAuth <token>` only.
    if (
      route.includes('UploadSession') &&
      !/^OAuth\s+\S/i.test(request.headers.get('authorization') ?? '')
    ) {
      return graphError(
        190,
        'The upload endpoints take the token in an Authorization: OAuth header.',
      )
    }
    switch (route) {
      case 'POST Application/uploads': {
        const fileLength = Number(params.file_length)
        const fileType = String(params.file_type ?? '')
        if (!Number.isInteger(fileLength) || fileLength <= 0) {
          return graphError(100, '(#100) file_length must be a positive integer')
        }
        if (
          !['application/pdf', 'image/jpeg', 'image/jpg', 'image/png', 'video/mp4'].includes(
            fileType,
          )
        ) {
          return graphError(100, `(#100) file_type ${fileType} is not supported`)
        }
        const id = `upload:${btoa(nextId()).replaceAll('=', '')}`
        sessions.set(id, { id, fileLength, fileType, bytes: new Uint8Array(0), uploadOffsets: [] })
        return HttpResponse.json({ id })
      }
      case 'GET UploadSession': {
        const session = sessions.get(path.objectId)
        return HttpResponse.json({ id: path.objectId, file_offset: session?.bytes.length ?? 0 })
      }
      case 'POST UploadSession': {
        const session = sessions.get(path.objectId)
        if (!session) return unsupported(request.method, path.objectId)
        const offset = Number(request.headers.get('file_offset'))
        session.uploadOffsets.push(offset)
        if (offset !== session.bytes.length) {
          return graphError(
            100,
            `(#100) file_offset ${offset} does not match the ${session.bytes.length} bytes received`,
          )
        }
        const received = await receiveBytes(request, session.bytes)
        session.bytes = received.bytes
        if (received.interrupted) return HttpResponse.error()
        if (session.bytes.length < session.fileLength) {
          return HttpResponse.json({ id: session.id, file_offset: session.bytes.length })
        }
        session.handle ??= `2:${btoa(`${session.id}|${session.fileType}`)}`
        fileHandles.set(session.handle, session.id)
        return HttpResponse.json({ h: session.handle })
      }
    }
    return unsupported(request.method, path.objectId)
  }

  // Reels' bytes go to rupload, outside Graph: its headers (Authorization: OAuth, offset,
  // file_size) are checked here by hand against
  // https://developers.facebook.com/docs/video-api/guides/reels-publishing#step-2--upload-the-video
  async function ruploadEndpoint(request: Request): Promise<Response> {
    const videoId = new URL(request.url).pathname.split('/').at(-1) ?? ''
    const video = videos.get(videoId)
    const token = /^OAuth\s+(.+)$/i.exec(request.headers.get('authorization') ?? '')?.[1]
    const grant = token === undefined ? undefined : pageTokens.get(token)
    if (!grant) return graphError(190, 'Invalid OAuth access token - Cannot parse access token')
    if (video?.format !== 'reel' || video.pageId !== grant.pageId) {
      return graphError(100, `(#100) ${videoId} is not a reel of this Page`)
    }
    const offset = Number(request.headers.get('offset'))
    const fileSize = Number(request.headers.get('file_size'))
    if (!Number.isInteger(offset) || !Number.isInteger(fileSize) || fileSize <= 0) {
      return graphError(100, '(#100) The offset and file_size headers are required')
    }
    video.uploadOffsets.push(offset)
    if (offset !== video.receivedBytes) {
      return graphError(
        100,
        `(#100) offset ${offset} does not match the ${video.receivedBytes} bytes received`,
      )
    }
    video.sizeBytes = fileSize
    const received = await receiveBytes(request, new Uint8Array(video.receivedBytes))
    video.receivedBytes = Math.min(received.bytes.length, fileSize)
    if (received.interrupted) return HttpResponse.error()
    return HttpResponse.json({ success: true })
  }

  // Appends the request's bytes; an injected interruption keeps only the first ones and drops
  // the connection, as a network failure mid-upload does.
  async function receiveBytes(request: Request, before: Uint8Array) {
    let body = new Uint8Array(await request.arrayBuffer())
    const cut = interruption
    if (cut) {
      interruption = cut.times > 1 ? { ...cut, times: cut.times - 1 } : undefined
      body = body.slice(0, cut.afterBytes)
    }
    const bytes = new Uint8Array(before.length + body.length)
    bytes.set(before)
    bytes.set(body, before.length)
    return { bytes, interrupted: cut !== undefined }
  }

  function createVideo(
    pageId: string,
    format: 'video' | 'reel',
    fields: Pick<FacebookEmulatorVideo, 'description' | 'receivedBytes' | 'uploadOffsets'> &
      Partial<Pick<FacebookEmulatorVideo, 'title' | 'sizeBytes'>>,
  ): FacebookEmulatorVideo {
    const video: FacebookEmulatorVideo = {
      id: nextId(),
      pageId,
      format,
      description: fields.description,
      ...(fields.title === undefined ? {} : { title: fields.title }),
      receivedBytes: fields.receivedBytes,
      ...(fields.sizeBytes === undefined ? {} : { sizeBytes: fields.sizeBytes }),
      uploadOffsets: fields.uploadOffsets,
      createdAt: new Date(now()),
      processingMs: 0,
      outcome: 'published',
      deleted: false,
    }
    videos.set(video.id, video)
    return video
  }

  function finishVideo(video: FacebookEmulatorVideo) {
    const completion = nextCompletion ?? {
      afterSeconds: options.videoProcessingSeconds ?? 0,
      outcome: 'published' as const,
    }
    nextCompletion = undefined
    video.finishedAt = now()
    video.processingMs = completion.afterSeconds * 1000
    video.outcome = completion.outcome
  }

  function hangAfterCommit(request: Request) {
    const { resolve } = hang ?? { resolve: () => undefined }
    hang = undefined
    resolve()
    return hangUntilAborted(request)
  }

  // Where a video is, computed when read: processing until `processingMs` has passed, then
  // ready (its feed post made once) or error. Shapes from the VideoStatus* node specs.
  function statusOf(video: FacebookEmulatorVideo) {
    const uploaded = video.sizeBytes !== undefined && video.receivedBytes >= video.sizeBytes
    const uploading = {
      status: uploaded ? 'complete' : 'in_progress',
      bytes_transferred: video.receivedBytes,
      ...(video.sizeBytes === undefined ? {} : { source_file_size: video.sizeBytes }),
    }
    const notStarted = { status: 'not_started' }
    if (video.finishedAt === undefined) {
      return {
        video_status: uploaded ? 'upload_complete' : 'uploading',
        uploading_phase: uploading,
        processing_phase: notStarted,
        publishing_phase: notStarted,
      }
    }
    if (now() < video.finishedAt + video.processingMs) {
      return {
        video_status: 'processing',
        processing_progress: Math.floor(((now() - video.finishedAt) / video.processingMs) * 100),
        uploading_phase: uploading,
        processing_phase: { status: 'in_progress' },
        publishing_phase: notStarted,
      }
    }
    if (video.outcome === 'failed') {
      return {
        video_status: 'error',
        uploading_phase: uploading,
        processing_phase: {
          status: 'error',
          errors: [
            {
              code: 6000,
              message:
                'There was a problem uploading your video file. Please try again with another file.',
            },
          ],
        },
        publishing_phase: notStarted,
      }
    }
    if (!video.postId) {
      const post = createPost(video.pageId, video.description, undefined, [])
      post.videoId = video.id
      video.postId = post.id
    }
    return {
      video_status: 'ready',
      processing_progress: 100,
      uploading_phase: uploading,
      processing_phase: { status: 'complete' },
      publishing_phase: {
        status: 'complete',
        publish_status: 'published',
        publish_time: new Date(video.finishedAt + video.processingMs)
          .toISOString()
          .replace(/\.\d{3}Z$/, '+0000'),
      },
    }
  }

  function videoFields(video: FacebookEmulatorVideo, fields: string[]) {
    const status = statusOf(video)
    const all: Record<string, unknown> = {
      id: video.id,
      description: video.description,
      ...(video.title === undefined ? {} : { title: video.title }),
      created_time: video.createdAt.toISOString().replace(/\.\d{3}Z$/, '+0000'),
      // Graph gives video permalinks as paths.
      permalink_url:
        video.format === 'reel' ? `/reel/${video.id}/` : `/${video.pageId}/videos/${video.id}/`,
      ...(video.postId ? { post_id: video.postId } : {}),
      status,
    }
    const wanted = new Set(['id', ...fields])
    return Object.fromEntries(Object.entries(all).filter(([name]) => wanted.has(name)))
  }

  function unsupported(method: string, objectId: string) {
    return graphError(
      100,
      `Unsupported ${method.toLowerCase()} request. Object with ID '${objectId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      { subcode: 33, type: 'GraphMethodException' },
    )
  }

  function createPost(
    pageId: string,
    message: string,
    link: string | undefined,
    photoIds: string[],
  ) {
    const post: FacebookEmulatorPost = {
      id: `${pageId}_${nextId()}`,
      pageId,
      message,
      ...(link ? { link } : {}),
      photoIds,
      createdAt: new Date(now()),
      deleted: false,
      comments: [],
    }
    posts.set(post.id, post)
    return post
  }

  function permalink(postId: string) {
    const [pageId, id] = postId.split('_')
    return `https://www.facebook.com/${pageId}/posts/${id}`
  }

  const escaped = graphBaseURL.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const escapedVideo = graphVideoBaseURL.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const escapedRupload = ruploadBaseURL.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const handlers = [
    kit.route('all', new RegExp(`^${escaped}/v\\d+\\.\\d+/`), ({ request }) =>
      graphEndpoint(request),
    ),
    kit.route('all', new RegExp(`^${escapedVideo}/v\\d+\\.\\d+/`), ({ request }) =>
      graphEndpoint(request),
    ),
    kit.route(
      'post',
      new RegExp(`^${escapedRupload}/video-upload/v\\d+\\.\\d+/[^/]+$`),
      ({ request }) => ruploadEndpoint(request),
    ),
  ]

  const operationPaths: Record<ConformanceOperation, { method: string; path: RegExp }> = {
    // The first call of a publish: the feed post, or a video's upload session or reel start.
    publish: { method: 'POST', path: /^\/v\d+\.\d+\/[^/]+\/(feed|uploads|video_reels)$/ },
    listAccounts: { method: 'GET', path: /^\/v\d+\.\d+\/me\/accounts$/ },
  }

  return {
    ...kit,
    handlers,
    /** The Pages the person manages. */
    pages,
    /** Every post, deleted ones included. */
    posts: (): readonly FacebookEmulatorPost[] => [...posts.values()],
    /** Every photo uploaded: whether it was published on its own, and the post it is attached to. */
    photos: () => new Map(photos),

    /**
     * Plays the person in the Login dialog: checks the app and redirect URI, approves every
     * permission asked, and returns the `code` and `state` of the redirect.
     */
    async approve(authorizationURL: URL) {
      if (
        !authorizationURL.href.startsWith(`${dialogBaseURL}/`) ||
        !/\/v\d+\.\d+\/dialog\/oauth$/.test(authorizationURL.pathname)
      ) {
        throw new Error(`Not a Facebook Login dialog URL: ${authorizationURL.href}`)
      }
      const query = authorizationURL.searchParams
      if (query.get('client_id') !== clientId) throw new Error('Unknown app id in the dialog URL')
      const redirectURI = query.get('redirect_uri') ?? ''
      if (!redirectURIs.includes(redirectURI)) {
        throw new Error(`URL blocked: ${redirectURI} is not a valid OAuth redirect URI of the app`)
      }
      const method = query.get('code_challenge_method')
      if (method !== null && method !== 'S256')
        throw new Error('code_challenge_method must be S256')
      const code = `AQ${crypto.randomUUID().replaceAll('-', '')}`
      codes.set(code, {
        redirectURI,
        challenge: query.get('code_challenge') ?? undefined,
        used: false,
        scopes: (query.get('scope') ?? '').split(',').filter(Boolean),
      })
      return { code, state: query.get('state') ?? '' }
    },

    /** Makes the next `operation` fail as Graph reports that failure. */
    injectFault(operation: ConformanceOperation, fault: ConformanceFault): InjectedFault {
      const match = operationPaths[operation]
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
        kit.faults.inject(match, { kind: 'response', status, body, headers })
      switch (fault.kind) {
        case 'rate_limited': {
          // Graph gives the wait in minutes; the suite asks for seconds, so it may be a fraction.
          const pageId = pages[0]?.id ?? '0'
          json(
            400,
            {
              error: {
                message: '(#32) Page request limit reached',
                type: 'OAuthException',
                code: 32,
                fbtrace_id: 'Afault',
              },
            },
            {
              'x-business-use-case-usage': JSON.stringify({
                [pageId]: [
                  {
                    type: 'pages',
                    call_count: 100,
                    total_cputime: 12,
                    total_time: 20,
                    estimated_time_to_regain_access: fault.retryAfterSeconds / 60,
                  },
                ],
              }),
            },
          )
          return {}
        }
        case 'content_rejected':
          json(400, {
            error: {
              message: '(#506) Duplicate status message',
              type: 'OAuthException',
              code: 506,
              fbtrace_id: 'Afault',
            },
          })
          return { platformCode: '506' }
        case 'platform_unavailable':
          json(503, {
            error: {
              message: 'Service temporarily unavailable',
              type: 'OAuthException',
              code: 2,
              is_transient: true,
              fbtrace_id: 'Afault',
            },
          })
          return {}
        case 'reconnect_required':
          json(400, {
            error: {
              message: 'Error validating access token: Session has expired.',
              type: 'OAuthException',
              code: 190,
              error_subcode: 463,
              fbtrace_id: 'Afault',
            },
          })
          return {}
        case 'unexpected_response':
          json(200, { data: 'not a list of Pages' })
          return {}
        case 'network_failure':
          kit.faults.inject(match, { kind: 'network_error' })
          return {}
        case 'outcome_unknown': {
          if (operation !== 'publish') throw new Error('outcome_unknown applies to publish only')
          return {
            committed: new Promise<void>((resolve) => {
              hang = { resolve }
            }),
          }
        }
      }
    },

    /** Every Page video and reel, with its upload and processing state. */
    videos: (): readonly FacebookEmulatorVideo[] => [...videos.values()],
    /** Every Resumable Upload API session. */
    uploadSessions: (): readonly FacebookEmulatorUploadSession[] => [...sessions.values()],

    /**
     * Makes the next video (Page video or reel) finish `afterSeconds` after its publishing
     * call, as `outcome`: `failed` reads as a processing error in its status.
     */
    deferCompletion(completion: { afterSeconds: number; outcome: 'published' | 'failed' }) {
      nextCompletion = completion
    },

    /** Ends the processing of every video now (each as its outcome says). */
    completeVideos() {
      for (const video of videos.values()) {
        if (video.finishedAt !== undefined)
          video.processingMs = Math.max(0, now() - video.finishedAt)
      }
    },

    /**
     * Interrupts the next upload request (an upload session's or a reel's), or the next `times`:
     * the emulator keeps the first `afterBytes` bytes of each and drops the connection, so the
     * upload must resume from the offset Facebook reports.
     */
    interruptNextUpload(interrupt: { afterBytes: number; times?: number }) {
      interruption = { afterBytes: interrupt.afterBytes, times: interrupt.times ?? 1 }
    },

    /**
     * Posts on a Page, deleted ones excluded, with videos still processing (they become posts
     * when ready); failed videos are not counted.
     */
    async countPosts(accountId: string) {
      for (const video of videos.values()) statusOf(video)
      const processing = [...videos.values()].filter(
        (video) =>
          video.pageId === accountId &&
          !video.deleted &&
          video.finishedAt !== undefined &&
          video.postId === undefined &&
          video.outcome === 'published',
      ).length
      return (
        [...posts.values()].filter((post) => post.pageId === accountId && !post.deleted).length +
        processing
      )
    },
  }
}

/** What `createFacebookEmulator` returns. */
export type FacebookEmulator = ReturnType<typeof createFacebookEmulator>
