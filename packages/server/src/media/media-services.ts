import { join } from 'node:path'
import type { Config } from '../config/config.ts'
import { type MediaReferences, tableMediaReferences } from './references.ts'
import {
  createLocalStorage,
  createS3Storage,
  createURLSigner,
  type MediaStorage,
  type URLSigner,
} from './storage.ts'

/** What the media feature needs at run time, built once at start. */
export interface MediaServices {
  storage: MediaStorage
  /** Signs and checks the local driver's `/media-files` URLs. */
  signer: URLSigner
  references: MediaReferences
  /** Where uploads are written while they arrive and are inspected. */
  temporaryDir: string
}

/**
 * Builds the media services from configuration: the storage driver (`MEDIA_STORAGE`), a URL
 * signer derived from the encryption keys, and the references check.
 *
 * @example
 * ```ts
 * const media = createMediaServices({ config, keys: keyring.map((entry) => entry.key) })
 * ```
 */
export function createMediaServices(options: {
  config: Pick<Config, 'media' | 'publicURL'>
  keys: Uint8Array[]
  references?: MediaReferences
}): MediaServices {
  const { media, publicURL } = options.config
  const signer = createURLSigner(options.keys)
  const storage =
    media.storage === 's3' && media.s3
      ? createS3Storage(media.s3)
      : createLocalStorage({ root: media.localDir, publicURL, signer })
  return {
    storage,
    signer,
    references: options.references ?? tableMediaReferences,
    // Beside the local driver's files, so a finished upload is moved, not copied.
    temporaryDir: join(media.localDir, '.tmp'),
  }
}
