import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Config } from '../config/config.ts'
import { StartupError } from '../errors/startup.ts'
import type { Logger } from '../logging/logger.ts'
import { generateKeyEntry, type Keyring, parseKeyring } from './vault.ts'

/**
 * The keyring from `ENCRYPTION_KEYS`, or — in development, when it is unset — from a key file in
 * the data folder, generated at the first start (with a warning: every process that reads the
 * secrets needs the same keys, and losing the file loses them).
 */
export async function loadKeyring(
  config: Pick<Config, 'encryptionKeys' | 'dataDir'>,
  logger: Logger,
): Promise<Keyring> {
  if (config.encryptionKeys) return config.encryptionKeys
  const file = join(config.dataDir, 'encryption-keys')
  if (!existsSync(file)) {
    await mkdir(config.dataDir, { recursive: true })
    await writeFile(file, `${generateKeyEntry('dev1')}\n`, { mode: 0o600 })
  }
  logger.warn(
    { file },
    'ENCRYPTION_KEYS is not set: platform tokens are encrypted with a key kept in the data folder (development only; set ENCRYPTION_KEYS in production and back it up)',
  )
  try {
    return parseKeyring(await readFile(file, 'utf8'))
  } catch (error) {
    throw new StartupError(`The key file ${file} is damaged: ${(error as Error).message}`)
  }
}
