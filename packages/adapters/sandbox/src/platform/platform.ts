import { sha256 } from '@oslojs/crypto/sha2'
import { encodeHexLowerCase } from '@oslojs/encoding'
import { createS256CodeChallenge, validatePostContent } from '@post-scheduler/adapter-core'
import { z } from 'zod'
import { sandboxCapabilities } from '../capabilities.ts'
import {
  faultsFromText,
  type SandboxFault,
  type SandboxFaultSource,
  type SandboxOperation,
} from './faults.ts'
import { renderConsentPage, renderErrorPage, renderPostPage } from './pages.ts'
import { processingFromText, type SandboxProcessingSource } from './processing.ts'
import type { SandboxMedia, SandboxPost, SandboxStore } from './store.ts'

/** An OAuth client the sandbox accepts. */
export interface SandboxClient {
  clientId: string
  clientSecret: string
  /** Exact redirect URIs the client may use. */
  redirectURIs: string[]
}

/** Options of {@link createSandboxPlatform}. */
export interface SandboxPlatformOptions {
  store: SandboxStore
  /**
   * The public URL the handler is served at, e.g. `http://127.0.0.1:3000/sandbox`: post URLs
   * and the consent form point there. Requests may arrive with or without its path (mounts that
   * strip the prefix work too). Defaults to `http://sandbox.localhost`.
   */
  baseURL?: string
  /**
   * Registered clients: a list, or a function that finds a client by id (a host that gives each
   * of its tenants a client of its own). When omitted, any client id is accepted with any secret
   * (a demo with no configuration); codes and tokens are still bound to the client that got them.
   *
   * People are scoped to the client they consent to: the same name typed on the consent page for
   * two clients signs in as two different people, with different account ids, so one client
   * never sees or posts as another's accounts.
   */
  clients?: SandboxClient[] | ((clientId: string) => SandboxClient | undefined)
  /** Delay before answering each API call, to make the network feel real. Defaults to 0. */
  latencyMs?: number
  /** Decides which calls fail and how. Defaults to `#sandbox-fail:<kind>` markers in post text. */
  faults?: SandboxFaultSource
  /**
   * Decides which posts finish later (answered `202` with `status: 'processing'`, then read with
   * `GET /v1/posts/{id}`). Defaults to `#sandbox-processing[:<seconds>]` and
   * `#sandbox-fail:processing` markers in post text; `() => ({ seconds: 30 })` makes every post
   * asynchronous.
   */
  processing?: SandboxProcessingSource
  /** Size of upload parts the sandbox asks for. Defaults to 4 MiB. */
  uploadPartSizeBytes?: number
  now?: () => Date
}

/** A fetch-style request handler; mount it in any server (Hono: `app.mount('/sandbox', handler)`). */
export type SandboxPlatform = (request: Request) => Promise<Response>

interface Grant {
  id: string
  clientId: string
  /**
   * `id` is unique across clients (see {@link userIdOf}); `username` is the name's slug. Grants
   * saved before identities were scoped to the client have no `username`: their `id` is the slug.
   */
  user: { id: string; name: string; username?: string }
  scopes: string[]
  revoked: boolean
}
interface CodeState {
  clientId: string
  redirectURI: string
  codeChallenge: string | undefined
  user: Grant['user']
  scopes: string[]
}
interface TokenState {
  grantId: string
  expiresAt: number
}
interface ProcessingState {
  /** When processing ends (ISO 8601). */
  readyAt: string
  outcome: 'published' | 'failed'
}
interface UploadState {
  clientId: string
  kind: SandboxMedia['kind']
  mimeType: string
  sizeBytes: number
  parts: Record<string, number>
  completed: boolean
}

const ACCESS_TOKEN_SECONDS = 3600
const REFRESH_TOKEN_SECONDS = 30 * 24 * 3600
const CODE_SECONDS = 600
const DEFAULT_SCOPES = ['accounts.read', 'posts.read', 'posts.write']

const publishBodySchema = z.object({
  accountId: z.string().min(1),
  text: z.string(),
  mediaIds: z.array(z.string()).default([]),
  thread: z.array(z.object({ text: z.string() })).default([]),
  firstComment: z.string().optional(),
  options: z.record(z.string(), z.unknown()).default({}),
  attemptId: z.string().optional(),
})

const uploadBodySchema = z.object({
  kind: z.enum(['image', 'video', 'gif', 'document']),
  mimeType: z.string().min(1),
  sizeBytes: z.number().int().nonnegative(),
})

/**
 * The sandbox platform: a complete local social network behind an HTTP API, so anyone can run
 * the whole product with no credentials. It serves an OAuth consent screen and token endpoint
 * (PKCE S256, single-use codes, rotating refresh tokens, revocation), accounts (one login gives a
 * personal account and a page), chunked media uploads, idempotent publishing (`Idempotency-Key`),
 * delete, metrics, look-up by idempotency key, and a public page per post. Latency and failures
 * (rate limits, rejections, outages, timeouts after the post was made) are injectable.
 *
 * Everything it publishes goes to `store`, where tests and demos can list it and count duplicates.
 *
 * @example
 * ```ts
 * const store = createMemorySandboxStore()
 * const handler = createSandboxPlatform({ store, baseURL: 'http://127.0.0.1:3000/sandbox', latencyMs: 300 })
 * app.mount('/sandbox', handler) // Hono
 * ```
 */
export function createSandboxPlatform(options: SandboxPlatformOptions): SandboxPlatform {
  const { store } = options
  const baseURL = (options.baseURL ?? 'http://sandbox.localhost').replace(/\/+$/, '')
  const basePath = new URL(baseURL).pathname.replace(/\/+$/, '')
  const now = options.now ?? (() => new Date())
  const faults = options.faults ?? faultsFromText
  const processing = options.processing ?? processingFromText
  const partSize = options.uploadPartSizeBytes ?? 4 * 1024 * 1024

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url)
    const path =
      basePath && url.pathname.startsWith(`${basePath}/`)
        ? url.pathname.slice(basePath.length)
        : url.pathname
    const route = `${request.method} ${path}`

    if (route === 'GET /oauth/authorize') return showConsent(url)
    if (route === 'POST /oauth/authorize') return decideConsent(request)
    const postPage = /^GET \/p\/([\w-]+)$/.exec(route)
    if (postPage?.[1]) {
      const post = await store.getPost(postPage[1])
      return post && !post.deletedAt ? renderPostPage(post) : renderErrorPage('No such post.', 404)
    }

    await sleep(options.latencyMs ?? 0, request.signal)
    if (route === 'POST /oauth/token') return token(request)
    if (route === 'POST /oauth/revoke') return revoke(request)

    const api = matchAPIRoute(request, route, url)
    if (!api) return apiError(404, 'NOT_FOUND', `The sandbox has no ${route}.`)
    const grant = await authenticate(request)
    if (!grant) {
      return apiError(401, 'invalid_token', 'The access token is missing, expired or revoked.', {
        'www-authenticate': 'Bearer error="invalid_token"',
      })
    }
    return api(grant)
  }

  function matchAPIRoute(
    request: Request,
    route: string,
    url: URL,
  ): ((grant: Grant) => Promise<Response>) | undefined {
    if (route === 'GET /v1/accounts') {
      return (grant) =>
        withFault('accounts', {}, async () => json(200, { data: accountsOf(grant) }))
    }
    if (route === 'POST /v1/media/uploads') return (grant) => startUpload(request, grant)
    const part = /^PUT \/v1\/media\/uploads\/([\w-]+)\/parts\/(\d+)$/.exec(route)
    if (part?.[1] && part[2]) {
      const [id, index] = [part[1], Number(part[2])]
      return (grant) => uploadPart(request, grant, id, index)
    }
    const complete = /^POST \/v1\/media\/uploads\/([\w-]+)\/complete$/.exec(route)
    if (complete?.[1]) {
      const id = complete[1]
      return (grant) => completeUpload(grant, id)
    }
    if (route === 'POST /v1/posts') return (grant) => publish(request, grant)
    if (route === 'GET /v1/posts') return (grant) => lookUp(url, grant)
    if (route === 'GET /v1/posts/metrics') return (grant) => metrics(url, grant)
    const read = /^GET \/v1\/posts\/([\w-]+)$/.exec(route)
    if (read?.[1]) {
      const id = read[1]
      return (grant) => readPost(grant, id)
    }
    const remove = /^DELETE \/v1\/posts\/([\w-]+)$/.exec(route)
    if (remove?.[1]) {
      const id = remove[1]
      return (grant) => deletePost(grant, id)
    }
    return undefined
  }

  // --- OAuth -------------------------------------------------------------------------------

  function showConsent(url: URL): Response {
    const params = url.searchParams
    const client = checkAuthorizationRequest(params)
    if (typeof client === 'string') return renderErrorPage(client, 400)
    const fields: Record<string, string> = {}
    for (const name of [
      'client_id',
      'redirect_uri',
      'state',
      'scope',
      'code_challenge',
      'code_challenge_method',
    ]) {
      const value = params.get(name)
      if (value !== null) fields[name] = value
    }
    return renderConsentPage({
      action: `${baseURL}/oauth/authorize`,
      fields,
      clientId: client.clientId,
      scopes: scopesOf(params.get('scope')),
    })
  }

  async function decideConsent(request: Request): Promise<Response> {
    const form = new URLSearchParams(await request.text())
    const client = checkAuthorizationRequest(form)
    if (typeof client === 'string') return renderErrorPage(client, 400)
    const redirect = new URL(form.get('redirect_uri') ?? '')
    const state = form.get('state')
    if (state !== null) redirect.searchParams.set('state', state)
    if (form.get('decision') !== 'allow') {
      redirect.searchParams.set('error', 'access_denied')
      return new Response(null, { status: 303, headers: { location: redirect.href } })
    }
    const name = (form.get('name') ?? '').trim().slice(0, 60) || 'Sandbox User'
    const code = randomToken('sbx_code')
    const codeState: CodeState = {
      clientId: client.clientId,
      redirectURI: form.get('redirect_uri') ?? '',
      codeChallenge: form.get('code_challenge') ?? undefined,
      user: { id: userIdOf(client.clientId, name), name, username: slug(name) },
      scopes: scopesOf(form.get('scope')),
    }
    await store.putState(`code:${digest(code)}`, codeState, secondsFromNow(CODE_SECONDS))
    redirect.searchParams.set('code', code)
    return new Response(null, { status: 303, headers: { location: redirect.href } })
  }

  function checkAuthorizationRequest(params: URLSearchParams): { clientId: string } | string {
    const clientId = params.get('client_id')
    const redirectURI = params.get('redirect_uri')
    if (!clientId) return 'The authorization request has no client_id.'
    if (!redirectURI || !URL.canParse(redirectURI))
      return 'The authorization request has no valid redirect_uri.'
    if (params.get('response_type') !== null && params.get('response_type') !== 'code') {
      return 'The sandbox supports response_type=code only.'
    }
    const method = params.get('code_challenge_method')
    if (params.get('code_challenge') !== null && method !== null && method !== 'S256') {
      return 'The sandbox supports code_challenge_method=S256 only.'
    }
    if (options.clients) {
      const client = findClient(clientId)
      if (!client) return `Unknown client ${clientId}.`
      // Never redirect to an unregistered URI: that would leak the code to an attacker.
      if (!client.redirectURIs.includes(redirectURI))
        return `${redirectURI} is not a registered redirect URI.`
    }
    return { clientId }
  }

  async function token(request: Request): Promise<Response> {
    const form = new URLSearchParams(await request.text())
    const client = authenticateClient(request, form)
    if (!client) return oauthError(401, 'invalid_client', 'Client authentication failed.')
    const fault = faults({ operation: 'token' })
    if (fault) return faultResponse(fault)
    const grantType = form.get('grant_type')
    if (grantType === 'authorization_code') {
      const code = form.get('code') ?? ''
      const saved = (await store.takeState(`code:${digest(code)}`)) as CodeState | undefined
      if (!saved || saved.clientId !== client) {
        return oauthError(400, 'invalid_grant', 'The code is unknown, expired or already used.')
      }
      if (saved.redirectURI !== form.get('redirect_uri')) {
        return oauthError(
          400,
          'invalid_grant',
          'redirect_uri differs from the authorization request.',
        )
      }
      const verifier = form.get('code_verifier')
      if (
        saved.codeChallenge !== undefined &&
        (!verifier || createS256CodeChallenge(verifier) !== saved.codeChallenge)
      ) {
        return oauthError(
          400,
          'invalid_grant',
          'The PKCE code_verifier does not match the code_challenge.',
        )
      }
      const grant: Grant = {
        id: crypto.randomUUID(),
        clientId: client,
        user: saved.user,
        scopes: saved.scopes,
        revoked: false,
      }
      await store.putState(`grant:${grant.id}`, grant)
      return json(200, await issueTokens(grant), { 'cache-control': 'no-store' })
    }
    if (grantType === 'refresh_token') {
      // Refresh tokens rotate: the one presented is consumed, as X and TikTok do.
      const saved = (await store.takeState(`refresh:${digest(form.get('refresh_token') ?? '')}`)) as
        | TokenState
        | undefined
      const grant =
        saved && saved.expiresAt > now().getTime() ? await loadGrant(saved.grantId) : undefined
      if (!grant || grant.clientId !== client) {
        return oauthError(
          400,
          'invalid_grant',
          'The refresh token is unknown, expired, used or revoked.',
        )
      }
      return json(200, await issueTokens(grant), { 'cache-control': 'no-store' })
    }
    return oauthError(400, 'unsupported_grant_type', `grant_type ${grantType} is not supported.`)
  }

  async function revoke(request: Request): Promise<Response> {
    const form = new URLSearchParams(await request.text())
    if (!authenticateClient(request, form))
      return oauthError(401, 'invalid_client', 'Client authentication failed.')
    const hash = digest(form.get('token') ?? '')
    const saved = ((await store.getState(`access:${hash}`)) ??
      (await store.getState(`refresh:${hash}`))) as TokenState | undefined
    const grant = saved && (await loadGrant(saved.grantId))
    // RFC 7009: revoking the grant behind either token revokes both; unknown tokens answer 200.
    if (grant) await store.putState(`grant:${grant.id}`, { ...grant, revoked: true })
    return new Response(null, { status: 200 })
  }

  function authenticateClient(request: Request, form: URLSearchParams): string | undefined {
    let clientId = form.get('client_id') ?? undefined
    let clientSecret = form.get('client_secret') ?? undefined
    const basic = /^Basic\s+(.+)$/i.exec(request.headers.get('authorization') ?? '')
    if (basic?.[1]) {
      const [id, secret] = atob(basic[1]).split(':').map(decodeURIComponent)
      clientId = id
      clientSecret = secret
    }
    if (!clientId) return undefined
    if (!options.clients) return clientId
    const client = findClient(clientId)
    return client && client.clientSecret === clientSecret ? clientId : undefined
  }

  async function issueTokens(grant: Grant) {
    const accessToken = randomToken('sbx_at')
    const refreshToken = randomToken('sbx_rt')
    const access: TokenState = {
      grantId: grant.id,
      expiresAt: now().getTime() + ACCESS_TOKEN_SECONDS * 1000,
    }
    const refresh: TokenState = {
      grantId: grant.id,
      expiresAt: now().getTime() + REFRESH_TOKEN_SECONDS * 1000,
    }
    // Only digests are stored: a leaked store does not hand out working tokens.
    await store.putState(`access:${digest(accessToken)}`, access, new Date(access.expiresAt))
    await store.putState(`refresh:${digest(refreshToken)}`, refresh, new Date(refresh.expiresAt))
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_SECONDS,
      refresh_token: refreshToken,
      refresh_token_expires_in: REFRESH_TOKEN_SECONDS,
      scope: grant.scopes.join(' '),
    }
  }

  async function authenticate(request: Request): Promise<Grant | undefined> {
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')
    if (!bearer?.[1]) return undefined
    const saved = (await store.getState(`access:${digest(bearer[1])}`)) as TokenState | undefined
    if (!saved || saved.expiresAt <= now().getTime()) return undefined
    return loadGrant(saved.grantId)
  }

  async function loadGrant(id: string): Promise<Grant | undefined> {
    const grant = (await store.getState(`grant:${id}`)) as Grant | undefined
    return grant && !grant.revoked ? grant : undefined
  }

  function findClient(clientId: string): SandboxClient | undefined {
    const { clients } = options
    if (typeof clients === 'function') return clients(clientId)
    return clients?.find((candidate) => candidate.clientId === clientId)
  }

  function accountsOf(grant: Grant) {
    const username = grant.user.username ?? grant.user.id
    return [
      {
        id: `sbx_user_${grant.user.id}`,
        kind: 'personal',
        name: grant.user.name,
        username,
      },
      {
        id: `sbx_page_${grant.user.id}`,
        kind: 'page',
        name: `${grant.user.name}'s Page`,
        username: `${username}-page`,
      },
    ]
  }

  function ownsAccount(grant: Grant, accountId: string): boolean {
    return accountsOf(grant).some((account) => account.id === accountId)
  }

  // --- Media -------------------------------------------------------------------------------

  async function startUpload(request: Request, grant: Grant): Promise<Response> {
    const body = uploadBodySchema.safeParse(await readBody(request))
    if (!body.success) return apiError(400, 'INVALID_REQUEST', z.prettifyError(body.error))
    return withFault('upload', {}, async () => {
      const id = `sbx_media_${crypto.randomUUID()}`
      const upload: UploadState = {
        clientId: grant.clientId,
        ...body.data,
        parts: {},
        completed: false,
      }
      await store.putState(`upload:${id}`, upload, secondsFromNow(24 * 3600))
      return json(201, { id, partSizeBytes: partSize })
    })
  }

  async function uploadPart(
    request: Request,
    grant: Grant,
    id: string,
    index: number,
  ): Promise<Response> {
    return withFault('upload_part', {}, async () => {
      const upload = (await store.getState(`upload:${id}`)) as UploadState | undefined
      if (!upload || upload.clientId !== grant.clientId)
        return apiError(404, 'UPLOAD_NOT_FOUND', `No upload ${id}.`)
      if (upload.completed)
        return apiError(409, 'UPLOAD_COMPLETED', `Upload ${id} is already complete.`)
      const size = (await request.arrayBuffer()).byteLength
      const lastIndex = Math.max(0, Math.ceil(upload.sizeBytes / partSize) - 1)
      const expected = index < lastIndex ? partSize : upload.sizeBytes - lastIndex * partSize
      if (index > lastIndex || size !== expected) {
        return apiError(
          400,
          'PART_SIZE_MISMATCH',
          `Part ${index} must be ${expected} bytes; got ${size}.`,
        )
      }
      // Sending a part again replaces it: retrying a part is safe.
      upload.parts[String(index)] = size
      await store.putState(`upload:${id}`, upload, secondsFromNow(24 * 3600))
      return json(200, {
        receivedBytes: Object.values(upload.parts).reduce((sum, part) => sum + part, 0),
      })
    })
  }

  async function completeUpload(grant: Grant, id: string): Promise<Response> {
    const upload = (await store.getState(`upload:${id}`)) as UploadState | undefined
    if (!upload || upload.clientId !== grant.clientId)
      return apiError(404, 'UPLOAD_NOT_FOUND', `No upload ${id}.`)
    const received = Object.values(upload.parts).reduce((sum, part) => sum + part, 0)
    if (received !== upload.sizeBytes) {
      return apiError(
        400,
        'UPLOAD_INCOMPLETE',
        `Upload ${id} has ${received} of ${upload.sizeBytes} bytes.`,
      )
    }
    await store.putState(`upload:${id}`, { ...upload, completed: true }, secondsFromNow(24 * 3600))
    return json(200, { mediaId: id })
  }

  // --- Posts -------------------------------------------------------------------------------

  async function publish(request: Request, grant: Grant): Promise<Response> {
    const idempotencyKey = request.headers.get('idempotency-key')
    if (!idempotencyKey)
      return apiError(400, 'IDEMPOTENCY_KEY_REQUIRED', 'Send an Idempotency-Key header.')
    const parsed = publishBodySchema.safeParse(await readBody(request))
    if (!parsed.success) return apiError(400, 'INVALID_REQUEST', z.prettifyError(parsed.error))
    const body = parsed.data
    if (!ownsAccount(grant, body.accountId)) {
      return apiError(403, 'ACCOUNT_NOT_GRANTED', `This token cannot post as ${body.accountId}.`)
    }
    const replay = (
      await store.listPosts({ accountId: body.accountId, idempotencyKey, includeDeleted: true })
    ).posts[0]
    if (replay) return json(200, await postResource(replay), { 'idempotent-replayed': 'true' })

    const fault = faults({ operation: 'publish', accountId: body.accountId, text: body.text })
    if (fault && fault.kind !== 'timeout_after_commit') return faultResponse(fault)

    const media: SandboxMedia[] = []
    for (const mediaId of body.mediaIds) {
      const upload = (await store.getState(`upload:${mediaId}`)) as UploadState | undefined
      if (!upload?.completed || upload.clientId !== grant.clientId) {
        return apiError(
          422,
          'MEDIA_NOT_FOUND',
          `Media ${mediaId} is unknown or its upload is not complete.`,
        )
      }
      media.push({
        id: mediaId,
        kind: upload.kind,
        mimeType: upload.mimeType,
        sizeBytes: upload.sizeBytes,
      })
    }
    const issues = validatePostContent(
      {
        text: body.text,
        media,
        thread: body.thread,
        firstComment: body.firstComment,
        options: body.options,
      },
      sandboxCapabilities,
    )
    const first = issues[0]
    if (first) return apiError(422, first.code, first.message)

    const id = `sbx_post_${crypto.randomUUID()}`
    const content = {
      text: body.text,
      media: media.map((item) => item.id),
      thread: body.thread,
      firstComment: body.firstComment,
    }
    const post: SandboxPost = {
      id,
      accountId: body.accountId,
      clientId: grant.clientId,
      idempotencyKey,
      attemptId: body.attemptId,
      text: body.text,
      media,
      thread: body.thread.map((part, index) => ({ id: `${id}_t${index + 1}`, text: part.text })),
      firstComment: body.firstComment ? { id: `${id}_c1`, text: body.firstComment } : undefined,
      options: body.options,
      contentDigest: digest(JSON.stringify([body.accountId, content])),
      createdAt: now(),
      deletedAt: undefined,
    }
    const { post: saved, created } = await store.insertPost(post)
    const later = created ? processing({ accountId: body.accountId, text: body.text }) : undefined
    if (later) {
      // Kept beside the post (not in it), so any store holds it without a schema of its own.
      const state: ProcessingState = {
        readyAt: secondsFromNow(later.seconds).toISOString(),
        outcome: later.outcome ?? 'published',
      }
      await store.putState(`processing:${saved.id}`, state, secondsFromNow(later.seconds + 86_400))
    }
    if (fault?.kind === 'timeout_after_commit')
      return hangUntilAborted(request, fault.holdMs ?? 120_000)
    const resource = await postResource(saved)
    return json(
      !created ? 200 : resource.status === 'processing' ? 202 : 201,
      resource,
      created ? {} : { 'idempotent-replayed': 'true' },
    )
  }

  async function readPost(grant: Grant, id: string): Promise<Response> {
    const post = await store.getPost(id)
    if (!post || !ownsAccount(grant, post.accountId))
      return apiError(404, 'POST_NOT_FOUND', `No post ${id}.`)
    return withFault('lookup', { accountId: post.accountId }, async () =>
      json(200, await postResource(post)),
    )
  }

  /** Where a post is in its processing: public, still processing (and for how long), or failed. */
  async function processingOf(post: SandboxPost) {
    const state = (await store.getState(`processing:${post.id}`)) as ProcessingState | undefined
    if (!state) return { status: 'published' as const }
    const remainingSeconds = (new Date(state.readyAt).getTime() - now().getTime()) / 1000
    if (remainingSeconds > 0) return { status: 'processing' as const, remainingSeconds }
    return { status: state.outcome }
  }

  async function lookUp(url: URL, grant: Grant): Promise<Response> {
    const accountId = url.searchParams.get('accountId') ?? ''
    if (!ownsAccount(grant, accountId)) {
      return apiError(
        403,
        'ACCOUNT_NOT_GRANTED',
        `This token cannot read ${accountId || 'that account'}.`,
      )
    }
    return withFault('lookup', { accountId }, async () => {
      const { posts, nextCursor } = await store.listPosts({
        accountId,
        idempotencyKey: url.searchParams.get('idempotencyKey') ?? undefined,
        // A post made and later deleted was still made: a look-up must not answer "not found".
        includeDeleted: url.searchParams.has('idempotencyKey'),
        cursor: url.searchParams.get('cursor') ?? undefined,
        limit: Math.min(Number(url.searchParams.get('limit') ?? 50) || 50, 100),
      })
      const data = await Promise.all(posts.map(postResource))
      return json(200, { data, nextCursor: nextCursor ?? null })
    })
  }

  async function deletePost(grant: Grant, id: string): Promise<Response> {
    const post = await store.getPost(id)
    if (!post || !ownsAccount(grant, post.accountId))
      return apiError(404, 'POST_NOT_FOUND', `No post ${id}.`)
    return withFault('delete', { accountId: post.accountId }, async () => {
      await store.markPostDeleted(id, now())
      return new Response(null, { status: 204 })
    })
  }

  async function metrics(url: URL, grant: Grant): Promise<Response> {
    const ids = (url.searchParams.get('ids') ?? '').split(',').filter(Boolean)
    return withFault('metrics', {}, async () => {
      const data = []
      for (const id of ids) {
        const post = await store.getPost(id)
        if (post && ownsAccount(grant, post.accountId)) data.push(metricsOf(post))
      }
      return json(200, { data })
    })
  }

  // Plausible, deterministic numbers that grow for a day after publishing.
  function metricsOf(post: SandboxPost) {
    const seed = [...post.id].reduce(
      (hash, character) => (hash * 31 + character.charCodeAt(0)) >>> 0,
      7,
    )
    const hours = Math.min(
      24,
      Math.max(0, (now().getTime() - post.createdAt.getTime()) / 3_600_000),
    )
    const impressions = Math.round((50 + (seed % 450)) * (1 + hours))
    return {
      id: post.id,
      impressions,
      likes: Math.round(impressions * (0.02 + (seed % 5) / 100)),
      comments: Math.round(impressions * 0.004),
      shares: Math.round(impressions * 0.002),
      measuredAt: now().toISOString(),
    }
  }

  async function postResource(post: SandboxPost) {
    const state = await processingOf(post)
    return {
      id: post.id,
      status: state.status,
      // Rounded up, at least a tenth of a second: when to ask again.
      checkAfterSeconds:
        state.status === 'processing'
          ? Math.max(0.1, Math.ceil(state.remainingSeconds * 10) / 10)
          : null,
      error:
        state.status === 'failed'
          ? {
              code: 'PROCESSING_FAILED',
              message:
                'The sandbox could not process this post because it asked to fail (#sandbox-fail:processing).',
            }
          : null,
      accountId: post.accountId,
      url: `${baseURL}/p/${post.id}`,
      text: post.text,
      mediaIds: post.media.map((item) => item.id),
      threadPostIds: post.thread.map((part) => part.id),
      firstCommentId: post.firstComment?.id ?? null,
      idempotencyKey: post.idempotencyKey,
      attemptId: post.attemptId ?? null,
      createdAt: post.createdAt.toISOString(),
      deletedAt: post.deletedAt?.toISOString() ?? null,
    }
  }

  // --- Plumbing ----------------------------------------------------------------------------

  async function withFault(
    operation: SandboxOperation,
    context: { accountId?: string },
    run: () => Promise<Response>,
  ): Promise<Response> {
    const fault = faults({ operation, ...context })
    return fault ? faultResponse(fault) : run()
  }

  function faultResponse(fault: SandboxFault): Response {
    switch (fault.kind) {
      case 'rate_limit': {
        const seconds = fault.retryAfterSeconds ?? 30
        const app = fault.scope === 'app'
        return apiError(
          429,
          app ? 'APP_RATE_LIMITED' : 'RATE_LIMITED',
          app
            ? 'This app made too many requests (fault injected).'
            : 'Too many requests (fault injected).',
          {
            'retry-after': String(seconds),
            ratelimit: `"default";r=0;t=${seconds}`,
            'ratelimit-policy': '"default";q=100;w=900',
          },
        )
      }
      case 'reject':
        return apiError(
          422,
          fault.code ?? 'CONTENT_POLICY',
          fault.message ?? 'The sandbox rejected this post (fault injected).',
        )
      case 'unavailable':
        return apiError(
          503,
          'UNAVAILABLE',
          'The sandbox is down for maintenance (fault injected).',
          fault.retryAfterSeconds === undefined
            ? {}
            : { 'retry-after': String(fault.retryAfterSeconds) },
        )
      case 'invalid_token':
        return apiError(401, 'invalid_token', 'The access token was revoked (fault injected).', {
          'www-authenticate': 'Bearer error="invalid_token"',
        })
      case 'malformed':
      case 'timeout_after_commit':
        return new Response('<html><body>502 Bad Gateway</body></html>', {
          status: 200,
          headers: { 'content-type': 'text/html' },
        })
    }
  }

  function secondsFromNow(seconds: number): Date {
    return new Date(now().getTime() + seconds * 1000)
  }

  return handle
}

/** The post was made; answer only when the client has given up, like a lost response. */
function hangUntilAborted(request: Request, holdMs: number): Promise<Response> {
  return new Promise((resolve) => {
    const gatewayTimeout = () => resolve(apiError(504, 'GATEWAY_TIMEOUT', 'No answer in time.'))
    if (request.signal.aborted) return gatewayTimeout()
    const timer = setTimeout(gatewayTimeout, holdMs)
    request.signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        gatewayTimeout()
      },
      { once: true },
    )
  })
}

function sleep(milliseconds: number, signal: AbortSignal): Promise<void> {
  if (milliseconds <= 0) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, milliseconds)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        resolve()
      },
      { once: true },
    )
  })
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  })
}

function apiError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return json(status, { error: { code, message } }, headers)
}

function oauthError(status: number, error: string, description: string): Response {
  return json(status, { error, error_description: description }, { 'cache-control': 'no-store' })
}

async function readBody(request: Request): Promise<unknown> {
  try {
    return await request.json()
  } catch {
    return undefined
  }
}

function scopesOf(scope: string | null): string[] {
  return scope ? scope.split(' ').filter(Boolean) : DEFAULT_SCOPES
}

/**
 * The sandbox's id of the person who signs in as `name` for `clientId`:
 * `<first 12 hex digits of SHA-256(clientId)>_<slug of name>`. The client part keeps people of
 * different clients apart (a name is all the sandbox asks for, so without it anyone typing the
 * same name would be the same person everywhere); the slug keeps ids readable. A host migrating
 * stored account ids computes the same in SQL.
 */
function userIdOf(clientId: string, name: string): string {
  return `${digest(clientId).slice(0, 12)}_${slug(name)}`
}

function slug(name: string): string {
  return (
    name
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'user'
  )
}

function randomToken(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24))
  return `${prefix}_${[...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`
}

/**
 * SHA-256 (hex) of a string. Synchronous: Web Crypto's `digest` hands every call to a thread and
 * back, which costs more than hashing a token or a post.
 */
function digest(value: string): string {
  return encodeHexLowerCase(sha256(new TextEncoder().encode(value)))
}
