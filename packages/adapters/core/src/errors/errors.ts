/**
 * The error taxonomy of adapters. The job runner branches on `code` (or the `action`), never on
 * `instanceof`: the server, workers and widgets may load two copies of this package, and the
 * widgets live in other people's pages (other realms), where `instanceof` lies.
 */

import type { ContentIssue } from '../contract/post.ts'

const BRAND = Symbol.for('post-scheduler.adapter-error')

/** What a person has to do before the operation can succeed; surfaced as the API's `action`. */
export type AdapterErrorAction = 'reconnect' | 'fix_content' | 'retry_later'

/** Stable UPPER_SNAKE codes, one per error class. */
export type AdapterErrorCode =
  | 'RECONNECT_REQUIRED'
  | 'RATE_LIMITED'
  | 'CONTENT_REJECTED'
  | 'PLATFORM_UNAVAILABLE'
  | 'NETWORK_FAILURE'
  | 'UNEXPECTED_RESPONSE'
  | 'OUTCOME_UNKNOWN'

/** Fields every adapter error may carry besides its message. */
export interface AdapterErrorOptions {
  /** The error or value this one wraps. */
  cause?: unknown
  /** The platform this error came from, e.g. `sandbox`. */
  platform?: string
  /** HTTP status of the platform response, when there was one. */
  status?: number
}

/**
 * The base of every error an adapter throws on purpose. Use {@link isAdapterError} to recognise
 * one, then switch on `code` to narrow to the subclass.
 *
 * @example
 * ```ts
 * try {
 *   await adapter.publish(params)
 * } catch (error) {
 *   if (isAdapterError(error) && error.retryable) await retryLater(error)
 *   else throw error
 * }
 * ```
 */
export abstract class AdapterError extends Error {
  /** Stable code the runner and the API branch on. */
  abstract readonly code: AdapterErrorCode
  /** Whether repeating the same call later may succeed without a person doing anything. */
  abstract readonly retryable: boolean
  /** What a person must do, if anything. */
  abstract readonly action: AdapterErrorAction | undefined
  readonly platform: string | undefined
  readonly status: number | undefined

  constructor(message: string, options: AdapterErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.platform = options.platform
    this.status = options.status
    Object.defineProperty(this, BRAND, { value: true })
  }
}

/**
 * The token is expired, revoked or lacks a scope: a person must connect the account again.
 *
 * @example
 * ```ts
 * throw new ReconnectRequiredError('The sandbox token was revoked; connect the account again.', {
 *   platform: 'sandbox',
 *   reason: 'revoked',
 * })
 * ```
 */
export class ReconnectRequiredError extends AdapterError {
  override name = 'ReconnectRequiredError'
  readonly code = 'RECONNECT_REQUIRED'
  readonly retryable = false
  readonly action = 'reconnect'
  /** Why, when the platform says: `expired`, `revoked`, `insufficient_scope`, `invalid_grant`… */
  readonly reason: string | undefined

  constructor(message: string, options: AdapterErrorOptions & { reason?: string } = {}) {
    super(message, options)
    this.reason = options.reason
  }
}

/**
 * The platform refused because of a rate limit or quota. `retryAfterSeconds` is read from the
 * platform's headers (see `parseRateLimitHeaders`) and is `undefined` when it did not say.
 * `scope` says whose limit it is: the connected account's (`account`, the default: its other
 * requests wait) or the whole app's (`app`: every account connected through the same app waits),
 * when the platform tells them apart.
 *
 * @example
 * ```ts
 * if (isAdapterError(error, 'RATE_LIMITED')) {
 *   await queue.retryIn(error.retryAfterSeconds ?? 60)
 * }
 * ```
 */
export class RateLimitedError extends AdapterError {
  override name = 'RateLimitedError'
  readonly code = 'RATE_LIMITED'
  readonly retryable = true
  readonly action = 'retry_later'
  readonly retryAfterSeconds: number | undefined
  readonly scope: 'account' | 'app'

  constructor(
    message: string,
    options: AdapterErrorOptions & { retryAfterSeconds?: number; scope?: 'account' | 'app' } = {},
  ) {
    super(message, options)
    this.retryAfterSeconds = options.retryAfterSeconds
    this.scope = options.scope ?? 'account'
  }
}

/**
 * The platform (or our own validation) rejected the content. Publishing it again unchanged fails
 * again; a person must edit the post. `platformCode` and `platformMessage` are the platform's own.
 *
 * @example
 * ```ts
 * throw new ContentRejectedError('The sandbox rejected the post: banned word.', {
 *   platform: 'sandbox',
 *   platformCode: 'BANNED_WORD',
 *   platformMessage: 'Posts may not contain "spam".',
 * })
 * ```
 */
export class ContentRejectedError extends AdapterError {
  override name = 'ContentRejectedError'
  readonly code = 'CONTENT_REJECTED'
  readonly retryable = false
  readonly action = 'fix_content'
  readonly platformCode: string | undefined
  readonly platformMessage: string | undefined
  /** Problems found before sending, by `validatePost`; empty when the platform rejected it. */
  readonly issues: ContentIssue[]

  constructor(
    message: string,
    options: AdapterErrorOptions & {
      platformCode?: string
      platformMessage?: string
      issues?: ContentIssue[]
    } = {},
  ) {
    super(message, options)
    this.platformCode = options.platformCode
    this.platformMessage = options.platformMessage
    this.issues = options.issues ?? []
  }
}

/**
 * The platform answered that it cannot serve now (5xx, maintenance). Nothing was done; retry later.
 *
 * @example
 * ```ts
 * throw new PlatformUnavailableError('The sandbox answered 503.', { platform: 'sandbox', status: 503 })
 * ```
 */
export class PlatformUnavailableError extends AdapterError {
  override name = 'PlatformUnavailableError'
  readonly code = 'PLATFORM_UNAVAILABLE'
  readonly retryable = true
  readonly action = 'retry_later'
  readonly retryAfterSeconds: number | undefined
  readonly scope: 'account' | 'app'

  constructor(
    message: string,
    options: AdapterErrorOptions & { retryAfterSeconds?: number; scope?: 'account' | 'app' } = {},
  ) {
    super(message, options)
    this.retryAfterSeconds = options.retryAfterSeconds
    this.scope = options.scope ?? 'account'
  }
}

/**
 * No answer came back from a call that is safe to repeat (a read, a token request), or the
 * connection failed before anything was sent. For a call that changes something on the platform
 * the adapter throws {@link OutcomeUnknownError} instead.
 *
 * @example
 * ```ts
 * throw new NetworkFailureError('GET /v1/accounts timed out after 10000 ms.', { cause: error })
 * ```
 */
export class NetworkFailureError extends AdapterError {
  override name = 'NetworkFailureError'
  readonly code = 'NETWORK_FAILURE'
  readonly retryable = true
  readonly action = undefined
  /** Whether our own timeout ended the call (rather than the connection failing). */
  readonly timedOut: boolean

  constructor(message: string, options: AdapterErrorOptions & { timedOut?: boolean } = {}) {
    super(message, options)
    this.timedOut = options.timedOut ?? false
  }
}

/**
 * The platform answered something the adapter does not understand (a missing field, a status it
 * does not document). Not retryable: it is a bug to report, in the adapter or the platform.
 *
 * @example
 * ```ts
 * throw new UnexpectedResponseError('POST /v1/posts answered 200 without an id.', {
 *   status: 200,
 *   body: await response.text(),
 * })
 * ```
 */
export class UnexpectedResponseError extends AdapterError {
  override name = 'UnexpectedResponseError'
  readonly code = 'UNEXPECTED_RESPONSE'
  readonly retryable = false
  readonly action = undefined
  /** The start of the response body (at most 2,000 characters), for the logs. */
  readonly body: string | undefined

  constructor(message: string, options: AdapterErrorOptions & { body?: string } = {}) {
    super(message, options)
    this.body = options.body?.slice(0, 2000)
  }
}

/**
 * A call that changes something on the platform was sent, and no answer came back (timeout,
 * connection lost, gateway timeout). It may or may not have happened. Do not retry blindly:
 * reconcile with `lookUpPublication` using the handles saved by `checkpoint`.
 *
 * @example
 * ```ts
 * if (isAdapterError(error, 'OUTCOME_UNKNOWN')) {
 *   const found = await adapter.lookUpPublication({ ...credentials, attemptId, handles })
 * }
 * ```
 */
export class OutcomeUnknownError extends AdapterError {
  override name = 'OutcomeUnknownError'
  readonly code = 'OUTCOME_UNKNOWN'
  readonly retryable = false
  readonly action = undefined
  readonly timedOut: boolean

  constructor(message: string, options: AdapterErrorOptions & { timedOut?: boolean } = {}) {
    super(message, options)
    this.timedOut = options.timedOut ?? false
  }
}

/** Every concrete adapter error; `switch (error.code)` narrows to one class. */
export type AnyAdapterError =
  | ReconnectRequiredError
  | RateLimitedError
  | ContentRejectedError
  | PlatformUnavailableError
  | NetworkFailureError
  | UnexpectedResponseError
  | OutcomeUnknownError

/**
 * Whether `value` is an adapter error, from this copy of the package or any other (another
 * realm, a duplicate install). Pass a `code` to also check which one.
 *
 * @example
 * ```ts
 * if (isAdapterError(error, 'RATE_LIMITED')) console.log(error.retryAfterSeconds)
 * if (isAdapterError(error)) {
 *   switch (error.code) {
 *     case 'RECONNECT_REQUIRED': return markNeedsReconnect(error.reason)
 *   }
 * }
 * ```
 */
export function isAdapterError(value: unknown): value is AnyAdapterError
export function isAdapterError<Code extends AdapterErrorCode>(
  value: unknown,
  code: Code,
): value is Extract<AnyAdapterError, { code: Code }>
export function isAdapterError(value: unknown, code?: AdapterErrorCode): boolean {
  if (typeof value !== 'object' || value === null) return false
  if ((value as Record<symbol, unknown>)[BRAND] !== true) return false
  return code === undefined || (value as { code?: unknown }).code === code
}
