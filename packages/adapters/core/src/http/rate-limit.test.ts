import { describe, expect, it } from 'vitest'
import { parseRateLimitHeaders, parseRetryAfter } from './rate-limit.ts'

const now = new Date('2026-10-21T07:27:00Z')

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120)
  })

  it('reads an HTTP date as the seconds until then', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:00 GMT', now)).toBe(60)
  })

  it.each(['Wed, 21 Oct 2026 07:00:00 GMT', 'soon', '-5', ''])('ignores %o', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined()
  })
})

describe('parseRateLimitHeaders', () => {
  it('prefers Retry-After over every other header', () => {
    const headers = new Headers({
      'retry-after': '7',
      'ratelimit-reset': '50',
      'x-rate-limit-reset': '9999999999',
    })
    expect(parseRateLimitHeaders(headers, now).retryAfterSeconds).toBe(7)
  })

  it('reads the IETF RateLimit header of current drafts', () => {
    const headers = new Headers({ ratelimit: '"default";r=0;t=30' })
    expect(parseRateLimitHeaders(headers, now)).toEqual({
      retryAfterSeconds: 30,
      limit: undefined,
      remaining: 0,
    })
  })

  it('reads the RateLimit header of older drafts', () => {
    const headers = new Headers({ ratelimit: 'limit=100, remaining=3, reset=12' })
    expect(parseRateLimitHeaders(headers, now)).toEqual({
      retryAfterSeconds: 12,
      limit: 100,
      remaining: 3,
    })
  })

  it('reads RateLimit-Reset, -Limit and -Remaining', () => {
    const headers = new Headers({
      'ratelimit-reset': '45',
      'ratelimit-limit': '900',
      'ratelimit-remaining': '0',
    })
    expect(parseRateLimitHeaders(headers, now)).toEqual({
      retryAfterSeconds: 45,
      limit: 900,
      remaining: 0,
    })
  })

  it("reads X's x-rate-limit-reset as a Unix epoch", () => {
    const reset = now.getTime() / 1000 + 300
    const headers = new Headers({
      'x-rate-limit-reset': String(reset),
      'x-rate-limit-limit': '100',
      'x-rate-limit-remaining': '0',
    })
    expect(parseRateLimitHeaders(headers, now)).toEqual({
      retryAfterSeconds: 300,
      limit: 100,
      remaining: 0,
    })
  })

  it('says nothing when no header says anything', () => {
    expect(parseRateLimitHeaders(new Headers(), now)).toEqual({
      retryAfterSeconds: undefined,
      limit: undefined,
      remaining: undefined,
    })
  })
})
