import { describe, expect, it } from 'vitest'
import { createS256CodeChallenge, generateCodeVerifier, generateState } from './pkce.ts'

describe('PKCE and state', () => {
  it('computes the S256 challenge of RFC 7636 appendix B', () => {
    expect(createS256CodeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    )
  })

  it('generates verifiers of 43 unreserved characters, never twice the same', () => {
    const verifiers = new Set(Array.from({ length: 50 }, generateCodeVerifier))
    expect(verifiers.size).toBe(50)
    for (const verifier of verifiers) expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('generates unguessable states', () => {
    const first = generateState()
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(generateState()).not.toBe(first)
  })
})
