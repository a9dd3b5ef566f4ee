import type { IncomingMessage } from 'node:http'
import { AddressNotAllowedError, type AddressPolicy, guardedRequest } from '../outbound/guard.ts'
import type { WebhookHeaders } from './signing.ts'

/** How much of a receiver's answer is kept in the delivery log. */
export const RESPONSE_BODY_LIMIT_BYTES = 2048
const MAX_REDIRECTS = 5

/** What one delivery attempt got. */
export interface SendResult {
  /** The final HTTP status; null when no answer came. */
  statusCode: number | null
  /** The start of the answer's body (at most {@link RESPONSE_BODY_LIMIT_BYTES}). */
  responseBody: string | null
  /** Why no acceptable answer came: refused address, timeout, network error, redirect loop. */
  error: string | null
  durationMs: number
}

/**
 * POSTs a signed webhook: the exact `body` with its Standard Webhooks headers, through the SSRF
 * guard (every address checked, including the one actually connected to). Redirects are followed
 * by sending the same request again to the new location (at most 5), each hop checked like the
 * first. The whole exchange is bounded by `timeoutSeconds`. Never throws: every outcome is a
 * {@link SendResult} for the delivery log.
 *
 * @example
 * ```ts
 * const result = await sendWebhook(endpoint.url, { headers, body }, { policy: { allowedNetworks: [] }, timeoutSeconds: 15 })
 * if (result.statusCode !== null && result.statusCode < 300) console.log('delivered')
 * ```
 */
export async function sendWebhook(
  url: string,
  message: { headers: WebhookHeaders; body: string },
  options: { policy: AddressPolicy; timeoutSeconds: number },
): Promise<SendResult> {
  const started = performance.now()
  const signal = AbortSignal.timeout(options.timeoutSeconds * 1000)
  const result = (fields: Omit<SendResult, 'durationMs'>): SendResult => ({
    ...fields,
    durationMs: Math.round(performance.now() - started),
  })
  let target: URL
  try {
    target = new URL(url)
  } catch {
    return result({ statusCode: null, responseBody: null, error: `${url} is not a URL` })
  }
  for (let hop = 0; hop <= MAX_REDIRECTS; hop += 1) {
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      return result({
        statusCode: null,
        responseBody: null,
        error: `Only http and https URLs can receive webhooks, not ${target.protocol}`,
      })
    }
    let response: IncomingMessage
    try {
      response = await guardedRequest(target, {
        method: 'POST',
        headers: {
          ...message.headers,
          'content-type': 'application/json',
          'user-agent': 'PostScheduler-Webhooks/1',
        },
        body: message.body,
        policy: options.policy,
        signal,
      })
    } catch (error) {
      return result({
        statusCode: null,
        responseBody: null,
        error: describe(error, signal, target),
      })
    }
    const status = response.statusCode ?? 0
    const location = response.headers.location
    if (status >= 300 && status < 400 && location) {
      response.resume()
      target = new URL(location, target)
      continue
    }
    const body = await readStart(response, signal).catch(() => '')
    return result({ statusCode: status, responseBody: body, error: null })
  }
  return result({
    statusCode: null,
    responseBody: null,
    error: `The URL redirects more than ${MAX_REDIRECTS} times; give the final URL`,
  })
}

function describe(error: unknown, signal: AbortSignal, target: URL) {
  if (error instanceof AddressNotAllowedError) {
    return `${error.message}; deliveries go to public addresses only (see WEBHOOK_ALLOWED_NETWORKS)`
  }
  if (signal.aborted) return `${target.host} did not answer in time`
  return `Could not reach ${target.host}: ${(error as Error).message}`
}

/** Reads the start of a response body and drops the rest. */
async function readStart(response: IncomingMessage, signal: AbortSignal): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of response) {
    chunks.push(chunk as Buffer)
    size += (chunk as Buffer).length
    if (size >= RESPONSE_BODY_LIMIT_BYTES || signal.aborted) break
  }
  response.destroy()
  return Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT_BYTES).toString('utf8')
}
