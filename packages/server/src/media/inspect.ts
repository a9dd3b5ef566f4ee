import { createHash, randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileTypeFromFile } from 'file-type'
import type { MediaDetails } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import { MP4ParseError, probeMP4 } from './mp4.ts'

/** sharp is native and sizeable: loaded on the first image, not at every start. */
const loadSharp = () => import('sharp').then((module) => module.default)

/** The media types the server stores, by sniffed MIME type, and the kind each one is. */
export const ACCEPTED_MEDIA_TYPES = {
  'image/jpeg': 'image',
  'image/png': 'image',
  'image/webp': 'image',
  'image/gif': 'gif',
  'video/mp4': 'video',
  'video/quicktime': 'video',
} as const

type AcceptedType = keyof typeof ACCEPTED_MEDIA_TYPES
const ACCEPTED_LIST = 'JPEG, PNG, WebP, GIF, MP4 or MOV'

// Types whose bytes can run as a program somewhere; named so the refusal says why.
const EXECUTABLE_TYPES = new Set([
  'application/x-msdownload',
  'application/vnd.microsoft.portable-executable',
  'application/x-elf',
  'application/x-mach-binary',
  'application/x-sharedlib',
  'application/x-executable',
  'application/java-archive',
  'application/java-vm',
  'application/wasm',
  'application/x-msi',
  'application/vnd.android.package-archive',
])

/** A file ready to store: the bytes at `path` and what they are. */
export interface InspectedMedia {
  path: string
  kind: (typeof ACCEPTED_MEDIA_TYPES)[AcceptedType]
  mimeType: AcceptedType
  sizeBytes: number
  sha256: string
  width: number | undefined
  height: number | undefined
  durationSeconds: number | undefined
  frameRate: number | undefined
  bitRate: number | undefined
  hasAudio: boolean | undefined
  details: Omit<MediaDetails, 'source' | 'sourceURL'>
  /** A small WebP preview of images, to store beside them. */
  thumbnail:
    | { path: string; mimeType: string; sizeBytes: number; width: number; height: number }
    | undefined
}

const unsupported = (detail: string, extensions: Record<string, unknown> = {}) =>
  new ProblemError('UNSUPPORTED_MEDIA', detail, extensions)

/**
 * Finds what a received file really is and prepares the copy to store. The type comes from the
 * bytes (magic numbers), never from the file name or `Content-Type`; SVG, HTML, scripts and
 * executables are refused. Images are decoded with sharp, turned upright by their EXIF
 * orientation and re-encoded without EXIF (GPS), XMP or IPTC metadata when they carry any (PNGs
 * always, losslessly); videos are read with the pure-JavaScript MP4/QuickTime parser and kept
 * byte for byte.
 *
 * @param received the uploaded file; it may be replaced by the cleaned copy (see `path`).
 * @throws {ProblemError} `UNSUPPORTED_MEDIA` saying what the file is and what to send instead.
 * @example
 * ```ts
 * const media = await inspectMedia({ path: '/tmp/upload', sizeBytes, sha256 }, '/tmp')
 * ```
 */
export async function inspectMedia(
  received: { path: string; sizeBytes: number; sha256: string },
  temporaryDir: string,
  claimed: { filename?: string | undefined } = {},
): Promise<InspectedMedia> {
  const type = await fileTypeFromFile(received.path)
  // Text formats (SVG is XML) get a message naming what they are.
  if (
    !type ||
    type.mime === 'application/xml' ||
    type.mime.startsWith('text/') ||
    type.mime === 'image/svg+xml'
  ) {
    throw unsupported(await describeUnknown(received.path), { detectedType: type?.mime })
  }
  if (EXECUTABLE_TYPES.has(type.mime)) {
    throw unsupported(
      `The file is executable content (${type.mime}); upload ${ACCEPTED_LIST} media`,
      {
        detectedType: type.mime,
      },
    )
  }
  if (!(type.mime in ACCEPTED_MEDIA_TYPES)) {
    throw unsupported(`The file is ${type.mime} (by its content); upload ${ACCEPTED_LIST}`, {
      detectedType: type.mime,
    })
  }
  const mimeType = type.mime as AcceptedType
  assertNameMatches(claimed.filename, mimeType)
  const kind = ACCEPTED_MEDIA_TYPES[mimeType]
  return kind === 'video'
    ? inspectVideo(received, mimeType)
    : inspectImage(received, mimeType, kind, temporaryDir)
}

const TYPES_BY_EXTENSION: Record<string, AcceptedType[]> = {
  jpg: ['image/jpeg'],
  jpeg: ['image/jpeg'],
  png: ['image/png'],
  webp: ['image/webp'],
  gif: ['image/gif'],
  // MP4 and QuickTime share a structure; cameras name either one either way.
  mp4: ['video/mp4', 'video/quicktime'],
  m4v: ['video/mp4', 'video/quicktime'],
  mov: ['video/quicktime', 'video/mp4'],
}

/**
 * A file whose name promises another media type than its content is refused: a PNG named
 * `clip.mp4` is a mistake (or a disguise) the uploader should hear about, not a surprise later.
 */
function assertNameMatches(filename: string | undefined, mimeType: AcceptedType) {
  const extension = filename?.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1]
  const promised = extension === undefined ? undefined : TYPES_BY_EXTENSION[extension]
  if (extension !== undefined && promised && !promised.includes(mimeType)) {
    throw unsupported(
      `The file is named .${extension} but its content is ${mimeType}; upload a real ${extension.toUpperCase()} file or name it after what it is`,
      { detectedType: mimeType },
    )
  }
}

async function describeUnknown(path: string): Promise<string> {
  const handle = await open(path, 'r')
  const head = Buffer.alloc(4096)
  const { bytesRead } = await handle.read(head, 0, head.length, 0).finally(() => handle.close())
  const text = head
    .subarray(0, bytesRead)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()
  const lower = text.toLowerCase()
  if (/<svg[\s>]/.test(lower) || lower.includes('<!doctype svg')) {
    return 'SVG images are refused: they can carry scripts that run where the image is shown. Export it as PNG or JPEG.'
  }
  if (/<(html|script|body|iframe|object)[\s>]/.test(lower) || lower.startsWith('<!doctype html')) {
    return `HTML documents are refused; upload ${ACCEPTED_LIST} media.`
  }
  if (text.startsWith('#!')) {
    return `Executable scripts are refused; upload ${ACCEPTED_LIST} media.`
  }
  return `The file's content is not a type this server recognises; upload ${ACCEPTED_LIST}.`
}

async function inspectVideo(
  received: { path: string; sizeBytes: number; sha256: string },
  mimeType: AcceptedType,
): Promise<InspectedMedia> {
  const probe = await probeMP4(received.path).catch((error: unknown) => {
    if (error instanceof MP4ParseError) {
      throw unsupported(
        `The video cannot be read (${error.message}); export it as MP4 (H.264 and AAC) with "fast start"`,
      )
    }
    throw error
  })
  const sideways = probe.rotationDegrees === 90 || probe.rotationDegrees === 270
  return {
    path: received.path,
    kind: 'video',
    mimeType: probe.container === 'quicktime' ? 'video/quicktime' : mimeType,
    sizeBytes: received.sizeBytes,
    sha256: received.sha256,
    // Displayed dimensions: a phone video stored landscape with a 90° matrix plays portrait.
    width: sideways ? probe.height : probe.width,
    height: sideways ? probe.width : probe.height,
    durationSeconds: probe.durationSeconds,
    frameRate: probe.frameRate,
    bitRate: probe.bitRate,
    hasAudio: probe.hasAudio,
    details: {
      container: probe.container,
      videoCodec: probe.videoCodec,
      audioCodec: probe.audioCodec,
      rotationDegrees: probe.rotationDegrees,
      fastStart: probe.fastStart,
    },
    thumbnail: undefined,
  }
}

const FORMATS: Record<string, AcceptedType> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
}

async function inspectImage(
  received: { path: string; sizeBytes: number; sha256: string },
  mimeType: AcceptedType,
  kind: 'image' | 'gif',
  temporaryDir: string,
): Promise<InspectedMedia> {
  const sharp = await loadSharp()
  const input = () =>
    sharp(received.path, { animated: true, failOn: 'error', limitInputPixels: 100_000_000 })
  const metadata = await input()
    .metadata()
    .catch((error: unknown) => {
      throw unsupported(
        `The image cannot be decoded (${(error as Error).message}); export it again`,
      )
    })
  if (metadata.format === undefined || FORMATS[metadata.format] !== mimeType) {
    throw unsupported(
      `The file starts like ${mimeType} but decodes as ${metadata.format ?? 'nothing'}`,
    )
  }
  const orientation = metadata.orientation ?? 1
  const carriesMetadata = Boolean(
    metadata.exif || metadata.xmp || metadata.iptc || metadata.comments?.length,
  )
  let path = received.path
  let { sizeBytes, sha256 } = received
  if (carriesMetadata || orientation !== 1 || mimeType === 'image/png') {
    // sharp writes no metadata unless asked: EXIF (with GPS), XMP and IPTC stay behind. The ICC
    // profile is kept so colours do not change.
    let pipeline = input().keepIccProfile()
    if (orientation !== 1) pipeline = pipeline.autoOrient()
    pipeline =
      mimeType === 'image/jpeg'
        ? pipeline.jpeg({ quality: 92, chromaSubsampling: '4:4:4' })
        : mimeType === 'image/png'
          ? pipeline.png()
          : mimeType === 'image/webp'
            ? pipeline.webp({ quality: 92 })
            : pipeline.gif()
    path = join(temporaryDir, randomUUID())
    await pipeline.toFile(path)
    ;({ sizeBytes, sha256 } = await checksum(path))
    await rm(received.path, { force: true })
  }
  const stored = await sharp(path, { animated: true }).metadata()
  const width = stored.width
  const height = stored.pageHeight ?? stored.height
  const thumbnailPath = join(temporaryDir, randomUUID())
  const thumbnail = await sharp(path)
    .resize(400, 400, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 80 })
    .toFile(thumbnailPath)
  return {
    path,
    kind,
    mimeType,
    sizeBytes,
    sha256,
    width,
    height,
    durationSeconds: undefined,
    frameRate: undefined,
    bitRate: undefined,
    hasAudio: undefined,
    details: {
      container: metadata.format,
      exifOrientation: orientation,
      metadataRemoved: carriesMetadata,
      frames: stored.pages ?? 1,
    },
    thumbnail: {
      path: thumbnailPath,
      mimeType: 'image/webp',
      sizeBytes: thumbnail.size,
      width: thumbnail.width,
      height: thumbnail.height,
    },
  }
}

/**
 * SHA-256 (hex) and size of a file, read as a stream.
 *
 * @example
 * ```ts
 * const { sha256, sizeBytes } = await checksum('/tmp/file')
 * ```
 */
export async function checksum(path: string): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return { sha256: hash.digest('hex'), sizeBytes: (await stat(path)).size }
}
