import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import http, { type IncomingMessage } from 'node:http'
import https from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import ipaddr from 'ipaddr.js'

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

/** Which addresses a fetch may connect to. */
export interface AddressPolicy {
  /** Private networks (CIDR) allowed anyway, e.g. an internal CDN. */
  allowedNetworks: string[]
}

/**
 * Whether an address is one a server-side fetch may reach: public unicast only. Loopback, private
 * (RFC 1918, unique local), link-local (cloud metadata at 169.254.169.254), carrier-grade NAT,
 * multicast, reserved and documentation ranges, and IPv6 forms embedding an IPv4 address
 * (IPv4-mapped, NAT64, 6to4, Teredo) are refused — the threat is SSRF: a URL that makes this
 * server reach into its own network.
 *
 * @example
 * ```ts
 * isAllowedAddress('::ffff:127.0.0.1', { allowedNetworks: [] }) // false
 * ```
 */
export function isAllowedAddress(address: string, policy: AddressPolicy): boolean {
  if (!ipaddr.isValid(address)) return false
  // process() turns IPv4-mapped IPv6 (::ffff:7f00:1) into the IPv4 address it carries.
  const parsed = ipaddr.process(address)
  for (const network of policy.allowedNetworks) {
    const [range, bits] = ipaddr.parseCIDR(network)
    if (range.kind() === parsed.kind() && parsed.match(range, bits)) return true
  }
  return parsed.range() === 'unicast'
}

const refused = (host: string, address: string) =>
  new RemoteFetchError(
    'address_not_allowed',
    `${host.replace(/^\[|\]$/g, '') === address ? address : `${host} resolves to ${address}, which`} is a private, loopback or reserved address; import from a public URL`,
  )

/**
 * A DNS look-up that refuses disallowed addresses. It is what the socket connects to, so a name
 * that resolves differently on a second look-up (DNS rebinding) cannot slip through.
 */
function guardedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 4)
      const list = addresses as unknown as LookupAddress[]
      const bad = list.find((entry) => !isAllowedAddress(entry.address, policy))
      if (bad) return callback(refused(hostname, bad.address), '', 4)
      const [first] = list
      if (!first) return callback(new Error(`${hostname} has no address`), '', 4)
      if ((options as { all?: boolean }).all) {
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list)
      }
      callback(null, first.address, first.family)
    })
  }
}

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
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (isIP(host) && !isAllowedAddress(host, policy)) throw refused(url.hostname, host)
  return url
}

function get(url: URL, policy: AddressPolicy, signal: AbortSignal): Promise<IncomingMessage> {
  const client = url.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const request = client.get(url, {
      lookup: guardedLookup(policy),
      agent: false,
      signal,
      headers: { 'user-agent': 'PostScheduler-MediaImport/1', accept: 'image/*, video/*' },
    })
    request.on('socket', (socket) => {
      socket.on('connect', () => {
        // The address actually connected to, whatever resolved it (a literal IP, a proxy, a hosts file).
        const address = socket.remoteAddress
        if (address && !isAllowedAddress(address, policy)) {
          request.destroy(refused(url.hostname, address))
        }
      })
    })
    request.on('response', resolve)
    request.on('error', (error) => {
      if (error instanceof RemoteFetchError) return reject(error)
      const cause = (error as { cause?: unknown }).cause
      if (cause instanceof RemoteFetchError) return reject(cause)
      if (signal.aborted) {
        return reject(
          new RemoteFetchError('timeout', `${url.host} did not send the file in time`, {
            cause: error,
          }),
        )
      }
      reject(
        new RemoteFetchError('network', `Could not reach ${url.host}: ${error.message}`, {
          cause: error,
        }),
      )
    })
  })
}
