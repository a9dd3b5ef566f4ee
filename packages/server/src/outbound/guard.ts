import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http'
import https from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import ipaddr from 'ipaddr.js'

/** Which addresses a server-side request may connect to. */
export interface AddressPolicy {
  /** Private networks (CIDR) allowed anyway, e.g. an internal CDN or a self-hosted receiver. */
  allowedNetworks: string[]
}

/**
 * Whether an address is one a server-side request may reach: public unicast only. Loopback,
 * private (RFC 1918, unique local), link-local (cloud metadata at 169.254.169.254), carrier-grade
 * NAT, multicast, unspecified, reserved and documentation ranges, and IPv6 forms embedding an IPv4
 * address (IPv4-mapped, NAT64, 6to4, Teredo) are refused unless listed in `allowedNetworks` — the
 * threat is SSRF: a URL that makes this server reach into its own network.
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

/** A request was refused because its host is, or resolves to, an address the policy refuses. */
export class AddressNotAllowedError extends Error {
  override name = 'AddressNotAllowedError'
  /** The host as the URL names it. */
  readonly host: string
  /** The refused address. */
  readonly address: string
  constructor(host: string, address: string) {
    const bare = host.replace(/^\[|\]$/g, '')
    super(
      `${bare === address ? address : `${host} resolves to ${address}, which`} is a private, loopback or reserved address`,
    )
    this.host = host
    this.address = address
  }
}

/**
 * Refuses a URL whose host is a literal IP address the policy refuses. The WHATWG parser has
 * already normalised every notation (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`,
 * `[::ffff:7f00:1]`…) to one form, so one check covers them all. Names are checked when resolved.
 *
 * @throws {AddressNotAllowedError}
 */
export function assertAllowedHost(url: URL, policy: AddressPolicy) {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (isIP(host) && !isAllowedAddress(host, policy)) {
    throw new AddressNotAllowedError(url.hostname, host)
  }
}

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
      if (bad) return callback(new AddressNotAllowedError(hostname, bad.address), '', 4)
      const [first] = list
      if (!first) return callback(new Error(`${hostname} has no address`), '', 4)
      if ((options as { all?: boolean }).all) {
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list)
      }
      callback(null, first.address, first.family)
    })
  }
}

/** One request of {@link guardedRequest}. */
export interface GuardedRequestOptions {
  method: 'GET' | 'POST'
  headers: OutgoingHttpHeaders
  /** The exact bytes to send (POST). */
  body?: string | Uint8Array | undefined
  policy: AddressPolicy
  signal: AbortSignal
}

/**
 * Sends one HTTP(S) request that can only reach allowed addresses: a literal host is checked, every
 * DNS answer is checked before connecting, and the address the socket actually connected to is
 * checked again before a byte is sent (whatever resolved it: a hosts file, a proxy). Redirects are
 * not followed: callers follow them hop by hop through this function, so each hop is checked.
 *
 * @returns the response, its body unread.
 * @throws {AddressNotAllowedError} for a refused address; other errors as Node raises them.
 * @example
 * ```ts
 * const response = await guardedRequest(new URL('https://example.com/hook'), {
 *   method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}',
 *   policy: { allowedNetworks: [] }, signal: AbortSignal.timeout(10_000),
 * })
 * ```
 */
export function guardedRequest(url: URL, options: GuardedRequestOptions): Promise<IncomingMessage> {
  assertAllowedHost(url, options.policy)
  const client = url.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const request = client.request(url, {
      method: options.method,
      headers: options.headers,
      lookup: guardedLookup(options.policy),
      agent: false,
      signal: options.signal,
    })
    request.on('socket', (socket) => {
      socket.once('connect', () => {
        // The address actually connected to, whatever resolved it.
        const address = socket.remoteAddress
        if (address && !isAllowedAddress(address, options.policy)) {
          request.destroy(new AddressNotAllowedError(url.hostname, address))
        }
      })
    })
    request.on('response', resolve)
    request.on('error', (error) => {
      const cause = (error as { cause?: unknown }).cause
      reject(cause instanceof AddressNotAllowedError ? cause : error)
    })
    request.end(options.body)
  })
}
