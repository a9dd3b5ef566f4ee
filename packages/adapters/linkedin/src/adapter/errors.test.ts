import { http } from 'msw'
import { describe, expect, it } from 'vitest'
import { attempt, rejection, useLinkedIn } from '../test/harness.ts'
import { secondsUntilNextMidnightUTC } from './http.ts'

describe('secondsUntilNextMidnightUTC', () => {
  it('counts whole seconds to the next midnight UTC, whatever the local offset', () => {
    expect(secondsUntilNextMidnightUTC(new Date('2026-11-29T23:59:18Z'))).toBe(42)
    expect(secondsUntilNextMidnightUTC(new Date('2026-11-29T12:00:00+09:00'))).toBe(21 * 3600)
    expect(secondsUntilNextMidnightUTC(new Date('2026-12-31T00:00:00Z'))).toBe(24 * 3600)
    expect(secondsUntilNextMidnightUTC(new Date('2026-11-29T23:59:59.500Z'))).toBe(1)
  })
})

describe("LinkedIn's daily limit", () => {
  const linkedIn = useLinkedIn({ postsPerMemberPerDay: 1 })

  it('waits until midnight UTC after a 429 without headers, and the retry then succeeds', async () => {
    const { adapter, member } = await linkedIn.connect()
    linkedIn.emulator.clock.set(new Date('2026-11-29T22:30:00Z'))
    await adapter.publish(attempt(member, { text: 'First of the day' }).params)
    const error = await rejection(adapter.publish(attempt(member, { text: 'Second' }).params))
    expect(error).toMatchObject({
      code: 'RATE_LIMITED',
      retryable: true,
      action: 'retry_later',
      retryAfterSeconds: 90 * 60,
    })
    linkedIn.emulator.clock.advance(90 * 60)
    await adapter.publish(attempt(member, { text: 'Second' }).params)
    expect(await linkedIn.emulator.countPosts(member.accountId)).toBe(2)
  })
})

describe('LinkedIn errors and the decision each leads to', () => {
  const linkedIn = useLinkedIn()

  it('reads the wait from headers if LinkedIn ever sends them', async () => {
    const { adapter, member } = await linkedIn.connect()
    // A standard Retry-After takes precedence over the daily reset.
    linkedIn.server.use(
      http.post(
        'https://api.linkedin.com/rest/posts',
        () => new Response(null, { status: 429, headers: { 'retry-after': '30' } }),
        { once: true },
      ),
    )
    const error = await rejection(adapter.publish(attempt(member, { text: 'Hi' }).params))
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 30 })
  })

  it('rejects a duplicate of a recent post as content to fix, naming the existing post', async () => {
    const { adapter, account } = await linkedIn.connect()
    const page = account('organization')
    const first = await adapter.publish(attempt(page, { text: 'Same words' }).params)
    const error = await rejection(adapter.publish(attempt(page, { text: 'Same words' }).params))
    expect(error).toMatchObject({
      code: 'CONTENT_REJECTED',
      action: 'fix_content',
      retryable: false,
      status: 422,
      platformMessage: `Content is a duplicate of ${first.platformPostId}`,
    })
    expect(String(error.message)).toContain(first.platformPostId)
  })

  it('rejects content LinkedIn refuses with its own code', async () => {
    const { adapter, member } = await linkedIn.connect()
    linkedIn.emulator.fail('publish', 'field_too_long')
    const error = await rejection(adapter.publish(attempt(member, { text: 'Hi' }).params))
    expect(error).toMatchObject({
      code: 'CONTENT_REJECTED',
      platformCode: 'FIELD_LENGTH_TOO_LONG',
      action: 'fix_content',
    })
  })

  it('asks for a reconnect with the reason: revoked, expired, or missing permission', async () => {
    const { adapter, member } = await linkedIn.connect()
    const reasons: unknown[] = []
    for (const failure of ['token_revoked', 'token_invalid', 'access_denied'] as const) {
      linkedIn.emulator.fail('publish', failure)
      reasons.push(
        (await rejection(adapter.publish(attempt(member, { text: failure }).params))).reason,
      )
    }
    linkedIn.emulator.clock.advance(61 * 24 * 60 * 60)
    reasons.push(
      (await rejection(adapter.publish(attempt(member, { text: 'late' }).params))).reason,
    )
    expect(reasons).toEqual(['revoked', 'invalid_token', 'insufficient_permissions', 'expired'])
    expect(linkedIn.emulator.posts()).toEqual([])
  })

  it('retries later on 503, but treats 500 on the create call as an unknown outcome', async () => {
    const { adapter, member } = await linkedIn.connect()
    linkedIn.emulator.fail('publish', 'unavailable')
    expect(await rejection(adapter.publish(attempt(member, { text: 'a' }).params))).toMatchObject({
      code: 'PLATFORM_UNAVAILABLE',
      retryable: true,
    })
    linkedIn.emulator.fail('publish', 'server_error')
    expect(await rejection(adapter.publish(attempt(member, { text: 'b' }).params))).toMatchObject({
      code: 'OUTCOME_UNKNOWN',
      retryable: false,
    })
  })

  it('treats a lost connection before an answer on the create call as an unknown outcome', async () => {
    const { adapter, member } = await linkedIn.connect()
    linkedIn.emulator.fail('publish', 'network_error')
    expect(await rejection(adapter.publish(attempt(member, { text: 'a' }).params))).toMatchObject({
      code: 'OUTCOME_UNKNOWN',
    })
  })

  it('treats a server error on an upload call as retryable: nothing was posted', async () => {
    const { adapter, member } = await linkedIn.connect()
    linkedIn.emulator.fail('initializeImageUpload', 'server_error')
    const error = await rejection(
      adapter.publish(
        attempt(member, {
          text: 'pic',
          media: [
            {
              id: 'm',
              kind: 'image',
              mimeType: 'image/png',
              sizeBytes: 10,
              open: async () => new Blob(['0123456789']),
            },
          ],
        }).params,
      ),
    )
    expect(error).toMatchObject({ code: 'PLATFORM_UNAVAILABLE', retryable: true })
  })
})
