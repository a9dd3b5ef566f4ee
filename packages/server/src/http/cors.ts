import { eq, sql } from 'drizzle-orm'
import type { MiddlewareHandler } from 'hono'
import { workspaces } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import { WORKSPACE_HEADER } from './headers.ts'
import type { AppEnv } from './router.ts'

const ALLOWED_METHODS = 'GET, POST, PATCH, PUT, DELETE'
const ALLOWED_HEADERS = `Authorization, Content-Type, Idempotency-Key, ${WORKSPACE_HEADER}`
/** Headers a widget may read from responses: request id for support, rate-limit state. */
const EXPOSED_HEADERS =
  'X-Request-Id, RateLimit, RateLimit-Policy, Retry-After, Idempotent-Replayed'

/**
 * Per-workspace CORS for `/v1`. Browsers may call the API only with profile tokens, and only from
 * the origins a workspace lists in its `corsOrigins`:
 *
 * - A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered here,
 *   before any rate limit: 204 with the allowed methods and headers when some workspace lists the
 *   origin (preflights carry no credentials, so which workspace is not known yet), otherwise
 *   `403 FORBIDDEN` without CORS headers, which the browser reports as a CORS failure.
 * - A request made with a profile token gets `Access-Control-Allow-Origin` only when its origin is
 *   in the token's own workspace's list; the browser hides the response from any other origin.
 * - A request made with a secret API key and an `Origin` header is refused with `403 FORBIDDEN`:
 *   the key would be exposed to everyone who can read the page (threat: leaked secret keys).
 *
 * Mount it after `authenticate()`, which it reads the caller from, and before rate limiting.
 *
 * @example
 * ```ts
 * app.use('/v1/*', authenticate())
 * app.use('/v1/*', cors())
 * app.use('/v1/*', rateLimit({ name: 'api', limit: 600, windowSeconds: 60 }))
 * ```
 */
export function cors(options: { maxAgeSeconds?: number } = {}): MiddlewareHandler<AppEnv> {
  const maxAge = String(options.maxAgeSeconds ?? 600)
  return async (c, next) => {
    const origin = c.req.header('origin')
    if (origin === undefined) return next()
    const db = c.var.services.db

    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
      // Needs a GIN index on cors_origins to stay cheap with many workspaces.
      const [listed] = await db
        .select({ id: workspaces.id })
        .from(workspaces)
        .where(sql`${workspaces.corsOrigins} @> array[${origin}]::text[]`)
        .limit(1)
      c.header('Vary', 'Origin')
      if (!listed) {
        throw new ProblemError(
          'FORBIDDEN',
          `The origin ${origin} is not allowed to call this API; add it to your workspace's corsOrigins`,
        )
      }
      c.header('Access-Control-Allow-Origin', origin)
      c.header('Access-Control-Allow-Methods', ALLOWED_METHODS)
      c.header('Access-Control-Allow-Headers', ALLOWED_HEADERS)
      c.header('Access-Control-Max-Age', maxAge)
      return c.body(null, 204)
    }

    const principal = c.var.principal
    if (principal?.type === 'api_key') {
      throw new ProblemError(
        'FORBIDDEN',
        'Secret API keys must stay on servers, and this request comes from a browser (it has an Origin header). Mint a profile token on your server with POST /v1/profiles/{profileId}/tokens and use that in the browser.',
      )
    }
    c.header('Vary', 'Origin', { append: true })
    if (principal?.type === 'profile_token') {
      const [workspace] = await db
        .select({ corsOrigins: workspaces.corsOrigins })
        .from(workspaces)
        .where(eq(workspaces.id, principal.workspaceId))
      if (workspace?.corsOrigins.includes(origin)) {
        c.header('Access-Control-Allow-Origin', origin)
        c.header('Access-Control-Expose-Headers', EXPOSED_HEADERS)
      }
    }
    await next()
  }
}
