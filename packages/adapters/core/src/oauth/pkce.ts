import { sha256 } from '@oslojs/crypto/sha2'
import { encodeBase64urlNoPadding } from '@oslojs/encoding'

function randomToken(bytes: number): string {
  const buffer = new Uint8Array(bytes)
  crypto.getRandomValues(buffer)
  return encodeBase64urlNoPadding(buffer)
}

/**
 * A random `state` for an authorization request (256 bits, base64url). Store it in the user's
 * session and compare it on the callback: it stops login CSRF (an attacker's code injected into
 * the victim's session).
 *
 * @example
 * ```ts
 * const state = generateState()
 * const url = adapter.createAuthorizationURL({ state, codeVerifier })
 * ```
 */
export function generateState(): string {
  return randomToken(32)
}

/**
 * A random PKCE code verifier (RFC 7636; 43 characters of base64url, 256 bits). Keep it server
 * side with the state: it proves the code is redeemed by whoever started the flow, which stops a
 * stolen authorization code from being used.
 *
 * @example
 * ```ts
 * const codeVerifier = generateCodeVerifier()
 * ```
 */
export function generateCodeVerifier(): string {
  return randomToken(32)
}

/**
 * The S256 code challenge of a verifier: base64url(SHA-256(verifier)), no padding.
 *
 * @example
 * ```ts
 * url.searchParams.set('code_challenge', createS256CodeChallenge(codeVerifier))
 * url.searchParams.set('code_challenge_method', 'S256')
 * ```
 */
export function createS256CodeChallenge(codeVerifier: string): string {
  return encodeBase64urlNoPadding(sha256(new TextEncoder().encode(codeVerifier)))
}
