import type { IncomingMessage } from 'node:http'
import {
  AddressNotAllowedError,
  type AddressPolicy,
  assertAllowedHost,
  guardedRequest,
} from '../outbound/guard.ts'

/** Why a remote fetch was refused or failed; the message says what to change. */
export class RemoteFetchError extends Error {
  override name = 'RemoteFetchError'
  readonly reason: RemoteFetchFailure
  constructor(reason: RemoteFetchFailure, message: string, options?: ErrorOptions) {
    super(message, options)
    this.reason = reason
  }
}

/** The kinds of {@link RemoteFetchError}. */
export type RemoteFetchFailure =
  | 'invalid_url'
  | 'address_not_allowed'
  | 'too_many_redirects'
  | 'http_error'
  | 'too_large'
  | 'timeout'
  | 'network'

export { type AddressPolicy, isAllowedAddress } from '../outbound/guard.ts'

const refused = (error: AddressNotAllowedError) =>
  new RemoteFetchError('address_not_allowed', `${error.message}; import from a public URL`, {
    cause: error,
  })

/** What {@link fetchRemote} hands back: the final URL and the open response body. */
export interface RemoteResponse {
  url: string
  contentType: string | undefined
  contentLength: number | undefined
  body: IncomingMessage
}

const MAX_REDIRECTS = 5

/**
 * GETs a URL from the server side with SSRF protection: http(s) only, no credentials in the URL,
 * the host checked in every notation (the WHATWG parser normalises `2130706433`, `0x7f.1`,
 * `[::ffff:7f00:1]`…), every DNS answer checked before connecting, the connected address checked
 * again, each redirect checked the same way (at most 5), and the whole exchange bounded by
 * `signal`.
 *
 * @throws {RemoteFetchError}
 * @example
 * ```ts
 * const response = await fetchRemote('https://cdn.example.com/a.jpg', { allowedNetworks: [] }, AbortSignal.timeout(60_000))
 * ```
 */
export async function fetchRemote(
  url: string,
  policy: AddressPolicy,
  signal: AbortSignal,
): Promise<RemoteResponse> {
  let current = url
  for (let hop = 0; hop <= MAX_REDIRECTS; hop += 1) {
    const target = checkURL(current, policy)
    const response = await get(target, policy, signal)
    const status = response.statusCode ?? 0
    if (status >= 300 && status < 400 && response.headers.location) {
      response.resume()
      current = new URL(response.headers.location, target).toString()
      continue
    }
    if (status < 200 || status >= 300) {
      response.resume()
      throw new RemoteFetchError(
        'http_error',
        `${target.host} answered ${status} for ${target.pathname}; check that the URL is public and points at the file itself`,
      )
    }
    const length = response.headers['content-length']
    return {
      url: target.toString(),
      contentType: response.headers['content-type'],
      contentLength: length === undefined ? undefined : Number(length),
      body: response,
    }
  }
  throw new RemoteFetchError(
    'too_many_redirects',
    `The URL redirects more than ${MAX_REDIRECTS} times; give the final URL of the file`,
  )
}

function checkURL(value: string, policy: AddressPolicy): URL {
  if (!URL.canParse(value)) throw new RemoteFetchError('invalid_url', `"${value}" is not a URL`)
  const url = new URL(value)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RemoteFetchError(
      'invalid_url',
      `Only http and https URLs can be imported, not ${url.protocol}`,
    )
  }
  if (url.username || url.password) {
    throw new RemoteFetchError('invalid_url', 'URLs with credentials cannot be imported')
  }
  try {
    assertAllowedHost(url, policy)
  } catch (error) {
    throw error instanceof AddressNotAllowedError ? refused(error) : error
  }
  return url
}

async function get(url: URL, policy: AddressPolicy, signal: AbortSignal) {
  try {
    return await guardedRequest(url, {
      method: 'GET',
      headers: { 'user-agent': 'PostScheduler-MediaImport/1', accept: 'image/*, video/*' },
      policy,
      signal,
    })
  } catch (error) {
    if (error instanceof AddressNotAllowedError) throw refused(error)
    if (signal.aborted) {
      throw new RemoteFetchError('timeout', `${url.host} did not send the file in time`, {
        cause: error,
      })
    }
    throw new RemoteFetchError(
      'network',
      `Could not reach ${url.host}: ${(error as Error).message}`,
      {
        cause: error,
      },
    )
  }
}
