import { isAdapterError } from '@post-scheduler/adapter-core'
import { describe, expect, it } from 'vitest'
import { publishParams, useFacebook } from '../test/harness.ts'
import { readUsageHeaders } from './http.ts'

const facebook = useFacebook()

// Makes the next feed call answer with Graph's envelope, then publishes and returns the error.
async function publishAgainst(
  error: Record<string, unknown>,
  options: { status?: number; headers?: Record<string, string> } = {},
) {
  const { adapter, call } = await facebook.connect()
  facebook.emulator.faults.inject(
    { method: 'POST', path: /\/feed$/ },
    {
      kind: 'response',
      status: options.status ?? 400,
      headers: options.headers ?? {},
      body: { error: { type: 'OAuthException', fbtrace_id: 'Atrace', ...error } },
    },
  )
  const { params } = publishParams(call, { text: `Errors ${crypto.randomUUID()}` })
  const thrown = await adapter.publish(params).then(
    () => undefined,
    (caught: unknown) => caught,
  )
  if (!isAdapterError(thrown)) throw new Error(`expected an adapter error, got ${String(thrown)}`)
  return thrown
}

describe('Graph error envelope → adapter errors', () => {
  it.each([
    [463, 'expired'],
    [460, 'password_changed'],
    [458, 'app_not_installed'],
    [undefined, 'invalid_token'],
  ])('maps code 190 with subcode %s to a reconnect (%s)', async (subcode, reason) => {
    const error = await publishAgainst({ code: 190, error_subcode: subcode, message: 'Invalid' })
    expect(error).toMatchObject({ code: 'RECONNECT_REQUIRED', reason })
  })

  it('maps a missing permission (200) to a reconnect that names the permissions', async () => {
    const error = await publishAgainst({ code: 200, message: '(#200) Permissions error' })
    expect(error).toMatchObject({ code: 'RECONNECT_REQUIRED', reason: 'insufficient_permissions' })
    expect(error.message).toContain('pages_manage_posts')
  })

  it("maps code 4 to the whole app's rate limit, with X-App-Usage in the message", async () => {
    const error = await publishAgainst(
      { code: 4, message: '(#4) Application request limit reached' },
      { headers: { 'x-app-usage': '{"call_count":100,"total_cputime":25,"total_time":30}' } },
    )
    expect(error).toMatchObject({
      code: 'RATE_LIMITED',
      scope: 'app',
      retryAfterSeconds: undefined,
    })
    expect(error.message).toContain('100% used')
  })

  it.each([17, 32, 613, 80001])(
    "maps code %i to the account's rate limit, waiting as X-Business-Use-Case-Usage says",
    async (code) => {
      const error = await publishAgainst(
        { code, message: 'Too many calls' },
        {
          headers: {
            'x-business-use-case-usage': JSON.stringify({
              '101000000000001': [
                {
                  type: 'pages',
                  call_count: 96,
                  total_cputime: 10,
                  total_time: 12,
                  estimated_time_to_regain_access: 15,
                },
              ],
            }),
          },
        },
      )
      expect(error).toMatchObject({
        code: 'RATE_LIMITED',
        scope: 'account',
        retryAfterSeconds: 900,
      })
    },
  )

  it.each([
    [506, undefined, '506'],
    [368, 1404006, '368/1404006'],
    [100, 1366046, '100/1366046'],
  ])(
    'maps code %i (subcode %s) to rejected content with platform code %s',
    async (code, subcode, platformCode) => {
      const error = await publishAgainst({ code, error_subcode: subcode, message: 'Refused' })
      expect(error).toMatchObject({
        code: 'CONTENT_REJECTED',
        platformCode,
        platformMessage: 'Refused',
      })
    },
  )

  it('treats a transient 500 on the feed call as an unknown outcome, not a failure', async () => {
    const error = await publishAgainst(
      { code: 1, message: 'An unknown error occurred', is_transient: true },
      { status: 500 },
    )
    expect(error.code).toBe('OUTCOME_UNKNOWN')
  })

  it('treats a transient error on a read as the platform being unavailable', async () => {
    const { adapter, tokens } = await facebook.connect()
    facebook.emulator.faults.inject(
      { method: 'GET', path: /\/me\/accounts$/ },
      {
        kind: 'response',
        status: 500,
        body: { error: { code: 2, message: 'Service', is_transient: true } },
      },
    )
    await expect(adapter.listAccounts({ accessToken: tokens.accessToken })).rejects.toMatchObject({
      code: 'PLATFORM_UNAVAILABLE',
    })
  })
})

describe('readUsageHeaders', () => {
  it('takes the longest wait of the business use cases, in seconds, and the highest percentage', () => {
    const headers = new Headers({
      'x-business-use-case-usage': JSON.stringify({
        '1': [
          {
            type: 'pages',
            call_count: 40,
            total_cputime: 5,
            total_time: 5,
            estimated_time_to_regain_access: 2,
          },
        ],
        '2': [
          {
            type: 'pages',
            call_count: 100,
            total_cputime: 5,
            total_time: 5,
            estimated_time_to_regain_access: 7,
          },
        ],
      }),
      'x-app-usage': '{"call_count":12,"total_cputime":3,"total_time":4}',
    })
    expect(readUsageHeaders(headers)).toEqual({ percentUsed: 100, retryAfterSeconds: 420 })
  })

  it('ignores malformed headers', () => {
    expect(readUsageHeaders(new Headers({ 'x-app-usage': 'not json' }))).toEqual({
      percentUsed: undefined,
      retryAfterSeconds: undefined,
    })
  })
})
