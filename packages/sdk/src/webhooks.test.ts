import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { PostSchedulerError, verifyWebhook, WebhookVerificationError } from './index.ts'

// Signatures come from the Standard Webhooks reference library, not from our own code.
const secret = `whsec_${Buffer.from('a secret of at least 24 bytes!!').toString('base64')}`
const reference = new Webhook(secret)
const body = JSON.stringify({
  type: 'post.published',
  timestamp: '2026-11-29T09:00:00.000Z',
  data: { postId: 'post_123', text: 'Crème brûlée 🍮' },
})

function signed(options: { at?: Date; id?: string; payload?: string } = {}) {
  const at = options.at ?? new Date()
  const id = options.id ?? `msg_${crypto.randomUUID()}`
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': reference.sign(id, at, options.payload ?? body),
  }
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the webhook to be refused')
    },
    (error: unknown) => error,
  )

describe('verifyWebhook', () => {
  it('accepts what the reference library signs and answers the event', async () => {
    const event = await verifyWebhook(body, signed(), secret)
    expect(event).toEqual(JSON.parse(body))
  })

  it('takes Headers, Node-style header objects and raw bytes alike', async () => {
    const headers = signed()
    expect(
      await verifyWebhook(new TextEncoder().encode(body), new Headers(headers), secret),
    ).toEqual(JSON.parse(body))
    const upperCase = Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [name.toUpperCase(), value]),
    )
    expect(await verifyWebhook(body, upperCase, secret)).toEqual(JSON.parse(body))
  })

  it('accepts any of several space-separated signatures (secret rotation)', async () => {
    const headers = signed()
    const other = new Webhook(
      `whsec_${Buffer.from('the previous secret, rotated').toString('base64')}`,
    )
    const old = other.sign(
      headers['webhook-id'],
      new Date(Number(headers['webhook-timestamp']) * 1000),
      body,
    )
    const both = {
      ...headers,
      'webhook-signature': `v2,ignored ${old} ${headers['webhook-signature']}`,
    }
    expect(await verifyWebhook(body, both, secret)).toEqual(JSON.parse(body))
  })

  it('refuses a changed body, another secret, a changed id, or a missing header', async () => {
    const headers = signed()
    const cases = [
      verifyWebhook(body.replace('post_123', 'post_456'), headers, secret),
      verifyWebhook(
        body,
        headers,
        `whsec_${Buffer.from('somebody else entirely!!').toString('base64')}`,
      ),
      verifyWebhook(body, { ...headers, 'webhook-id': 'msg_other' }, secret),
      verifyWebhook(body, { ...headers, 'webhook-signature': undefined }, secret),
      verifyWebhook(body, { ...headers, 'webhook-signature': 'v1,not base64 at all!' }, secret),
    ]
    for (const error of await Promise.all(cases.map(rejection))) {
      expect(error).toBeInstanceOf(WebhookVerificationError)
      expect(error).toBeInstanceOf(PostSchedulerError)
      expect(error).toMatchObject({ code: 'WEBHOOK_INVALID' })
    }
  })

  it('refuses timestamps more than five minutes away, and accepts them within', async () => {
    const now = new Date()
    const at = (seconds: number) => new Date(now.getTime() + seconds * 1000)
    expect(
      await rejection(verifyWebhook(body, signed({ at: at(-301) }), secret, { now })),
    ).toBeInstanceOf(WebhookVerificationError)
    expect(
      await rejection(verifyWebhook(body, signed({ at: at(301) }), secret, { now })),
    ).toBeInstanceOf(WebhookVerificationError)
    expect(await verifyWebhook(body, signed({ at: at(-290) }), secret, { now })).toEqual(
      JSON.parse(body),
    )
    // The reference library agrees on the same inputs.
    expect(() => reference.verify(body, signed({ at: at(-400) }))).toThrow()
  })
})
