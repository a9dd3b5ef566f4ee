import { createS256CodeChallenge } from '@post-scheduler/adapter-core'
import {
  createEmulatorKit,
  type EmulatorFault,
  hangUntilAborted,
} from '@post-scheduler/adapter-core/emulator'
// Types only: erased, so this entry does not load vitest.
import type {
  ConformanceEmulator,
  ConformanceFault,
  ConformanceOperation,
  InjectedFault,
} from '@post-scheduler/adapter-core/testing'
import { HttpResponse, http } from 'msw'
import { countXText, extractXURLs } from '../text/count.ts'

/** How the emulated X treats replies (see {@link XEmulatorOptions.replies}). */
export type XReplyPolicy = 'open' | 'summoned_or_self' | 'summoned_only'

/** Options of {@link createXEmulator}. */
export interface XEmulatorOptions {
  /** Defaults to `https://api.x.com`. */
  apiBaseURL?: string
  /** Defaults to `https://x.com/i/oauth2/authorize`. */
  authorizationURL?: string
  /** The registered app. A secret makes it a confidential client (HTTP Basic required). */
  clientId?: string
  clientSecret?: string
  /**
   * Replies under the 2026 rule for self-serve apps: `open` (enterprise), `summoned_or_self`
   * (default: a reply is allowed to your own posts and where the author @mentioned you), or
   * `summoned_only` (self-replies refused too: the UNCONFIRMED strict reading).
   */
  replies?: XReplyPolicy
  /** STATUS polls answering `in_progress` before a video or GIF succeeds. Defaults to 2. */
  processingPolls?: number
  /** Seconds X asks to wait between polls (`check_after_secs`). Defaults to 1. */
  checkAfterSeconds?: number
  /** Called with every request before it is served, e.g. to validate it against the spec. */
  inspect?: (request: Request) => void | Promise<void>
  /** The clock. Defaults to `Date.now`. */
  now?: () => number
}

/** A post the emulated X holds. */
export interface XEmulatedPost {
  id: string
  authorId: string
  text: string
  createdAt: Date
  mediaIds: string[]
  replyTo: string | undefined
  replySettings: string | undefined
  deleted: boolean
}

interface Upload {
  ownerId: string
  mediaType: string
  category: string
  totalBytes: number
  receivedBytes: number
  segments: Set<number>
  finalized: boolean
  pollsLeft: number
  fail: boolean
  altText?: string
}

const FIELDS_OF_PROBLEM = (
  status: number,
  title: string,
  detail: string,
  type = 'about:blank',
) => ({
  title,
  detail,
  type,
  status,
})

/**
 * The X API v2 as msw handlers: OAuth 2.0 with PKCE (30-second single-use codes, HTTP Basic for
 * confidential clients, rotating refresh tokens, revocation), `/2/users/me`, the user timeline,
 * posts (create with media, replies under the 2026 rule, reply settings, duplicate detection,
 * delete, look-up with public metrics), and chunked media upload with processing states. Errors
 * are X's documented bodies and headers: 401/403 problems, the 403 duplicate, 429 with
 * `x-rate-limit-*` and 24-hour headers, OAuth `invalid_request`. Posts come back as X returns
 * them: links as t.co, `&<>` escaped, a t.co link appended for media.
 *
 * @example
 * ```ts
 * import { setupServer } from 'msw/node'
 * import { createXEmulator } from '@post-scheduler/adapter-x/testing'
 *
 * const emulator = createXEmulator({ clientId: 'id', clientSecret: 'secret' })
 * const server = setupServer(...emulator.handlers)
 * server.listen()
 * emulator.faults.inject({ method: 'POST', path: '/2/tweets' }, { kind: 'network_error' })
 * ```
 */
export function createXEmulator(options: XEmulatorOptions = {}) {
  const api = (options.apiBaseURL ?? 'https://api.x.com').replace(/\/+$/, '')
  // The API's own path (`/2/…`), also when it is served under a prefix (hosted by a dev server).
  const apiPath = new URL(api).pathname.replace(/\/+$/, '')
  const pathOf = (request: Request) => new URL(request.url).pathname.slice(apiPath.length)
  const now = options.now ?? Date.now
  const kit = createEmulatorKit({ platform: 'x', now })
  const users = new Map<string, { id: string; name: string; username: string }>()
  const codes = new Map<
    string,
    {
      userId: string
      clientId: string
      redirectURI: string
      challenge: string
      scopes: string[]
      expiresAt: number
    }
  >()
  const posts: XEmulatedPost[] = []
  const uploads = new Map<string, Upload>()
  const commits: (() => void)[] = []
  const failNextProcessing = { value: false }
  const replyPolicy = { value: options.replies ?? ('summoned_or_self' as XReplyPolicy) }
  let sequence = 1_880_000_000_000_000_000n
  const nextId = () => (++sequence).toString()

  const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
    HttpResponse.json(body as Record<string, unknown>, {
      status,
      headers: { ...rateLimitHeaders(), ...headers },
    })
  const problem = (status: number, title: string, detail: string, type?: string) =>
    HttpResponse.json(FIELDS_OF_PROBLEM(status, title, detail, type), {
      status,
      headers: { 'content-type': 'application/problem+json', ...rateLimitHeaders() },
    })
  const oauthError = (status: number, error: string, description: string) =>
    HttpResponse.json({ error, error_description: description }, { status })
  function rateLimitHeaders(): Record<string, string> {
    return {
      'x-rate-limit-limit': '900',
      'x-rate-limit-remaining': '899',
      'x-rate-limit-reset': String(Math.floor(now() / 1000) + 900),
    }
  }

  function authenticate(request: Request, scopes: string[]) {
    const grant = kit.tokens.authenticate(request)
    if (!grant) return { error: problem(401, 'Unauthorized', 'Unauthorized') }
    if (!scopes.every((scope) => grant.scopes.includes(scope))) {
      return {
        error: problem(
          403,
          'Forbidden',
          'You are not permitted to use OAuth2 on this endpoint without the scopes it requires.',
        ),
      }
    }
    return { grant }
  }

  // X returns text with links as t.co, `&<>` escaped, and a t.co link for attached media.
  function render(post: XEmulatedPost, fields: Set<string>) {
    let text = ''
    const urls: Record<string, unknown>[] = []
    let last = 0
    const length = (value: string) => [...value].length
    for (const url of extractXURLs(post.text.normalize('NFC'))) {
      const before = escapeHTML(post.text.normalize('NFC').slice(last, url.start))
      text += before
      const short = `https://t.co/${url.url.length.toString(36)}${post.id.slice(-6)}`
      urls.push({
        start: length(text),
        end: length(text) + length(short),
        url: short,
        expanded_url: /^https?:\/\//i.test(url.url) ? url.url : `http://${url.url}`,
        display_url: url.url.replace(/^https?:\/\//i, ''),
      })
      text += short
      last = url.end
    }
    text += escapeHTML(post.text.normalize('NFC').slice(last))
    if (post.mediaIds.length > 0) {
      const short = `https://t.co/m${post.id.slice(-8)}`
      text += `${text === '' ? '' : ' '}`
      urls.push({
        start: length(text),
        end: length(text) + length(short),
        url: short,
        expanded_url: `https://x.com/i/web/status/${post.id}/photo/1`,
        display_url: 'pic.x.com/media',
        media_key: `3_${post.mediaIds[0]}`,
      })
      text += short
    }
    const metrics = metricsOf(post)
    return {
      id: post.id,
      text,
      edit_history_tweet_ids: [post.id],
      ...(fields.has('created_at') ? { created_at: post.createdAt.toISOString() } : {}),
      ...(fields.has('entities') && urls.length > 0 ? { entities: { urls } } : {}),
      ...(fields.has('attachments') && post.mediaIds.length > 0
        ? { attachments: { media_keys: post.mediaIds.map((id) => mediaKey(id)) } }
        : {}),
      ...(fields.has('referenced_tweets') && post.replyTo
        ? { referenced_tweets: [{ type: 'replied_to', id: post.replyTo }] }
        : {}),
      ...(fields.has('public_metrics') ? { public_metrics: metrics } : {}),
    }
  }

  function mediaKey(id: string) {
    const upload = uploads.get(id)
    return `${upload?.category === 'tweet_image' ? 3 : upload?.category === 'tweet_gif' ? 16 : 7}_${id}`
  }

  function metricsOf(post: XEmulatedPost) {
    const base = Number(BigInt(post.id) % 97n)
    return {
      retweet_count: base % 5,
      reply_count: base % 7,
      like_count: base,
      quote_count: base % 3,
      bookmark_count: base % 4,
      impression_count: base * 40,
    }
  }

  function fieldsOf(url: URL) {
    return new Set((url.searchParams.get('tweet.fields') ?? '').split(',').filter(Boolean))
  }

  async function readForm(request: Request): Promise<URLSearchParams> {
    return new URLSearchParams(await request.text())
  }

  function clientOf(request: Request, form: URLSearchParams): string | Response {
    const header = /^Basic\s+(.+)$/i.exec(request.headers.get('authorization') ?? '')
    if (options.clientSecret !== undefined) {
      const [id, secret] = atob(header?.[1] ?? '')
        .split(':')
        .map((part) => decodeURIComponent(part.replaceAll('+', ' ')))
      if (id !== options.clientId || secret !== options.clientSecret) {
        return oauthError(401, 'unauthorized_client', 'Missing valid authorization header')
      }
      return id ?? ''
    }
    const id = form.get('client_id')
    if (!id || (options.clientId !== undefined && id !== options.clientId)) {
      return oauthError(400, 'invalid_request', 'Missing required parameter [client_id].')
    }
    return id
  }

  function commitFault(operation: ConformanceOperation) {
    return operation === 'publish'
      ? { method: 'POST', path: '/2/tweets' }
      : { method: 'GET', path: '/2/users/me' }
  }

  // A one-shot fault that answers with a handler of its own (commit, then hang).
  let hangNextPublish = false

  const handlers = [
    kit.route(
      'get',
      options.authorizationURL ?? 'https://x.com/i/oauth2/authorize',
      () =>
        new HttpResponse(
          '<!doctype html><title>Authorize app</title><p>Emulated X consent screen. Tests approve with <code>emulator.approve(url)</code>.</p>',
          { headers: { 'content-type': 'text/html' } },
        ),
    ),

    kit.route('post', `${api}/2/oauth2/token`, async ({ request }) => {
      const form = await readForm(request)
      const client = clientOf(request, form)
      if (client instanceof Response) return client
      if (form.get('grant_type') === 'authorization_code') {
        const code = codes.get(form.get('code') ?? '')
        codes.delete(form.get('code') ?? '')
        if (!code || code.expiresAt < now() || code.clientId !== client) {
          return oauthError(
            400,
            'invalid_request',
            'Value passed for the authorization code was invalid.',
          )
        }
        if (code.redirectURI !== form.get('redirect_uri')) {
          return oauthError(
            400,
            'invalid_request',
            'Value passed for the redirect uri was invalid.',
          )
        }
        if (createS256CodeChallenge(form.get('code_verifier') ?? '') !== code.challenge) {
          return oauthError(
            400,
            'invalid_request',
            'Value passed for the code verifier was invalid.',
          )
        }
        return json(
          kit.tokens.issue({
            subject: code.userId,
            scopes: code.scopes,
            clientId: client,
            expiresInSeconds: 7200,
            refreshToken: code.scopes.includes('offline.access'),
          }),
        )
      }
      if (form.get('grant_type') === 'refresh_token') {
        // Rotation: the old refresh token dies once used (observed, UNCONFIRMED in X's docs).
        const refreshed = kit.tokens.refresh(form.get('refresh_token') ?? '')
        if (!refreshed) {
          return oauthError(400, 'invalid_request', 'Value passed for the token was invalid.')
        }
        return json({ ...refreshed, expires_in: 7200 })
      }
      return oauthError(400, 'unsupported_grant_type', 'Grant type is not supported.')
    }),

    kit.route('post', `${api}/2/oauth2/revoke`, async ({ request }) => {
      const form = await readForm(request)
      const client = clientOf(request, form)
      if (client instanceof Response) return client
      kit.tokens.revoke(form.get('token') ?? '')
      return json({ revoked: true })
    }),

    kit.route('get', `${api}/2/users/me`, ({ request }) => {
      const auth = authenticate(request, ['tweet.read', 'users.read'])
      if (auth.error) return auth.error
      const user = users.get(auth.grant.subject)
      if (!user) return problem(401, 'Unauthorized', 'Unauthorized')
      return json({
        data: {
          ...user,
          profile_image_url: `https://pbs.twimg.com/profile_images/${user.id}/avatar_normal.jpg`,
        },
      })
    }),

    kit.route('get', `${api}/2/users/:id/tweets`, ({ request }) => {
      const auth = authenticate(request, ['tweet.read', 'users.read'])
      if (auth.error) return auth.error
      const url = new URL(request.url)
      const userId = pathOf(request).split('/')[3] ?? ''
      const startTime = url.searchParams.get('start_time')
      const from = startTime ? Date.parse(startTime) : 0
      const pageSize = Number(url.searchParams.get('max_results') ?? '10')
      const offset = Number(url.searchParams.get('pagination_token') ?? '0')
      const matching = posts
        .filter(
          (post) => post.authorId === userId && !post.deleted && post.createdAt.getTime() >= from,
        )
        .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1))
      const page = matching.slice(offset, offset + pageSize)
      const fields = fieldsOf(url)
      const nextOffset = offset + pageSize
      return json({
        ...(page.length > 0 ? { data: page.map((post) => render(post, fields)) } : {}),
        meta: {
          result_count: page.length,
          ...(page[0] ? { newest_id: page[0].id, oldest_id: page.at(-1)?.id } : {}),
          ...(nextOffset < matching.length ? { next_token: String(nextOffset) } : {}),
        },
      })
    }),

    kit.route('post', `${api}/2/tweets`, async ({ request }) => {
      const auth = authenticate(request, ['tweet.read', 'tweet.write', 'users.read'])
      if (auth.error) return auth.error
      const body = (await request.json().catch(() => ({}))) as {
        text?: string
        media?: { media_ids?: string[] }
        reply?: { in_reply_to_tweet_id?: string }
        reply_settings?: string
      }
      const authorId = auth.grant.subject
      const text = body.text ?? ''
      const mediaIds = body.media?.media_ids ?? []
      if (text === '' && mediaIds.length === 0) {
        return problem(
          400,
          'Invalid Request',
          'One or more parameters to your request was invalid.',
          'https://api.twitter.com/2/problems/invalid-request',
        )
      }
      if (countXText(text) > 280) {
        return problem(403, 'Forbidden', 'You are not permitted to perform this action.')
      }
      for (const id of mediaIds) {
        const upload = uploads.get(id)
        if (
          !upload ||
          upload.ownerId !== authorId ||
          !upload.finalized ||
          upload.pollsLeft > 0 ||
          upload.fail
        ) {
          return problem(
            400,
            'Invalid Request',
            'Your media IDs are invalid.',
            'https://api.twitter.com/2/problems/invalid-request',
          )
        }
      }
      const replyTo = body.reply?.in_reply_to_tweet_id
      if (replyTo !== undefined) {
        const parent = posts.find((post) => post.id === replyTo && !post.deleted)
        if (!parent) {
          return problem(
            400,
            'Invalid Request',
            'The post you are replying to has been deleted or is not visible to you.',
            'https://api.twitter.com/2/problems/invalid-request',
          )
        }
        const user = users.get(authorId)
        const summoned =
          user !== undefined &&
          parent.text.toLowerCase().includes(`@${user.username.toLowerCase()}`)
        const self = parent.authorId === authorId
        const policy = replyPolicy.value
        if (policy !== 'open' && !summoned && !(self && policy === 'summoned_or_self')) {
          // The refusal text is UNCONFIRMED; this is X's refusal of a restricted reply.
          return problem(
            403,
            'Forbidden',
            'Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.',
          )
        }
      }
      const duplicate = posts.some(
        (post) =>
          post.authorId === authorId &&
          !post.deleted &&
          text !== '' &&
          post.text === text &&
          now() - post.createdAt.getTime() < 24 * 3600 * 1000,
      )
      if (duplicate) {
        return problem(
          403,
          'Forbidden',
          'You are not allowed to create a Tweet with duplicate content.',
        )
      }
      const post: XEmulatedPost = {
        id: nextId(),
        authorId,
        text,
        createdAt: new Date(now()),
        mediaIds,
        replyTo,
        replySettings: body.reply_settings,
        deleted: false,
      }
      posts.push(post)
      commits.shift()?.()
      if (hangNextPublish) {
        hangNextPublish = false
        return hangUntilAborted(request)
      }
      const reset = String(Math.floor(now() / 1000) + 24 * 3600)
      return json({ data: { id: post.id, text: render(post, new Set()).text } }, 201, {
        'x-user-limit-24hour-limit': '100',
        'x-user-limit-24hour-remaining': '99',
        'x-user-limit-24hour-reset': reset,
        'x-app-limit-24hour-limit': '10000',
        'x-app-limit-24hour-remaining': '9999',
        'x-app-limit-24hour-reset': reset,
      })
    }),

    kit.route('get', `${api}/2/tweets`, ({ request }) => {
      const auth = authenticate(request, ['tweet.read', 'users.read'])
      if (auth.error) return auth.error
      const url = new URL(request.url)
      const ids = (url.searchParams.get('ids') ?? '').split(',')
      const found = ids.flatMap((id) => posts.filter((post) => post.id === id && !post.deleted))
      const missing = ids.filter((id) => !found.some((post) => post.id === id))
      const fields = fieldsOf(url)
      const media = found.flatMap((post) => post.mediaIds)
      return json({
        ...(found.length > 0 ? { data: found.map((post) => render(post, fields)) } : {}),
        ...(media.length > 0 &&
        url.searchParams.get('expansions')?.includes('attachments.media_keys')
          ? {
              includes: {
                media: media.map((id) => ({
                  media_key: mediaKey(id),
                  type: uploads.get(id)?.category === 'tweet_video' ? 'video' : 'photo',
                  public_metrics: { view_count: Number(BigInt(id) % 1000n) },
                })),
              },
            }
          : {}),
        // Partial errors, as X answers for ids it cannot return.
        ...(missing.length > 0
          ? {
              errors: missing.map((id) => ({
                value: id,
                detail: `Could not find tweet with ids: [${id}].`,
                title: 'Not Found Error',
                resource_type: 'tweet',
                parameter: 'ids',
                resource_id: id,
                type: 'https://api.twitter.com/2/problems/resource-not-found',
              })),
            }
          : {}),
      })
    }),

    kit.route('delete', `${api}/2/tweets/:id`, ({ request }) => {
      const auth = authenticate(request, ['tweet.read', 'tweet.write', 'users.read'])
      if (auth.error) return auth.error
      const id = pathOf(request).split('/').pop() ?? ''
      const post = posts.find((candidate) => candidate.id === id && !candidate.deleted)
      // X's answer for an unknown or already deleted post is UNCONFIRMED; a 404 problem here.
      if (!post) {
        return problem(
          404,
          'Not Found Error',
          `Could not find post with id: [${id}].`,
          'https://api.twitter.com/2/problems/resource-not-found',
        )
      }
      if (post.authorId !== auth.grant.subject) {
        return problem(403, 'Forbidden', 'You are not allowed to delete a Tweet that is not yours.')
      }
      post.deleted = true
      return json({ data: { deleted: true } })
    }),

    kit.route('post', `${api}/2/media/upload/initialize`, async ({ request }) => {
      const auth = authenticate(request, ['media.write'])
      if (auth.error) return auth.error
      const body = (await request.json()) as {
        media_type: string
        total_bytes: number
        media_category: string
      }
      const id = nextId()
      const processed = body.media_category !== 'tweet_image'
      uploads.set(id, {
        ownerId: auth.grant.subject,
        mediaType: body.media_type,
        category: body.media_category,
        totalBytes: body.total_bytes,
        receivedBytes: 0,
        segments: new Set(),
        finalized: false,
        pollsLeft: processed ? (options.processingPolls ?? 2) : 0,
        fail: processed && failNextProcessing.value,
      })
      if (processed) failNextProcessing.value = false
      return json({ data: { id, media_key: mediaKey(id), expires_after_secs: 1_295_999 } })
    }),

    kit.route('post', `${api}/2/media/upload/:id/append`, async ({ request }) => {
      const auth = authenticate(request, ['media.write'])
      if (auth.error) return auth.error
      const upload = uploads.get(pathOf(request).split('/')[4] ?? '')
      if (!upload || upload.ownerId !== auth.grant.subject || upload.finalized) {
        return problem(
          400,
          'Invalid Request',
          'The media ID is invalid.',
          'https://api.twitter.com/2/problems/invalid-request',
        )
      }
      const form = await request.formData()
      const media = form.get('media')
      const index = Number(form.get('segment_index'))
      if (!(media instanceof Blob) || !Number.isInteger(index)) {
        return problem(
          400,
          'Invalid Request',
          'media and segment_index are required.',
          'https://api.twitter.com/2/problems/invalid-request',
        )
      }
      if (!upload.segments.has(index)) upload.receivedBytes += media.size
      upload.segments.add(index)
      return json({ data: { expires_at: Math.floor(now() / 1000) + 86_400 } })
    }),

    kit.route('post', `${api}/2/media/upload/:id/finalize`, ({ request }) => {
      const auth = authenticate(request, ['media.write'])
      if (auth.error) return auth.error
      const id = pathOf(request).split('/')[4] ?? ''
      const upload = uploads.get(id)
      if (!upload || upload.ownerId !== auth.grant.subject) {
        return problem(
          400,
          'Invalid Request',
          'The media ID is invalid.',
          'https://api.twitter.com/2/problems/invalid-request',
        )
      }
      if (upload.receivedBytes !== upload.totalBytes) {
        return problem(
          400,
          'Invalid Request',
          `File size mismatch: received ${upload.receivedBytes} of ${upload.totalBytes} bytes.`,
          'https://api.twitter.com/2/problems/invalid-request',
        )
      }
      upload.finalized = true
      return json({ data: statusOf(id, upload, false) })
    }),

    kit.route('get', `${api}/2/media/upload`, ({ request }) => {
      const auth = authenticate(request, ['media.write'])
      if (auth.error) return auth.error
      const id = new URL(request.url).searchParams.get('media_id') ?? ''
      const upload = uploads.get(id)
      if (!upload?.finalized) {
        return problem(
          400,
          'Invalid Request',
          'The media ID is invalid.',
          'https://api.twitter.com/2/problems/invalid-request',
        )
      }
      return json({ data: statusOf(id, upload, true) })
    }),

    kit.route('post', `${api}/2/media/metadata`, async ({ request }) => {
      const auth = authenticate(request, ['media.write'])
      if (auth.error) return auth.error
      const body = (await request.json()) as {
        id: string
        metadata?: { alt_text?: { text: string } }
      }
      const upload = uploads.get(body.id)
      if (!upload) {
        return problem(
          400,
          'Invalid Request',
          'The media ID is invalid.',
          'https://api.twitter.com/2/problems/invalid-request',
        )
      }
      upload.altText = body.metadata?.alt_text?.text
      return json({ data: { id: body.id, associated_metadata: body.metadata ?? {} } })
    }),
  ]

  function statusOf(id: string, upload: Upload, poll: boolean) {
    const base = {
      id,
      media_key: mediaKey(id),
      size: upload.totalBytes,
      expires_after_secs: 86_400,
    }
    if (upload.category === 'tweet_image') return base
    if (poll && upload.pollsLeft > 0) upload.pollsLeft--
    const state = !poll
      ? 'pending'
      : upload.pollsLeft > 0
        ? 'in_progress'
        : upload.fail
          ? 'failed'
          : 'succeeded'
    return {
      ...base,
      processing_info: {
        state,
        ...(state === 'pending' || state === 'in_progress'
          ? {
              check_after_secs: options.checkAfterSeconds ?? 1,
              progress_percent: state === 'pending' ? 0 : 50,
            }
          : {}),
        ...(state === 'failed'
          ? { error: { code: 1, name: 'InvalidMedia', message: 'Unsupported video codec' } }
          : {}),
      },
    }
  }

  // Sees every request first (faults included) and lets it through to the routes.
  const inspect = options.inspect
  const hosts = new RegExp(
    `^(?:${[api, options.authorizationURL ?? 'https://x.com/i/oauth2/authorize']
      .map((prefix) => prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('|')})`,
  )
  const inspected = inspect
    ? [
        http.all(hosts, async ({ request }) => {
          await inspect(request.clone())
        }),
        ...handlers,
      ]
    : handlers

  /** Plays the person on the consent screen and returns the redirect's code and state. */
  async function approve(
    authorizationURL: URL,
    as: { name?: string; username?: string } = {},
  ): Promise<{ code: string; state: string }> {
    const params = authorizationURL.searchParams
    const missing = [
      'response_type',
      'client_id',
      'redirect_uri',
      'scope',
      'state',
      'code_challenge',
    ].filter((name) => !params.get(name))
    if (missing.length > 0) throw new Error(`the authorization URL lacks ${missing.join(', ')}`)
    if (params.get('code_challenge_method') !== 'S256') {
      throw new Error('the emulator expects code_challenge_method=S256')
    }
    if (options.clientId !== undefined && params.get('client_id') !== options.clientId) {
      throw new Error(`unknown client_id ${params.get('client_id')}`)
    }
    const username = as.username ?? 'conformance_user'
    const existing = [...users.values()].find((user) => user.username === username)
    const user = existing ?? {
      id: nextId().slice(-10),
      name: as.name ?? 'Conformance User',
      username,
    }
    users.set(user.id, user)
    const code = `code_${crypto.randomUUID().replaceAll('-', '')}`
    codes.set(code, {
      userId: user.id,
      clientId: params.get('client_id') ?? '',
      redirectURI: params.get('redirect_uri') ?? '',
      challenge: params.get('code_challenge') ?? '',
      scopes: (params.get('scope') ?? '').split(' '),
      // "You will have to exchange it with an access token within 30 seconds."
      expiresAt: now() + 30_000,
    })
    return { code, state: params.get('state') ?? '' }
  }

  function injectFault(operation: ConformanceOperation, fault: ConformanceFault): InjectedFault {
    const match = commitFault(operation)
    const inject = (emulatorFault: EmulatorFault) => kit.faults.inject(match, emulatorFault)
    switch (fault.kind) {
      case 'rate_limited': {
        const nowSeconds = Math.floor(now() / 1000)
        inject({
          kind: 'response',
          status: 429,
          headers: {
            'x-rate-limit-limit': '100',
            'x-rate-limit-remaining': '0',
            'x-rate-limit-reset': String(nowSeconds + fault.retryAfterSeconds),
            'x-user-limit-24hour-limit': '100',
            'x-user-limit-24hour-remaining': '40',
            'x-user-limit-24hour-reset': String(nowSeconds + 3600),
          },
          body: FIELDS_OF_PROBLEM(429, 'Too Many Requests', 'Too Many Requests'),
        })
        return {}
      }
      case 'content_rejected':
        inject({
          kind: 'response',
          status: 403,
          body: FIELDS_OF_PROBLEM(
            403,
            'Forbidden',
            'You are not allowed to create a Tweet with duplicate content.',
          ),
        })
        return { platformCode: 'duplicate-content' }
      case 'platform_unavailable':
        inject({
          kind: 'response',
          status: 503,
          body: FIELDS_OF_PROBLEM(503, 'Service Unavailable', 'Service Unavailable'),
        })
        return {}
      case 'reconnect_required':
        inject({
          kind: 'response',
          status: 401,
          body: FIELDS_OF_PROBLEM(401, 'Unauthorized', 'Unauthorized'),
        })
        return {}
      case 'unexpected_response':
        inject({
          kind: 'response',
          status: 200,
          headers: { 'content-type': 'text/html' },
          body: '<html><body>Something went wrong</body></html>',
        })
        return {}
      case 'network_failure':
        inject({ kind: 'network_error' })
        return {}
      case 'outcome_unknown':
        hangNextPublish = true
        return { committed: new Promise<void>((resolve) => commits.push(resolve)) }
    }
  }

  return {
    handlers: inspected,
    approve,
    injectFault,
    /**
     * Live posts of the account that start a conversation: a thread counts once, as the suite
     * counts publications. `posts` lists every part, for checking threads were not repeated.
     */
    async countPosts(accountId: string) {
      const live = posts.filter((post) => post.authorId === accountId && !post.deleted)
      return live.filter((post) => !live.some((parent) => parent.id === post.replyTo)).length
    },
    /** Every post the emulated X holds, deleted ones included, oldest first. */
    posts: posts as readonly XEmulatedPost[],
    /** Creates a post directly, as if made elsewhere (X's app, another tool). */
    createPost(post: { authorId: string; text: string; replyTo?: string; createdAt?: Date }) {
      const created: XEmulatedPost = {
        id: nextId(),
        authorId: post.authorId,
        text: post.text,
        createdAt: post.createdAt ?? new Date(now()),
        mediaIds: [],
        replyTo: post.replyTo,
        replySettings: undefined,
        deleted: false,
      }
      posts.push(created)
      return created
    },
    /** Changes how replies are treated from now on. */
    setReplyPolicy(policy: XReplyPolicy) {
      replyPolicy.value = policy
    },
    /** The alt text set on an uploaded media id. */
    altTextOf: (mediaId: string) => uploads.get(mediaId)?.altText,
    /** Makes the next video or GIF upload fail processing (`state: failed`). */
    failNextProcessing() {
      failNextProcessing.value = true
    },
    /** Fault injection on any route (method and pathname), from adapter-core's kit. */
    faults: kit.faults,
    /** Every request the emulator received. */
    requests: kit.requests,
    tokens: kit.tokens,
    apiBaseURL: api,
  } satisfies ConformanceEmulator & Record<string, unknown>
}

/** What {@link createXEmulator} returns. */
export type XEmulator = ReturnType<typeof createXEmulator>

function escapeHTML(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}
