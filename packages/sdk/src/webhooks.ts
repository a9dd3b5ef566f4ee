import { PostSchedulerError } from './errors.ts'
import type { webhooks } from './generated/openapi.ts'

type GeneratedEvent = {
  [Name in keyof webhooks]: [webhooks[Name]] extends [never]
    ? never
    : webhooks[Name] extends {
          post: { requestBody: { content: { 'application/json': infer Event } } }
        }
      ? Event
      : never
}[keyof webhooks]

/** The shape every Standard Webhooks payload has, for servers whose document names no events. */
export interface UntypedWebhookEvent {
  /** The event type, e.g. `post.published`. */
  type: string
  /** When the event happened (ISO 8601). */
  timestamp: string
  /** The event's data. */
  data: unknown
}

/**
 * Every event the server sends to webhook endpoints: a union over `type`, from the `webhooks`
 * section of the OpenAPI document.
 */
export type WebhookEvent = [GeneratedEvent] extends [never] ? UntypedWebhookEvent : GeneratedEvent

/** Request headers as `Headers` (fetch, edge runtimes) or a plain object (Node's `req.headers`). */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>

/** Options of {@link verifyWebhook}. */
export interface VerifyWebhookOptions {
  /** How far the `webhook-timestamp` may be from now, in seconds. Default 300 (five minutes). */
  toleranceSeconds?: number
  /** The current time (for tests). */
  now?: Date
}

/** A webhook request that is not signed by the secret, is too old, or is malformed. */
export class WebhookVerificationError extends PostSchedulerError {
  static override readonly kind = 'webhook_verification'
  override name = 'WebhookVerificationError'
}

const encoder = new TextEncoder()

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined
  const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1]
  return Array.isArray(found) ? found.join(' ') : found
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    return Uint8Array.from(atob(text), (char) => char.charCodeAt(0))
  } catch {
    return undefined
  }
}

/**
 * Verifies a webhook request as the Standard Webhooks specification says (HMAC-SHA256 over
 * `webhook-id.webhook-timestamp.body` with the endpoint's `whsec_…` secret; any of the
 * space-separated `v1,…` signatures may match; the timestamp must be within five minutes) and
 * answers its event. Pass the raw body, exactly as received: a re-serialised JSON object will not
 * verify. Uses WebCrypto, so it runs in Node, browsers' workers and edge runtimes.
 *
 * @throws {WebhookVerificationError} when a header is missing, the timestamp is out of tolerance,
 *   no signature matches, or the body is not JSON.
 *
 * @example
 * ```ts
 * app.post('/webhooks/post-scheduler', async (c) => {
 *   const event = await verifyWebhook(await c.req.text(), c.req.raw.headers, process.env.WEBHOOK_SECRET)
 *   if (event.type === 'post.published') console.log(event.data)
 *   return c.body(null, 204)
 * })
 * ```
 */
export async function verifyWebhook(
  payload: string | Uint8Array | ArrayBuffer,
  headers: WebhookHeaders,
  secret: string,
  options: VerifyWebhookOptions = {},
): Promise<WebhookEvent> {
  const fail = (message: string) =>
    new WebhookVerificationError(message, { code: 'WEBHOOK_INVALID' })
  const id = header(headers, 'webhook-id')
  const timestamp = header(headers, 'webhook-timestamp')
  const signatures = header(headers, 'webhook-signature')
  if (!id || !timestamp || !signatures) {
    throw fail('The webhook-id, webhook-timestamp and webhook-signature headers are required')
  }
  const sentAt = Number(timestamp)
  const now = (options.now ?? new Date()).getTime() / 1000
  if (!/^\d+$/.test(timestamp) || Math.abs(now - sentAt) > (options.toleranceSeconds ?? 300)) {
    throw fail('The webhook-timestamp is too far from now (a replayed or delayed request)')
  }
  const keyBytes = decodeBase64(secret.replace(/^whsec_/, ''))
  if (!keyBytes) throw fail('The secret is not a whsec_ base64 secret')
  const key = await crypto.subtle.importKey(
    'raw',
    keyBytes,
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  )
  const body = typeof payload === 'string' ? encoder.encode(payload) : new Uint8Array(payload)
  const prefix = encoder.encode(`${id}.${timestamp}.`)
  const signed = new Uint8Array(prefix.length + body.length)
  signed.set(prefix)
  signed.set(body, prefix.length)
  for (const candidate of signatures.split(' ')) {
    const [version, value] = candidate.split(',')
    const signature = version === 'v1' && value ? decodeBase64(value) : undefined
    // subtle.verify compares in constant time.
    if (signature && (await crypto.subtle.verify('HMAC', key, signature, signed))) {
      try {
        return JSON.parse(new TextDecoder().decode(body)) as WebhookEvent
      } catch (cause) {
        throw new WebhookVerificationError('The webhook body is not JSON', {
          code: 'WEBHOOK_INVALID',
          cause,
        })
      }
    }
  }
  throw fail('No webhook-signature matches the body with this secret')
}
