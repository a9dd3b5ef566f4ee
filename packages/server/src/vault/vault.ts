import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

/** One encryption key of the keyring. */
export interface VaultKey {
  /** Short name carried in every envelope, so the right key opens it after rotations. */
  id: string
  /** 32 random bytes (AES-256). */
  key: Uint8Array
}

/** The keys the vault knows; the first one seals, all of them open. */
export type Keyring = [VaultKey, ...VaultKey[]]

/** An envelope that cannot be opened: wrong key, wrong context, or tampered with. */
export class VaultError extends Error {
  override name = 'VaultError'
}

/**
 * Encrypts secrets (platform tokens) at rest. AES-256-GCM with a random 96-bit nonce per
 * envelope. The envelope is `v1.<keyId>.<nonce>.<ciphertext+tag>` (base64url); the `context` is
 * authenticated but not stored: pass what binds the secret to its place (table, row, tenant,
 * column), so a ciphertext copied to another row or tenant fails to open.
 */
export interface Vault {
  /** Id of the key new envelopes are sealed with. */
  readonly primaryKeyId: string
  seal(plaintext: string, context: string): string
  /** @throws {VaultError} when the envelope is malformed, its key unknown, or it fails authentication. */
  open(envelope: string, context: string): string
  /** Whether an envelope was sealed with a key other than the primary (and should be re-sealed). */
  isStale(envelope: string): boolean
}

const VERSION = 'v1'
const NONCE_BYTES = 12

/**
 * Creates a vault over a keyring.
 *
 * @example
 * ```ts
 * const vault = createVault(parseKeyring(process.env.ENCRYPTION_KEYS!))
 * const sealed = vault.seal(accessToken, `connected_account:${accountId}:${workspaceId}:access_token`)
 * vault.open(sealed, `connected_account:${accountId}:${workspaceId}:access_token`) // accessToken
 * ```
 */
export function createVault(keyring: Keyring): Vault {
  const keys = new Map(keyring.map((entry) => [entry.id, entry.key]))
  const primary = keyring[0]
  return {
    primaryKeyId: primary.id,
    seal(plaintext, context) {
      const nonce = randomBytes(NONCE_BYTES)
      const cipher = createCipheriv('aes-256-gcm', primary.key, nonce)
      cipher.setAAD(Buffer.from(context, 'utf8'))
      const body = Buffer.concat([
        cipher.update(plaintext, 'utf8'),
        cipher.final(),
        cipher.getAuthTag(),
      ])
      return [VERSION, primary.id, nonce.toString('base64url'), body.toString('base64url')].join(
        '.',
      )
    },
    open(envelope, context) {
      const [version, keyId, nonce, body] = envelope.split('.')
      if (version !== VERSION || !keyId || !nonce || !body) {
        throw new VaultError('Not a vault envelope (expected v1.<keyId>.<nonce>.<ciphertext>)')
      }
      const key = keys.get(keyId)
      if (!key)
        throw new VaultError(
          `The envelope was sealed with key "${keyId}", which is not in the keyring`,
        )
      const sealed = Buffer.from(body, 'base64url')
      if (sealed.length < 16) throw new VaultError('The envelope is truncated')
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'))
        decipher.setAAD(Buffer.from(context, 'utf8'))
        decipher.setAuthTag(sealed.subarray(sealed.length - 16))
        return Buffer.concat([
          decipher.update(sealed.subarray(0, sealed.length - 16)),
          decipher.final(),
        ]).toString('utf8')
      } catch (error) {
        throw new VaultError(
          'The envelope does not open: tampered with, or sealed for another context',
          { cause: error },
        )
      }
    },
    isStale(envelope) {
      return envelope.split('.')[1] !== primary.id
    },
  }
}

/**
 * Parses `ENCRYPTION_KEYS`: comma-separated `id:base64key` entries, newest first, each key 32
 * bytes. Keep old keys listed after the new one until `rotate-keys` has re-sealed everything.
 *
 * @throws {Error} saying what is wrong, without echoing key material.
 * @example
 * ```ts
 * parseKeyring('k2:Zm9v…,k1:YmFy…')
 * ```
 */
export function parseKeyring(value: string): Keyring {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry, index) => {
      const separator = entry.indexOf(':')
      const id = entry.slice(0, separator)
      if (separator <= 0 || !/^[A-Za-z0-9_-]{1,32}$/.test(id)) {
        throw new Error(
          `entry ${index + 1} must be <id>:<base64 key> with a short id of letters, digits, _ or -`,
        )
      }
      const key = Buffer.from(entry.slice(separator + 1), 'base64')
      if (key.length !== 32) {
        throw new Error(
          `key "${id}" must be 32 bytes in base64 (openssl rand -base64 32), not ${key.length}`,
        )
      }
      return { id, key: new Uint8Array(key) }
    })
  const [first, ...rest] = entries
  if (!first) throw new Error('must list at least one key')
  if (new Set(entries.map((entry) => entry.id)).size !== entries.length)
    throw new Error('key ids must be unique')
  return [first, ...rest]
}

/** A new random key entry for a keyring, as `id:base64key`. */
export function generateKeyEntry(id = `k${Date.now().toString(36)}`): string {
  return `${id}:${randomBytes(32).toString('base64')}`
}
