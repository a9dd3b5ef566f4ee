import { type HttpHandler, HttpResponse, http } from 'msw'

/** One request an emulator received, readable after the fact. */
export interface LoggedRequest {
  method: string
  url: URL
  headers: Headers
  /** The body as text ('' when empty or binary uploads are not of interest). */
  bodyText: string
}

/** A failure an emulator answers with instead of its normal behaviour. */
export type EmulatorFault =
  /** The connection fails: `fetch` rejects as on a reset or DNS failure. */
  | { kind: 'network_error' }
  /** A canned response (a 503, a malformed 200, a platform's own error body). */
  | {
      kind: 'response'
      status: number
      headers?: ConstructorParameters<typeof Headers>[0]
      body?: unknown
    }

/** Which requests a fault applies to. */
export interface FaultMatch {
  method?: string
  /** Pathname, exact or a pattern. */
  path?: string | RegExp
}

/** Grant behind an emulator-issued token. */
export interface EmulatedGrant {
  subject: string
  scopes: string[]
  clientId: string | undefined
  accessTokenExpiresAt: number
}

/** The OAuth token response an emulator answers with (RFC 6749 §5.1). */
export interface EmulatedTokenResponse {
  access_token: string
  token_type: 'bearer'
  expires_in: number
  refresh_token?: string
  scope: string
}

/**
 * The parts platform emulators share, on msw: a request log, fault injection, an OAuth token
 * issuer and rate-limit headers. An emulator registers its routes with `kit.route(...)`, which logs
 * each request and answers an injected fault before the route runs.
 *
 * @example
 * ```ts
 * const kit = createEmulatorKit({ platform: 'example' })
 * const handlers = [
 *   kit.route('post', 'https://api.example.test/oauth/token', async ({ request }) => {
 *     const form = new URLSearchParams(await request.text())
 *     return HttpResponse.json(kit.tokens.issue({ subject: 'user-1', clientId: form.get('client_id') ?? undefined }))
 *   }),
 *   kit.route('get', 'https://api.example.test/me', ({ request }) => {
 *     const grant = kit.tokens.authenticate(request)
 *     return grant ? HttpResponse.json({ id: grant.subject }) : new HttpResponse(null, { status: 401 })
 *   }),
 * ]
 * kit.faults.inject({ method: 'GET', path: '/me' }, { kind: 'network_error' })
 * ```
 */
export function createEmulatorKit(options: { platform: string; now?: () => number }) {
  const now = options.now ?? Date.now
  const log: LoggedRequest[] = []
  const faults: { match: FaultMatch; fault: EmulatorFault; remaining: number }[] = []
  const accessTokens = new Map<string, EmulatedGrant>()
  const refreshTokens = new Map<string, Omit<EmulatedGrant, 'accessTokenExpiresAt'>>()
  let counter = 0
  const mint = (prefix: string) =>
    `${options.platform}_${prefix}_${(++counter).toString(36)}_${crypto.randomUUID().replaceAll('-', '')}`

  function takeFault(request: Request): EmulatorFault | undefined {
    const url = new URL(request.url)
    const index = faults.findIndex(
      ({ match }) =>
        (match.method === undefined || match.method.toUpperCase() === request.method) &&
        (match.path === undefined ||
          (typeof match.path === 'string'
            ? match.path === url.pathname
            : match.path.test(url.pathname))),
    )
    const entry = faults[index]
    if (!entry) return undefined
    entry.remaining--
    if (entry.remaining <= 0) faults.splice(index, 1)
    return entry.fault
  }

  return {
    /** Every request received, oldest first. */
    requests: {
      list: (): readonly LoggedRequest[] => log,
      /** Requests to one method and pathname. */
      find: (method: string, pathname: string) =>
        log.filter(
          (entry) => entry.method === method.toUpperCase() && entry.url.pathname === pathname,
        ),
      clear: () => {
        log.length = 0
      },
    },

    faults: {
      /** Answers the next `times` (default 1) matching requests with `fault`. */
      inject(match: FaultMatch, fault: EmulatorFault, injectOptions: { times?: number } = {}) {
        faults.push({ match, fault, remaining: injectOptions.times ?? 1 })
      },
      /** The fault for a request, if one is injected for it (consumes one use). */
      take: takeFault,
      clear: () => {
        faults.length = 0
      },
    },

    tokens: {
      /** Issues an access token (and a refresh token unless `refreshToken: false`). */
      issue(grant: {
        subject: string
        scopes?: string[]
        clientId?: string
        expiresInSeconds?: number
        refreshToken?: boolean
      }): EmulatedTokenResponse {
        const expiresIn = grant.expiresInSeconds ?? 3600
        const base = {
          subject: grant.subject,
          scopes: grant.scopes ?? [],
          clientId: grant.clientId,
        }
        const accessToken = mint('at')
        accessTokens.set(accessToken, { ...base, accessTokenExpiresAt: now() + expiresIn * 1000 })
        const response: EmulatedTokenResponse = {
          access_token: accessToken,
          token_type: 'bearer',
          expires_in: expiresIn,
          scope: base.scopes.join(' '),
        }
        if (grant.refreshToken !== false) {
          const refreshToken = mint('rt')
          refreshTokens.set(refreshToken, base)
          response.refresh_token = refreshToken
        }
        return response
      },
      /** Issues new tokens for a refresh token; `rotate` (default) invalidates the old one. */
      refresh(refreshToken: string, refreshOptions: { rotate?: boolean } = {}) {
        const grant = refreshTokens.get(refreshToken)
        if (!grant) return undefined
        if (refreshOptions.rotate !== false) refreshTokens.delete(refreshToken)
        const response = this.issue({ ...grant, refreshToken: refreshOptions.rotate !== false })
        return refreshOptions.rotate === false
          ? { ...response, refresh_token: refreshToken }
          : response
      },
      /** The grant of a request's `Authorization: Bearer` token, if valid and unexpired. */
      authenticate(request: Request): EmulatedGrant | undefined {
        const match = /^Bearer\s+(.+)$/i.exec(request.headers.get('authorization') ?? '')
        const grant = match?.[1] ? accessTokens.get(match[1]) : undefined
        return grant && grant.accessTokenExpiresAt > now() ? grant : undefined
      },
      /** Revokes an access or refresh token (and, for a refresh token, nothing else). */
      revoke(token: string) {
        accessTokens.delete(token)
        refreshTokens.delete(token)
      },
      /** Expires an access token now, to test refresh-on-expiry. */
      expire(accessToken: string) {
        const grant = accessTokens.get(accessToken)
        if (grant) grant.accessTokenExpiresAt = now() - 1
      },
    },

    /**
     * An msw handler that logs the request, answers an injected fault if one matches, and
     * otherwise runs `resolver`.
     */
    route(
      method: 'get' | 'post' | 'put' | 'patch' | 'delete' | 'all',
      url: string | RegExp,
      resolver: (info: { request: Request }) => Response | Promise<Response>,
    ): HttpHandler {
      return http[method](url, async ({ request }) => {
        const copy = request.clone()
        const type = request.headers.get('content-type') ?? ''
        log.push({
          method: request.method,
          url: new URL(request.url),
          headers: new Headers(request.headers),
          bodyText: /json|form|text/.test(type) ? await copy.text() : '',
        })
        const fault = takeFault(request)
        if (fault?.kind === 'network_error') return HttpResponse.error()
        if (fault?.kind === 'response') return faultResponse(fault)
        return resolver({ request })
      })
    },
  }
}

/** What `createEmulatorKit` returns. */
export type EmulatorKit = ReturnType<typeof createEmulatorKit>

function faultResponse(fault: Extract<EmulatorFault, { kind: 'response' }>): Response {
  const headers = new Headers(fault.headers)
  if (fault.body === undefined) return new Response(null, { status: fault.status, headers })
  if (typeof fault.body === 'string')
    return new Response(fault.body, { status: fault.status, headers })
  headers.set('content-type', 'application/json')
  return new Response(JSON.stringify(fault.body), { status: fault.status, headers })
}

/**
 * The rate-limit headers platforms send with a 429, in every dialect adapters must read:
 * `Retry-After`, IETF `RateLimit`/`RateLimit-*` and X's `x-rate-limit-*`.
 *
 * @example
 * ```ts
 * return new Response(null, { status: 429, headers: createRateLimitHeaders({ retryAfterSeconds: 30 }) })
 * ```
 */
export function createRateLimitHeaders(params: {
  retryAfterSeconds: number
  limit?: number
  remaining?: number
  now?: number
}): Headers {
  const limit = params.limit ?? 100
  const remaining = params.remaining ?? 0
  const reset = Math.ceil((params.now ?? Date.now()) / 1000) + params.retryAfterSeconds
  return new Headers({
    'retry-after': String(params.retryAfterSeconds),
    ratelimit: `"default";r=${remaining};t=${params.retryAfterSeconds}`,
    'ratelimit-policy': `"default";q=${limit}`,
    'ratelimit-limit': String(limit),
    'ratelimit-remaining': String(remaining),
    'ratelimit-reset': String(params.retryAfterSeconds),
    'x-rate-limit-limit': String(limit),
    'x-rate-limit-remaining': String(remaining),
    'x-rate-limit-reset': String(reset),
  })
}

/**
 * Waits until the client gives up on `request` (its signal aborts), then answers a network
 * error: the "committed, then never answered" behaviour of a timed-out publish.
 *
 * @example
 * ```ts
 * await savePost(post)
 * return hangUntilAborted(request)
 * ```
 */
export function hangUntilAborted(request: Request): Promise<Response> {
  return new Promise((resolve) => {
    if (request.signal.aborted) resolve(HttpResponse.error())
    request.signal.addEventListener('abort', () => resolve(HttpResponse.error()), { once: true })
  })
}
