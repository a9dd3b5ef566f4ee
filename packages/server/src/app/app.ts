import type { OpenAPIHono } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import { methodNotAllowed } from 'hono/method-not-allowed'
import { requestId } from 'hono/request-id'
import { secureHeaders } from 'hono/secure-headers'
import { authenticate } from '../auth/middleware.ts'
import { type Config, loadConfig } from '../config/config.ts'
import { isDatabaseUnavailable } from '../db/errors.ts'
import { type ProblemCode, ProblemError } from '../errors/problem.ts'
import type { ReadinessReport } from '../health/readiness.ts'
import { healthRoutes } from '../health/routes.ts'
import { clientIP } from '../http/client-ip.ts'
import { cors } from '../http/cors.ts'
import { SESSION_COOKIE } from '../http/headers.ts'
import { idempotency } from '../http/idempotency.ts'
import { problemResponse } from '../http/problem.ts'
import { requestLogger } from '../http/request-logger.ts'
import { type AppEnv, createRouter } from '../http/router.ts'
import { createLogger, type Logger } from '../logging/logger.ts'
import { mediaFileRoutes } from '../media/files.ts'
import { isMediaUploadRequest } from '../media/routes.ts'
import { rateLimit } from '../rate-limit/middleware.ts'
import type { Services } from '../services.ts'
import { registerEventWebhooks } from '../webhooks/openapi.ts'
import { apiReference } from './api-reference.ts'
import { OPENAPI_DOCUMENT_CONFIG } from './openapi.ts'
import { v1Routes } from './v1.ts'

/** What a 503 asks clients to wait while the database does not answer: a restart takes about this. */
const DATABASE_RETRY_AFTER_SECONDS = 2

/** What the HTTP app needs from the rest of the server. */
export interface AppDependencies {
  config: Config
  logger: Logger
  checkReadiness: () => Promise<ReadinessReport>
  /** Why the process can never serve again, when it cannot (`/healthz` then answers 503). */
  checkLiveness?: () => string | undefined
  /** The running server's services; throws `NOT_READY` before start and after stop. */
  services: () => Services
  /** Paths the installed platforms host under (`/sandbox`), served by `services().platformRoutes`. */
  platformPaths?: readonly string[]
}

/**
 * Builds the Hono app: request ids, logs, secure headers, body limits, problem+json errors, the
 * routes, `/openapi.json` and `/docs`. It needs no listening server: `app.request()` works.
 */
export function createApp(deps: AppDependencies): OpenAPIHono<AppEnv> {
  const { config } = deps
  const app = createRouter()
  app.use(requestId())
  app.use(async (c, next) => {
    c.set('clientIP', clientIP(c, config.trustProxy))
    await next()
  })
  app.use(requestLogger(deps.logger))
  app.use(
    secureHeaders({
      strictTransportSecurity: config.tls ? 'max-age=63072000; includeSubDomains' : false,
    }),
  )
  const globalBodyLimit = bodyLimit({
    maxSize: config.maxBodyBytes,
    onError: (c) =>
      problemResponse(
        c,
        new ProblemError(
          'PAYLOAD_TOO_LARGE',
          `The request body is larger than the ${config.maxBodyBytes} bytes this server accepts`,
        ),
      ),
  })
  // Media uploads stream to storage under their own, larger limits (MEDIA_MAX_FILE_BYTES).
  app.use((c, next) =>
    isMediaUploadRequest(c.req.method, c.req.path) ? next() : globalBodyLimit(c, next),
  )
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) => {
        c.header('Allow', methods.join(', '))
        return problemResponse(
          c,
          new ProblemError('METHOD_NOT_ALLOWED', `${c.req.path} accepts ${methods.join(', ')}`),
        )
      },
    }),
  )

  app.use('/v1/*', async (c, next) => {
    c.set('services', deps.services())
    await next()
  })
  app.use('/v1/*', authenticate())
  app.use('/v1/*', cors())
  app.use('/v1/*', rateLimit({ name: 'api', limit: config.rateLimitPerMinute, windowSeconds: 60 }))
  app.use('/v1/*', idempotency())
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API key (`psk_live_…`, `psk_test_…`) for backends, a profile token (`pst_…`) for browser widgets, or a session token (`pss_…`) from sign-in.',
  })
  app.openAPIRegistry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: SESSION_COOKIE,
    description: 'The session cookie browsers get at sign-in.',
  })

  app.route('/', healthRoutes(deps))
  // What the platforms host here (the sandbox's consent page and API), outside the OpenAPI document.
  for (const path of deps.platformPaths ?? []) {
    app.all(`${path}/*`, (c) => {
      const route = deps.services().platformRoutes.find((hosted) => hosted.path === path)
      return route ? route.handle(c.req.raw) : c.notFound()
    })
  }
  // The platform emulators it hosts with PLATFORM_EMULATORS, likewise outside the document.
  app.all('/emulators/:platform/*', (c) => {
    const emulator = deps
      .services()
      .emulators.find((hosted) => hosted.platform === c.req.param('platform'))
    return emulator ? emulator.handle(c.req.raw) : c.notFound()
  })
  // Signed URLs of locally stored media, for platforms that pull them; outside the OpenAPI document.
  app.route('/', mediaFileRoutes(deps.services))
  app.route('/v1', v1Routes())
  registerEventWebhooks(app.openAPIRegistry)
  app.route('/', apiReference())
  app.doc31('/openapi.json', OPENAPI_DOCUMENT_CONFIG)

  app.notFound((c) =>
    problemResponse(
      c,
      new ProblemError('NOT_FOUND', `No route matches ${c.req.method} ${c.req.path}`),
    ),
  )
  app.onError((error, c) => {
    if (error instanceof ProblemError) return problemResponse(c, error)
    if (error instanceof HTTPException && error.status < 500) {
      const code: ProblemCode = error.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'MALFORMED_REQUEST'
      return problemResponse(c, new ProblemError(code, error.message, {}, { cause: error }))
    }
    if (isDatabaseUnavailable(error)) {
      // PostgreSQL restarting or unreachable: the same request succeeds shortly (clients and the
      // SDK retry a 503 after Retry-After). Logged once per request, without a stack.
      deps.logger.warn(
        { requestId: c.get('requestId'), reason: error.message },
        'the database did not answer; answered 503',
      )
      return problemResponse(
        c,
        new ProblemError(
          'DATABASE_UNAVAILABLE',
          'The database is not answering (restarting or unreachable); retry shortly',
          { retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS },
          { cause: error },
        ),
      )
    }
    deps.logger.error({ err: error, requestId: c.get('requestId') }, 'unhandled error')
    return problemResponse(
      c,
      new ProblemError(
        'INTERNAL_ERROR',
        'Something went wrong on our side; the request id identifies it in our logs',
      ),
    )
  })
  return app
}

/** An OpenAPI 3.1 document object. */
export type OpenAPIDocument = ReturnType<OpenAPIHono['getOpenAPI31Document']>

/**
 * The OpenAPI 3.1 document of the API, built from the route schemas without starting anything.
 * The committed `openapi.json` is this document; a test fails when they differ.
 *
 * @example
 * ```ts
 * writeFileSync('openapi.json', JSON.stringify(createOpenAPIDocument(), null, 2))
 * ```
 */
export function createOpenAPIDocument(): OpenAPIDocument {
  const app = createApp({
    config: loadConfig({}),
    logger: createLogger({ logLevel: 'silent', logFormat: 'json' }),
    checkReadiness: () => Promise.reject(new Error('not started')),
    services: () => {
      throw new Error('not started')
    },
  })
  return app.getOpenAPI31Document(OPENAPI_DOCUMENT_CONFIG)
}
