/**
 * The API's errors as services raise them, free of HTTP: a stable code, a message, extensions.
 * `http/problem.ts` renders them as RFC 9457 documents and documents them in OpenAPI.
 */

/**
 * Every stable error code the API answers with, and its HTTP status. Clients branch on `code`;
 * the status follows from it.
 */
export const PROBLEM_CODES = {
  MALFORMED_REQUEST: 400,
  TOKEN_INVALID: 400,
  WORKSPACE_REQUIRED: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  SIGN_UP_REFUSED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  MEDIA_IN_USE: 409,
  PAYLOAD_TOO_LARGE: 413,
  QUOTA_EXCEEDED: 413,
  UNSUPPORTED_MEDIA: 415,
  IMPORT_FAILED: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  VALIDATION_FAILED: 422,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  NOT_READY: 503,
  DATABASE_UNAVAILABLE: 503,
} as const

/** A stable, UPPER_SNAKE error code of the API. */
export type ProblemCode = keyof typeof PROBLEM_CODES

/** Where an invalid value was found in the request. */
export type IssueLocation = 'body' | 'query' | 'path' | 'header' | 'cookie'

/** One invalid value in a request: where, the path inside it, a machine-readable reason, a message. */
export interface Issue {
  location: IssueLocation
  path: (string | number)[]
  code: string
  message: string
}

/**
 * An error that becomes a problem+json response. Throw it from services and handlers; the app's
 * error handler renders it with the request id.
 *
 * @example
 * ```ts
 * throw new ProblemError('NOT_FOUND', 'No post with id post_123')
 * ```
 */
export class ProblemError extends Error {
  override name = 'ProblemError'
  readonly code: ProblemCode
  /** Extra members for the problem document, such as `issues`. */
  readonly extensions: Record<string, unknown>

  constructor(
    code: ProblemCode,
    detail: string,
    extensions: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(detail, options)
    this.code = code
    this.extensions = extensions
  }

  get status(): (typeof PROBLEM_CODES)[ProblemCode] {
    return PROBLEM_CODES[this.code]
  }
}
