import type { OpenAPIHono } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import { methodNotAllowed } from 'hono/method-not-allowed'
import { requestId } from 'hono/request-id'
import { secureHeaders } from 'hono/secure-headers'
import type { ReadinessReport } from '../health/readiness.ts'
import { healthRoutes } from '../health/routes.ts'
import { createLogger, type Logger } from '../logging/logger.ts'
import { apiReference } from './api-reference.ts'
import { OPENAPI_DOCUMENT_CONFIG } from './openapi.ts'
import { type ProblemCode, ProblemError, problemResponse } from './problem.ts'
import { requestLogger } from './request-logger.ts'
import { type AppEnv, createRouter } from './router.ts'

/** What the HTTP app needs from the rest of the server. */
export interface AppDependencies {
  logger: Logger
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: number
  /** Whether responses travel over HTTPS, which turns on HSTS. */
  https: boolean
  checkReadiness: () => Promise<ReadinessReport>
}

/**
 * Builds the Hono app: request ids, logs, secure headers, body limits, problem+json errors, the
 * routes, `/openapi.json` and `/docs`. It needs no listening server: `app.request()` works.
 */
export function createApp(deps: AppDependencies): OpenAPIHono<AppEnv> {
  const app = createRouter()
  app.use(requestId())
  app.use(requestLogger(deps.logger))
  app.use(
    secureHeaders({
      strictTransportSecurity: deps.https ? 'max-age=63072000; includeSubDomains' : false,
    }),
  )
  app.use(
    bodyLimit({
      maxSize: deps.maxBodyBytes,
      onError: (c) =>
        problemResponse(
          c,
          new ProblemError(
            'PAYLOAD_TOO_LARGE',
            `The request body is larger than the ${deps.maxBodyBytes} bytes this server accepts`,
          ),
        ),
    }),
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

  app.route('/', healthRoutes({ checkReadiness: deps.checkReadiness }))
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
    logger: createLogger({ logLevel: 'silent', logFormat: 'json' }),
    maxBodyBytes: 1,
    https: false,
    checkReadiness: () => Promise.reject(new Error('not started')),
  })
  return app.getOpenAPI31Document(OPENAPI_DOCUMENT_CONFIG)
}
