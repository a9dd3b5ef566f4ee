import { createHmac, randomBytes } from 'node:crypto'

const SECRET_PREFIX = 'whsec_'

/**
 * A new endpoint signing secret in the Standard Webhooks format: `whsec_` and 32 random bytes in
 * base64.
 *
 * @example
 * ```ts
 * generateWebhookSecret() // 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw…'
 * ```
 */
export function generateWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`
}

/** The Standard Webhooks headers of one request. */
export interface WebhookHeaders {
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}

/**
 * Signs a webhook the Standard Webhooks way: HMAC-SHA256, keyed with the base64-decoded secret,
 * over `<id>.<timestamp>.<body>` — the exact bytes sent. With several secrets (a rotation's grace
 * period), the signature header carries one `v1,<base64>` per secret, separated by spaces; a
 * receiver accepts the request when any of them verifies.
 *
 * @example
 * ```ts
 * const headers = signWebhook({ id: 'evt_…', timestamp: new Date(), body, secrets: [secret] })
 * // { 'webhook-id': 'evt_…', 'webhook-timestamp': '1767225600', 'webhook-signature': 'v1,K5oZ…' }
 * ```
 */
export function signWebhook(message: {
  id: string
  timestamp: Date
  body: string
  secrets: string[]
}): WebhookHeaders {
  const timestamp = String(Math.floor(message.timestamp.getTime() / 1000))
  const signed = `${message.id}.${timestamp}.${message.body}`
  const signatures = message.secrets.map(
    (secret) =>
      `v1,${createHmac('sha256', Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64'))
        .update(signed)
        .digest('base64')}`,
  )
  return {
    'webhook-id': message.id,
    'webhook-timestamp': timestamp,
    'webhook-signature': signatures.join(' '),
  }
}
