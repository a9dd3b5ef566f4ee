/**
 * The errors the SDK throws. One base class, {@link PostSchedulerError}, and a class per HTTP
 * status family callers branch on. `instanceof` works across realms and duplicate installs (the
 * widgets run inside other people's pages): every class checks a brand, not its prototype chain.
 */

import type { components } from './generated/openapi.ts'

const BRAND = Symbol.for('post-scheduler.sdk-error')

/** An RFC 9457 problem document as the API sends it (`application/problem+json`). */
export type Problem = components['schemas']['Problem']

/** One invalid value in a request: where (`location`, `path`), why (`code`) and a `message`. */
export type ValidationIssue = components['schemas']['ValidationIssue']

/** Which class an error is; stable across copies of this package. */
export type PostSchedulerErrorKind =
  | 'api'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'validation'
  | 'conflict'
  | 'rate_limit'
  | 'server'
  | 'connection'
  | 'upload_incomplete'
  | 'webhook_verification'

/** What an error is made from. */
export interface PostSchedulerErrorOptions {
  /** HTTP status of the answer, when there was one. */
  status?: number
  /** The problem document the API answered with. */
  problem?: Problem
  /** The `X-Request-Id` of the answer, to quote to the server's operators. */
  requestId?: string
  /** The error this one wraps. */
  cause?: unknown
  /** Stable code when there is no problem document (e.g. `CONNECTION_FAILED`). */
  code?: string
}

/**
 * The base of every error the SDK throws on purpose. Subclasses by status: {@link
 * AuthenticationError} (401), {@link PermissionError} (403), {@link NotFoundError} (404), {@link
 * ValidationError} (400, 422), {@link ConflictError} (409), {@link RateLimitError} (429), {@link
 * ServerError} (5xx); {@link ConnectionError} when no answer came. Other statuses (413, 415…) are
 * plain `PostSchedulerError`s. Branch on `code` for the exact reason.
 *
 * @example
 * ```ts
 * try {
 *   await client.posts.get('post_123')
 * } catch (error) {
 *   if (error instanceof NotFoundError) return undefined
 *   if (error instanceof PostSchedulerError) console.error(error.code, error.requestId)
 *   throw error
 * }
 * ```
 */
export class PostSchedulerError extends Error {
  /** The class, as data: what `instanceof` checks across realms. */
  static readonly kind: PostSchedulerErrorKind = 'api'

  override name = 'PostSchedulerError'
  /** Which class this is; `switch (error.kind)` works where `instanceof` cannot be used. */
  readonly kind: PostSchedulerErrorKind
  /** HTTP status of the answer; `undefined` when none came. */
  readonly status: number | undefined
  /** Stable UPPER_SNAKE code, e.g. `NOT_FOUND`, `VALIDATION_FAILED`, `CONNECTION_FAILED`. */
  readonly code: string
  /** The request's id (`X-Request-Id`), to quote when reporting a problem. */
  readonly requestId: string | undefined
  /** The problem document, with every member the server sent. */
  readonly problem: Problem | undefined

  constructor(message: string, options: PostSchedulerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.kind = (new.target as typeof PostSchedulerError).kind
    this.status = options.status
    this.problem = options.problem
    this.code = options.problem?.code ?? options.code ?? 'UNKNOWN'
    this.requestId = options.problem?.requestId || options.requestId
    Object.defineProperty(this, BRAND, { value: true })
  }

  /**
   * `error instanceof NotFoundError` is true for a not-found error from any copy of this package
   * (another realm, a duplicate install), and `instanceof PostSchedulerError` for all of them.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false
    if ((value as Record<symbol, unknown>)[BRAND] !== true) return false
    // `this` is the class on the right of `instanceof`: the base matches every kind.
    // biome-ignore lint/complexity/noThisInStatic: the subclass asked is what decides.
    const { kind } = this
    return kind === 'api' || (value as { kind?: unknown }).kind === kind
  }
}

/** 401: the API key or token is missing, wrong, expired or revoked (`UNAUTHENTICATED`…). */
export class AuthenticationError extends PostSchedulerError {
  static override readonly kind = 'authentication'
  override name = 'AuthenticationError'
}

/** 403: authenticated, but not allowed (a missing scope or role, `FORBIDDEN`). */
export class PermissionError extends PostSchedulerError {
  static override readonly kind = 'permission'
  override name = 'PermissionError'
}

/** 404: no such resource, or not one the caller may see (`NOT_FOUND`). */
export class NotFoundError extends PostSchedulerError {
  static override readonly kind = 'not_found'
  override name = 'NotFoundError'
}

/**
 * 400 or 422: the request is invalid. `issues` says which values and why, with their location
 * (`body`, `query`, `path`, `header`) and path.
 *
 * @example
 * ```ts
 * if (error instanceof ValidationError) {
 *   for (const issue of error.issues) console.log(issue.path.join('.'), issue.message)
 * }
 * ```
 */
export class ValidationError extends PostSchedulerError {
  static override readonly kind = 'validation'
  override name = 'ValidationError'
  /** Every invalid value; empty when the server named none (e.g. a malformed body). */
  readonly issues: ValidationIssue[]

  constructor(message: string, options: PostSchedulerErrorOptions = {}) {
    super(message, options)
    this.issues = options.problem?.issues ?? []
  }
}

/** 409: the resource's state forbids it now (`CONFLICT`, `MEDIA_IN_USE`, a key in flight). */
export class ConflictError extends PostSchedulerError {
  static override readonly kind = 'conflict'
  override name = 'ConflictError'
}

/**
 * 429: too many requests. The client already waited and retried as `Retry-After` asked (see the
 * `retry` option); this is thrown once the retries ran out.
 */
export class RateLimitError extends PostSchedulerError {
  static override readonly kind = 'rate_limit'
  override name = 'RateLimitError'
  /** How long the server asked to wait before trying again, when it said. */
  readonly retryAfterSeconds: number | undefined

  constructor(
    message: string,
    options: PostSchedulerErrorOptions & { retryAfterSeconds?: number },
  ) {
    super(message, options)
    this.retryAfterSeconds = options.retryAfterSeconds
  }
}

/** 5xx: the server failed (after the client's retries); safe to retry later with the same key. */
export class ServerError extends PostSchedulerError {
  static override readonly kind = 'server'
  override name = 'ServerError'
}

/**
 * No answer came: the connection failed (`CONNECTION_FAILED`) or the timeout passed (`TIMEOUT`).
 * A mutating call may or may not have happened; repeating it with the same `idempotencyKey` is safe.
 */
export class ConnectionError extends PostSchedulerError {
  static override readonly kind = 'connection'
  override name = 'ConnectionError'
}

const CLASSES: Record<number, typeof PostSchedulerError> = {
  400: ValidationError,
  401: AuthenticationError,
  403: PermissionError,
  404: NotFoundError,
  409: ConflictError,
  422: ValidationError,
}

/**
 * The error for an answer with a status of 400 or more, from its problem document.
 *
 * @example
 * ```ts
 * throw createAPIError(response.status, await response.json(), response.headers)
 * ```
 */
export function createAPIError(
  status: number,
  body: unknown,
  headers: Headers,
): PostSchedulerError {
  const problem = isProblem(body) ? body : undefined
  const message =
    problem?.detail ?? problem?.title ?? `The API answered ${status} without a problem document`
  const options = {
    status,
    problem,
    requestId: headers.get('x-request-id') ?? undefined,
    code: problem ? undefined : `HTTP_${status}`,
  }
  if (status === 429) {
    const header = Number(headers.get('retry-after'))
    const fromBody = problem?.retryAfterSeconds
    const retryAfterSeconds =
      headers.has('retry-after') && Number.isFinite(header)
        ? header
        : typeof fromBody === 'number'
          ? fromBody
          : undefined
    return new RateLimitError(message, { ...options, retryAfterSeconds })
  }
  const Class = status >= 500 ? ServerError : (CLASSES[status] ?? PostSchedulerError)
  return new Class(message, options)
}

function isProblem(body: unknown): body is Problem {
  return typeof body === 'object' && body !== null && typeof (body as Problem).code === 'string'
}
