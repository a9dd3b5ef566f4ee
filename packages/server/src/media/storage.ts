import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { copyFile, mkdir, rename, rm, rmdir, stat } from 'node:fs/promises'
import { dirname, join, resolve, sep } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { S3Client } from '@aws-sdk/client-s3'

/** Where media bytes live. Keys are `/`-separated paths made by the server, never by callers. */
export interface MediaStorage {
  readonly driver: 'local' | 's3'
  /** Stores the file at `path` (a finished temporary file) under `key`. */
  putFile(key: string, path: string, options: { contentType: string }): Promise<void>
  /** Opens the bytes of `key`, or of the inclusive byte range `start`–`end`. */
  open(key: string, range?: { start: number; end: number }): Promise<Readable>
  /** Copies the bytes of `key` to a local file. */
  download(key: string, path: string): Promise<void>
  /** The size of `key`, or `undefined` when it does not exist. */
  sizeOf(key: string): Promise<number | undefined>
  /** The file of `key` on this machine's disk, for drivers that have one. */
  localPath?(key: string): string
  /** Deletes `key`; deleting a missing key is not an error. */
  delete(key: string): Promise<void>
  /**
   * A URL anyone holding it can fetch `key` from until it expires: for platforms that pull media
   * (Instagram, TikTok, Facebook) and for browsers showing a preview.
   */
  signedURL(
    key: string,
    options: { expiresInSeconds: number; contentType: string; filename?: string | undefined },
  ): Promise<string>
}

const SAFE_KEY = /^[a-z0-9_-]+(\/[a-z0-9_.-]+)*$/

function assertKey(key: string) {
  // Keys are made by the server; this guards the local driver against a path leaving its folder.
  if (!SAFE_KEY.test(key) || key.includes('..')) throw new Error(`Invalid storage key "${key}"`)
}

/**
 * Signs and verifies the local driver's media URLs: `HMAC-SHA256(key \n expires)`, with a secret
 * derived from the server's encryption keys so every process of a deployment agrees. Verification
 * accepts any key of the keyring, so URLs survive a key rotation until they expire.
 */
export interface URLSigner {
  sign(key: string, expiresAt: number): string
  verify(key: string, expiresAt: number, signature: string): boolean
}

/**
 * Derives a {@link URLSigner} from the encryption keyring (newest first).
 *
 * @example
 * ```ts
 * const signer = createURLSigner(keyring.map((entry) => entry.key))
 * const signature = signer.sign('media/ws_1/med_1', expiresAt)
 * ```
 */
export function createURLSigner(keys: Uint8Array[]): URLSigner {
  const secrets = keys.map((key) =>
    Buffer.from(hkdfSync('sha256', key, 'post-scheduler', 'media-url-signing', 32)),
  )
  const [current] = secrets
  if (!current) throw new Error('createURLSigner needs at least one key')
  const mac = (secret: Buffer, key: string, expiresAt: number) =>
    createHmac('sha256', secret).update(`${key}\n${expiresAt}`).digest()
  return {
    sign: (key, expiresAt) => mac(current, key, expiresAt).toString('base64url'),
    verify(key, expiresAt, signature) {
      const given = Buffer.from(signature, 'base64url')
      return secrets.some((secret) => {
        const expected = mac(secret, key, expiresAt)
        return given.length === expected.length && timingSafeEqual(given, expected)
      })
    },
  }
}

/** Path of the public route that serves the local driver's signed URLs. */
export const MEDIA_FILES_PATH = '/media-files'

/**
 * Media on local disk under `root` (by default `<DATA_DIR>/media`). Signed URLs point at this
 * server's `/media-files/{key}` route, which checks the signature; nothing else of the folder is
 * ever served.
 *
 * @example
 * ```ts
 * const storage = createLocalStorage({ root: '/var/lib/post-scheduler/media', publicURL, signer })
 * ```
 */
export function createLocalStorage(options: {
  root: string
  publicURL: string
  signer: URLSigner
}): MediaStorage {
  const root = resolve(options.root)
  const pathOf = (key: string) => {
    assertKey(key)
    const path = resolve(root, ...key.split('/'))
    if (!path.startsWith(root + sep)) throw new Error(`Invalid storage key "${key}"`)
    return path
  }
  return {
    driver: 'local',
    async putFile(key, source) {
      const target = pathOf(key)
      await mkdir(dirname(target), { recursive: true })
      try {
        await rename(source, target)
      } catch (error) {
        // Another file system (a temporary folder elsewhere): copy instead of moving.
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error
        await copyFile(source, target)
        await rm(source, { force: true })
      }
    },
    async open(key, range) {
      const path = pathOf(key)
      await stat(path)
      return createReadStream(path, range)
    },
    async download(key, path) {
      await pipeline(createReadStream(pathOf(key)), createWriteStream(path))
    },
    async sizeOf(key) {
      try {
        return (await stat(pathOf(key))).size
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw error
      }
    },
    localPath: pathOf,
    async delete(key) {
      const path = pathOf(key)
      await rm(path, { force: true })
      // Empty folders of deleted media and uploads go too (rmdir refuses non-empty ones).
      for (let folder = dirname(path); folder.startsWith(root + sep); folder = dirname(folder)) {
        if (
          !(await rmdir(folder).then(
            () => true,
            () => false,
          ))
        )
          break
      }
    },
    async signedURL(key, { expiresInSeconds }) {
      assertKey(key)
      const expires = Math.floor(Date.now() / 1000) + expiresInSeconds
      const signature = options.signer.sign(key, expires)
      return `${options.publicURL}${MEDIA_FILES_PATH}/${key}?expires=${expires}&signature=${signature}`
    },
  }
}

/** Where an S3-compatible store is and how to sign in to it. */
export interface S3StorageOptions {
  bucket: string
  /** For stores other than AWS (MinIO, R2, Ceph, s3rver…); AWS itself when absent. */
  endpoint?: string | undefined
  region: string
  /** Taken from the AWS default chain (environment, profile, instance role) when absent. */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined
  /** `bucket` in the path rather than the host name; most non-AWS stores need it. */
  forcePathStyle: boolean
  /** Prepended to every key, e.g. `post-scheduler/`. */
  prefix?: string | undefined
}

/**
 * Media in any S3-compatible bucket. Signed URLs are the store's own presigned GET URLs.
 *
 * @example
 * ```ts
 * const storage = createS3Storage({ bucket: 'media', endpoint: 'http://minio:9000', region: 'us-east-1', forcePathStyle: true })
 * ```
 */
export function createS3Storage(options: S3StorageOptions): MediaStorage {
  // The AWS SDK is large: load it only when this driver is in use, not at every start.
  const sdk = Promise.all([
    import('@aws-sdk/client-s3'),
    import('@aws-sdk/s3-request-presigner'),
  ]).then(([s3, presigner]) => ({
    ...s3,
    getSignedUrl: presigner.getSignedUrl,
    client: new s3.S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials: options.credentials,
      // Many S3-compatible stores reject the SDK's newer default checksum headers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }) as S3Client,
  }))
  // Each method awaits it (and reports a failure); this only keeps an unused one from crashing.
  sdk.catch(() => {})
  const Bucket = options.bucket
  const objectKey = (key: string) => {
    assertKey(key)
    return `${options.prefix ?? ''}${key}`
  }
  const get = async (key: string, range?: { start: number; end: number }) => {
    const { client, GetObjectCommand } = await sdk
    const response = await client.send(
      new GetObjectCommand({
        Bucket,
        Key: objectKey(key),
        Range: range ? `bytes=${range.start}-${range.end}` : undefined,
      }),
    )
    if (!(response.Body instanceof Readable)) throw new Error(`S3 returned no body for ${key}`)
    return response.Body
  }
  return {
    driver: 's3',
    async putFile(key, path, { contentType }) {
      const { client, PutObjectCommand } = await sdk
      const { size } = await stat(path)
      await client.send(
        new PutObjectCommand({
          Bucket,
          Key: objectKey(key),
          Body: createReadStream(path),
          ContentLength: size,
          ContentType: contentType,
        }),
      )
      await rm(path, { force: true })
    },
    open: get,
    async download(key, path) {
      await pipeline(await get(key), createWriteStream(path))
    },
    async sizeOf(key) {
      const { client, HeadObjectCommand } = await sdk
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket, Key: objectKey(key) }))
        return head.ContentLength
      } catch (error) {
        if ((error as { name?: string }).name === 'NotFound') return undefined
        throw error
      }
    },
    async delete(key) {
      const { client, DeleteObjectCommand } = await sdk
      await client.send(new DeleteObjectCommand({ Bucket, Key: objectKey(key) }))
    },
    async signedURL(key, { expiresInSeconds, contentType, filename }) {
      const { client, GetObjectCommand, getSignedUrl } = await sdk
      return getSignedUrl(
        client,
        new GetObjectCommand({
          Bucket,
          Key: objectKey(key),
          ResponseContentType: contentType,
          ResponseContentDisposition: filename
            ? `inline; filename*=UTF-8''${encodeURIComponent(filename)}`
            : undefined,
        }),
        { expiresIn: expiresInSeconds },
      )
    },
  }
}

/** The folder for temporary files of uploads in progress. */
export const temporaryFolder = (dataDir: string) => join(dataDir, 'tmp', 'media')
