import { describe, expect, it } from 'vitest'
import {
  type AdapterErrorCode,
  ContentRejectedError,
  isAdapterError,
  NetworkFailureError,
  OutcomeUnknownError,
  PlatformUnavailableError,
  RateLimitedError,
  ReconnectRequiredError,
  UnexpectedResponseError,
} from './errors.ts'

describe('adapter errors', () => {
  it.each([
    [new ReconnectRequiredError('m'), 'RECONNECT_REQUIRED', false, 'reconnect'],
    [new RateLimitedError('m'), 'RATE_LIMITED', true, 'retry_later'],
    [new ContentRejectedError('m'), 'CONTENT_REJECTED', false, 'fix_content'],
    [new PlatformUnavailableError('m'), 'PLATFORM_UNAVAILABLE', true, 'retry_later'],
    [new NetworkFailureError('m'), 'NETWORK_FAILURE', true, undefined],
    [new UnexpectedResponseError('m'), 'UNEXPECTED_RESPONSE', false, undefined],
    [new OutcomeUnknownError('m'), 'OUTCOME_UNKNOWN', false, undefined],
  ] as const)(
    '%s tells the runner its code, whether to retry and what to ask of a person',
    (error, code, retryable, action) => {
      expect(error).toMatchObject({ code, retryable, action })
      expect(isAdapterError(error)).toBe(true)
      expect(isAdapterError(error, code)).toBe(true)
    },
  )

  it('keeps the cause, the platform and the status it wraps', () => {
    const cause = new TypeError('fetch failed')
    const error = new NetworkFailureError('no answer', { cause, platform: 'sandbox', status: 502 })
    expect(error.cause).toBe(cause)
    expect(error).toMatchObject({ platform: 'sandbox', status: 502, message: 'no answer' })
  })

  it('carries the wait of a rate limit and the platform words of a rejection', () => {
    expect(new RateLimitedError('m', { retryAfterSeconds: 30 }).retryAfterSeconds).toBe(30)
    const rejected = new ContentRejectedError('m', {
      platformCode: '187',
      platformMessage: 'Duplicate',
    })
    expect(rejected).toMatchObject({
      platformCode: '187',
      platformMessage: 'Duplicate',
      issues: [],
    })
  })

  it('tells codes apart', () => {
    const error: unknown = new RateLimitedError('m', { retryAfterSeconds: 5 })
    expect(isAdapterError(error, 'CONTENT_REJECTED')).toBe(false)
    if (isAdapterError(error, 'RATE_LIMITED')) expect(error.retryAfterSeconds).toBe(5)
  })

  it('recognises errors thrown by another copy of the package, where instanceof fails', async () => {
    // A query string makes the module loader evaluate the file again: a second copy.
    const specifier = './errors.ts?another-copy'
    const other = (await import(specifier)) as typeof import('./errors.ts')
    const foreign = new other.RateLimitedError('from another copy')
    expect(foreign instanceof RateLimitedError).toBe(false)
    expect(isAdapterError(foreign, 'RATE_LIMITED')).toBe(true)
  })

  it.each([
    null,
    'RATE_LIMITED',
    new Error('plain'),
    { code: 'RATE_LIMITED' as AdapterErrorCode, retryable: true },
  ])('does not mistake %o for an adapter error', (value) => {
    expect(isAdapterError(value)).toBe(false)
  })
})
