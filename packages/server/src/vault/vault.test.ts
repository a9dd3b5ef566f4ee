import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../logging/logger.ts'
import { loadKeyring } from './keyring.ts'
import { createVault, generateKeyEntry, parseKeyring, VaultError } from './vault.ts'

const key = (fill: number) => new Uint8Array(32).fill(fill)
const vault = createVault([{ id: 'k1', key: key(1) }])
const context = 'connected_account:acc_1:ws_1:access_token'

describe('the vault', () => {
  it('opens what it sealed, in the same context', () => {
    const sealed = vault.seal('ya29.a0AfH6SMB-token', context)
    expect(sealed).toMatch(/^v1\.k1\.[\w-]{16}\.[\w-]+$/)
    expect(sealed).not.toContain('ya29')
    expect(vault.open(sealed, context)).toBe('ya29.a0AfH6SMB-token')
  })

  it('seals the same secret differently every time (random nonce)', () => {
    expect(vault.seal('same', context)).not.toBe(vault.seal('same', context))
  })

  it('refuses a ciphertext copied to another row or tenant', () => {
    const sealed = vault.seal('secret', context)
    expect(() => vault.open(sealed, 'connected_account:acc_2:ws_1:access_token')).toThrow(
      VaultError,
    )
    expect(() => vault.open(sealed, 'connected_account:acc_1:ws_2:access_token')).toThrow(
      VaultError,
    )
    expect(() => vault.open(sealed, 'connected_account:acc_1:ws_1:refresh_token')).toThrow(
      VaultError,
    )
  })

  it('refuses a tampered envelope', () => {
    const sealed = vault.seal('secret', context)
    const [version, id, nonce, body] = sealed.split('.') as [string, string, string, string]
    const bytes = Buffer.from(body, 'base64url')
    bytes[0] = (bytes[0] ?? 0) ^ 1
    expect(() =>
      vault.open([version, id, nonce, bytes.toString('base64url')].join('.'), context),
    ).toThrow(/tampered/)
    expect(() => vault.open(`${version}.${id}.${nonce}.${body.slice(0, 10)}`, context)).toThrow(
      VaultError,
    )
    expect(() => vault.open('plaintext-token', context)).toThrow(/Not a vault envelope/)
  })

  it('opens envelopes of older keys after a rotation and marks them stale', () => {
    const sealedWithOld = vault.seal('secret', context)
    const rotated = createVault([
      { id: 'k2', key: key(2) },
      { id: 'k1', key: key(1) },
    ])
    expect(rotated.open(sealedWithOld, context)).toBe('secret')
    expect(rotated.isStale(sealedWithOld)).toBe(true)
    const resealed = rotated.seal('secret', context)
    expect(rotated.isStale(resealed)).toBe(false)
    expect(() => vault.open(resealed, context)).toThrow(/key "k2", which is not in the keyring/)
  })
})

describe('keyrings', () => {
  it('parse from ENCRYPTION_KEYS, newest first', () => {
    const keyring = parseKeyring(`${generateKeyEntry('new')}, ${generateKeyEntry('old')}`)
    expect(keyring.map((entry) => entry.id)).toEqual(['new', 'old'])
  })

  it.each([
    ['', 'at least one key'],
    ['nokey', 'must be <id>:<base64 key>'],
    ['k1:c2hvcnQ=', '32 bytes'],
    [
      `k1:${Buffer.alloc(32).toString('base64')},k1:${Buffer.alloc(32).toString('base64')}`,
      'unique',
    ],
  ])('refuse %j', (value, message) => {
    expect(() => parseKeyring(value)).toThrow(message)
  })

  it('come from a key file made once in the data folder when none is configured', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'post-scheduler-keys-'))
    try {
      const logger = createLogger({ logLevel: 'silent', logFormat: 'json' })
      const first = await loadKeyring({ encryptionKeys: undefined, dataDir }, logger)
      const second = await loadKeyring({ encryptionKeys: undefined, dataDir }, logger)
      expect(second).toEqual(first)
      expect((await stat(join(dataDir, 'encryption-keys'))).mode & 0o777).toBe(0o600)
      expect(await readFile(join(dataDir, 'encryption-keys'), 'utf8')).toMatch(/^dev1:/)
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
