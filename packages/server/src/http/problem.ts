import { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import {
  type Issue,
  PROBLEM_CODES,
  type ProblemCode,
  type ProblemError,
} from '../errors/problem.ts'

/** The table's statuses, checked to be ones a problem+json body may carry. */
const STATUSES: Record<ProblemCode, ContentfulStatusCode> = PROBLEM_CODES

const TITLES: Record<ProblemCode, string> = {
  MALFORMED_REQUEST: 'Malformed request',
  TOKEN_INVALID: 'Invalid or expired token',
  WORKSPACE_REQUIRED: 'Workspace required',
  UNAUTHENTICATED: 'Authentication required',
  INVALID_CREDENTIALS: 'Invalid credentials',
  FORBIDDEN: 'Forbidden',
  SIGN_UP_REFUSED: 'Sign-up refused',
  CONFLICT: 'Conflict',
  RATE_LIMITED: 'Too many requests',
  NOT_FOUND: 'Not found',
  METHOD_NOT_ALLOWED: 'Method not allowed',
  PAYLOAD_TOO_LARGE: 'Payload too large',
  MEDIA_IN_USE: 'Media in use',
  QUOTA_EXCEEDED: 'Storage quota exceeded',
  UNSUPPORTED_MEDIA: 'Unsupported media',
  IMPORT_FAILED: 'Import failed',
  IDEMPOTENCY_KEY_REUSED: 'Idempotency key reused',
  VALIDATION_FAILED: 'Validation failed',
  INTERNAL_ERROR: 'Internal server error',
  NOT_READY: 'Not ready',
  DATABASE_UNAVAILABLE: 'Database unavailable',
}

export const IssueSchema = z
  .object({
    location: z.enum(['body', 'query', 'path', 'header', 'cookie']),
    path: z
      .array(z.union([z.string(), z.number()]))
      .openapi({ description: 'Path to the value inside its location', example: ['content', 0] }),
    code: z.string().openapi({ description: 'Machine-readable reason', example: 'too_small' }),
    message: z.string().openapi({ example: 'Too small: expected string to have >=1 characters' }),
  })
  .openapi('ValidationIssue') satisfies z.ZodType<Issue>

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'about:blank' }),
    title: z.string().openapi({ example: 'Not found' }),
    status: z.number().int().openapi({ example: 404 }),
    detail: z.string().optional().openapi({ example: 'No route matches GET /v1/nothing' }),
    instance: z.string().optional().openapi({ example: '/v1/nothing' }),
    code: z
      .string()
      .openapi({ description: 'Stable UPPER_SNAKE error code', example: 'NOT_FOUND' }),
    requestId: z.string().openapi({ description: 'Also in the X-Request-Id header' }),
    issues: z.array(IssueSchema).optional(),
  })
  .catchall(z.unknown())
  .openapi('Problem', { description: 'An RFC 9457 problem document' })

/** An RFC 9457 problem document as the API sends it. */
export type Problem = z.infer<typeof ProblemSchema>

/** Renders a {@link ProblemError} as an `application/problem+json` response. */
export function problemResponse(c: Context, error: ProblemError): Response {
  const problem: Problem = {
    ...error.extensions,
    type: 'about:blank',
    title: TITLES[error.code],
    status: error.status,
    detail: error.message,
    instance: c.req.path,
    code: error.code,
    requestId: c.get('requestId') ?? '',
  }
  const retryAfter = error.extensions.retryAfterSeconds
  if (typeof retryAfter === 'number') c.header('Retry-After', String(retryAfter))
  return c.body(JSON.stringify(problem), error.status, {
    'content-type': 'application/problem+json',
  })
}

/**
 * OpenAPI response entries for the given problem codes, so every route documents its errors with
 * the shared `Problem` schema.
 *
 * @example
 * ```ts
 * createRoute({ ..., responses: { 200: ok, ...problemResponses('NOT_FOUND') } })
 * ```
 */
export function problemResponses<const C extends ProblemCode>(...codes: C[]) {
  const responses = new Map<number, { description: string; content: object }>()
  for (const code of codes) {
    const status = STATUSES[code]
    const description = `${TITLES[code]} (\`${code}\`)`
    const existing = responses.get(status)
    // Codes sharing a status are listed together in one response entry.
    responses.set(status, {
      description: existing ? `${existing.description}, or ${description}` : description,
      content: { 'application/problem+json': { schema: ProblemSchema } },
    })
  }
  return Object.fromEntries(responses) as {
    [K in C as (typeof PROBLEM_CODES)[K]]: {
      description: string
      content: { 'application/problem+json': { schema: typeof ProblemSchema } }
    }
  }
}
