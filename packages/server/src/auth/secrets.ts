import { sha256 } from '@oslojs/crypto/sha2'
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding'

const encoder = new TextEncoder()
const CHECKSUM_LENGTH = 6

const random = (bytes: number) => crypto.getRandomValues(new Uint8Array(bytes))

/**
 * A new secret with 160 random bits, its type prefix (`psk_live_`, `pss_`, …) and a checksum, so
 * a mistyped or truncated secret is refused without a database look-up.
 *
 * @example
 * ```ts
 * const key = generateSecret('psk_live_') // 'psk_live_4f…7c2kqa'
 * hasValidChecksum(key, 'psk_live_') // true
 * ```
 */
export function generateSecret(prefix: string): string {
  const body = encodeBase32LowerCaseNoPadding(random(20))
  return `${prefix}${body}${checksum(prefix + body)}`
}

/** Whether `secret` has the given prefix and a checksum matching its body. */
export function hasValidChecksum(secret: string, prefix: string): boolean {
  if (!secret.startsWith(prefix) || secret.length !== prefix.length + 32 + CHECKSUM_LENGTH) {
    return false
  }
  const body = secret.slice(0, -CHECKSUM_LENGTH)
  return secret.slice(-CHECKSUM_LENGTH) === checksum(body)
}

/**
 * What is stored instead of a secret: its SHA-256 in hex. Secrets are 160-bit random values, so a
 * fast hash is enough (unlike passwords); a leaked table reveals no usable secret.
 */
export function hashSecret(secret: string): string {
  return encodeHexLowerCase(sha256(encoder.encode(secret)))
}

/** A one-time code for emails: 128 random bits, lower-case base32. */
export function generateEmailToken(): string {
  return encodeBase32LowerCaseNoPadding(random(16))
}

function checksum(value: string) {
  return encodeBase32LowerCaseNoPadding(sha256(encoder.encode(value))).slice(0, CHECKSUM_LENGTH)
}
