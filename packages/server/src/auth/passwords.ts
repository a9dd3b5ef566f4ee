import { hash, verify } from '@node-rs/argon2'

/** Argon2id at OWASP's minimum recommendation (19 MiB, 2 passes, 1 lane). */
const ARGON2_OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

const COMMON_PASSWORDS = new Set([
  'password123',
  'password1234',
  '1234567890',
  '12345678910',
  'qwertyuiop',
  'iloveyou123',
  'letmein1234',
  'administrator',
  'welcome1234',
  'passw0rd123',
  '0123456789',
  '1q2w3e4r5t',
  'qwerty12345',
  'abcdefghij',
])

/** Why a password is refused, or `undefined` when it is acceptable. */
export function checkPasswordStrength(password: string, email?: string): string | undefined {
  if (password.length < 10) return 'must be at least 10 characters long'
  if (password.length > 256) return 'must be at most 256 characters long'
  if (new Set(password).size < 4) return 'must use more than a few distinct characters'
  if (COMMON_PASSWORDS.has(password.toLowerCase())) return 'is too common'
  const localPart = email?.split('@')[0]?.toLowerCase()
  if (localPart && localPart.length >= 4 && password.toLowerCase().includes(localPart)) {
    return 'must not contain your email address'
  }
  return undefined
}

/** Hashes a password with Argon2id; the result is a PHC string with its parameters. */
export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS)
}

let dummyHash: Promise<string> | undefined

/**
 * Checks a password against a stored hash. With no hash (unknown account) it verifies against a
 * dummy hash anyway, so both answers take the same time and reveal nothing.
 */
export async function verifyPassword(storedHash: string | undefined, password: string) {
  dummyHash ??= hashPassword('not the password of anyone')
  const target = storedHash ?? (await dummyHash)
  const matches = await verify(target, password).catch(() => false)
  return storedHash !== undefined && matches
}
