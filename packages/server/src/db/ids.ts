import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding'

/**
 * The random part of every identifier {@link generateId} makes: 128 bits in lower-case base32
 * without padding, 26 characters. Routes check ids against it before any query.
 */
export const ID_RANDOM_PATTERN = '[a-z2-7]{26}'

/**
 * A new identifier such as `ws_3k9x…`: a type prefix and 128 random bits in lower-case base32.
 *
 * @example
 * ```ts
 * generateId('prof') // 'prof_mzxw6ytboi2dkmzvgq3tqnrvhe2a'
 * ```
 */
export function generateId(prefix: string): string {
  return `${prefix}_${encodeBase32LowerCaseNoPadding(crypto.getRandomValues(new Uint8Array(16)))}`
}
