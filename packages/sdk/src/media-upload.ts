import type { Endpoint } from './endpoint.ts'
import { PostSchedulerError } from './errors.ts'
import type { components } from './generated/openapi.ts'
import type { RequestOptions, Transport, UploadProgress } from './transport.ts'

type Media = components['schemas']['Media']

/** What `client.media.upload` accepts: bytes in memory, a `Blob`/`File`, or a stream of bytes. */
export type UploadSource = Blob | ArrayBuffer | Uint8Array | ReadableStream<Uint8Array>

/** How to upload a file. */
export interface MediaUploadParams {
  /** The file's name (kept for people; the type is found from the content). A `File`'s by default. */
  filename?: string
  /** Alternative text for screen readers, where the platform takes it. */
  altText?: string
  /** The profile the media belongs to; the workspace's default profile when absent. */
  profileId?: string
  /**
   * The stream's length in bytes. A stream of known length is sent part by part without being held
   * in memory; without it, the stream is read into memory first.
   */
  sizeBytes?: number
  /** Called as bytes are sent (per chunk where the runtime streams request bodies, else per part). */
  onProgress?: (progress: UploadProgress) => void
  /**
   * Send the file through a resumable upload (parts, retried one by one, resumable later with
   * `uploadId`). By default files larger than `resumableThresholdBytes` go that way.
   */
  resumable?: boolean
  /** Size from which uploads are resumable by default. Default 16 MiB. */
  resumableThresholdBytes?: number
  /**
   * Resume this resumable upload (its id from {@link MediaUploadError}): only the parts the
   * server is missing are sent.
   */
  uploadId?: string
  /** Parts sent at once. Default 3. */
  concurrency?: number
}

/**
 * A resumable upload that stopped before completing. Call `upload` again with the same source and
 * `{ uploadId }` to send only the missing parts; the server keeps the parts until the upload expires.
 */
export class MediaUploadError extends PostSchedulerError {
  static override readonly kind = 'upload_incomplete'
  override name = 'MediaUploadError'
  /** The upload to resume. */
  readonly uploadId: string

  constructor(uploadId: string, cause: unknown) {
    super(
      `The resumable upload ${uploadId} stopped before completing; pass { uploadId: '${uploadId}' } to resume it`,
      { cause, code: 'UPLOAD_INCOMPLETE' },
    )
    this.uploadId = uploadId
  }
}

interface UploadEndpoints {
  create: Endpoint<'POST /v1/media/uploads'>
  get: Endpoint<'GET /v1/media/uploads/{uploadId}'>
  sendPart: (
    uploadId: string,
    partNumber: number,
    body: Blob,
    options: RequestOptions & { onProgress?: (sentBytes: number) => void },
  ) => Promise<unknown>
  complete: Endpoint<'POST /v1/media/uploads/{uploadId}/complete'>
}

const MiB = 1024 * 1024

/** Uploads `source` in one multipart request or, when large, through a resumable upload. */
export async function uploadMedia(
  send: Transport,
  uploads: UploadEndpoints,
  source: UploadSource,
  params: MediaUploadParams = {},
  options: RequestOptions = {},
): Promise<Media> {
  const filename = params.filename ?? (source as Partial<File>).name
  if (source instanceof ReadableStream && params.sizeBytes !== undefined && !params.uploadId) {
    return uploadStream(uploads, source, params.sizeBytes, { ...params, filename }, options)
  }
  const blob =
    source instanceof Blob
      ? source
      : source instanceof ReadableStream
        ? await new Response(source).blob()
        : new Blob([source as Uint8Array<ArrayBuffer>])
  const resumable =
    params.resumable ??
    (params.uploadId !== undefined || blob.size > (params.resumableThresholdBytes ?? 16 * MiB))
  if (resumable) return uploadBlob(uploads, blob, { ...params, filename }, options)

  const form = new FormData()
  if (params.altText !== undefined) form.set('altText', params.altText)
  form.set('file', blob, filename ?? 'file')
  let done = false
  const media = await send<Media>({
    method: 'POST',
    path: '/v1/media',
    query: { profileId: params.profileId },
    body: form,
    onUploadProgress:
      params.onProgress &&
      ((progress) => {
        done = progress.percent === 1
        params.onProgress?.(progress)
      }),
    options,
  })
  // Where the request body could not be streamed, the only progress is the end.
  if (!done) params.onProgress?.({ transferredBytes: blob.size, totalBytes: blob.size, percent: 1 })
  return media
}

function progressReporter(totalBytes: number, onProgress: MediaUploadParams['onProgress']) {
  const sentPerPart = new Map<number, number>()
  return (partNumber: number, sentBytes: number) => {
    if (!onProgress) return
    sentPerPart.set(partNumber, sentBytes)
    let transferredBytes = 0
    for (const bytes of sentPerPart.values()) transferredBytes += bytes
    onProgress({
      transferredBytes,
      totalBytes,
      percent: totalBytes === 0 ? 1 : transferredBytes / totalBytes,
    })
  }
}

async function openUpload(
  uploads: UploadEndpoints,
  sizeBytes: number,
  params: MediaUploadParams,
  options: RequestOptions,
) {
  if (params.uploadId) return uploads.get(params.uploadId, { signal: options.signal })
  return uploads.create(
    {
      sizeBytes,
      filename: params.filename,
      altText: params.altText,
      profileId: params.profileId,
    },
    options,
  )
}

async function uploadBlob(
  uploads: UploadEndpoints,
  blob: Blob,
  params: MediaUploadParams,
  options: RequestOptions,
): Promise<Media> {
  const upload = await openUpload(uploads, blob.size, params, options)
  const report = progressReporter(upload.sizeBytes, params.onProgress)
  for (const part of upload.receivedParts) report(part.partNumber, part.sizeBytes)
  const queue = [...upload.missingParts]
  const partOptions = { signal: options.signal, headers: options.headers }
  try {
    const worker = async () => {
      for (let partNumber = queue.shift(); partNumber !== undefined; partNumber = queue.shift()) {
        const start = (partNumber - 1) * upload.partSizeBytes
        const part = blob.slice(start, start + upload.partSizeBytes)
        const number = partNumber
        await uploads.sendPart(upload.id, number, part, {
          ...partOptions,
          onProgress: (sent) => report(number, sent),
        })
        report(number, part.size)
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, params.concurrency ?? 3) }, worker))
    return await uploads.complete(upload.id, {}, partOptions)
  } catch (error) {
    if (options.signal?.aborted) throw error
    throw new MediaUploadError(upload.id, error)
  }
}

async function uploadStream(
  uploads: UploadEndpoints,
  stream: ReadableStream<Uint8Array>,
  sizeBytes: number,
  params: MediaUploadParams,
  options: RequestOptions,
): Promise<Media> {
  const upload = await openUpload(uploads, sizeBytes, params, options)
  const report = progressReporter(upload.sizeBytes, params.onProgress)
  const partOptions = { signal: options.signal, headers: options.headers }
  const reader = stream.getReader()
  let pending: Uint8Array[] = []
  let pendingBytes = 0
  let partNumber = 1
  const flush = async (bytes: Blob) => {
    const number = partNumber++
    await uploads.sendPart(upload.id, number, bytes, {
      ...partOptions,
      onProgress: (sent) => report(number, sent),
    })
    report(number, bytes.size)
  }
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (value) {
        pending.push(value)
        pendingBytes += value.byteLength
      }
      while (pendingBytes >= upload.partSizeBytes || (done && pendingBytes > 0)) {
        const joined = new Blob(pending as Uint8Array<ArrayBuffer>[])
        const part = joined.slice(0, upload.partSizeBytes)
        const rest = joined.slice(upload.partSizeBytes)
        pending = rest.size > 0 ? [new Uint8Array(await rest.arrayBuffer())] : []
        pendingBytes = rest.size
        await flush(part)
      }
      if (done) break
    }
    return await uploads.complete(upload.id, {}, partOptions)
  } catch (error) {
    await reader.cancel(error).catch(() => {})
    if (options.signal?.aborted) throw error
    throw new MediaUploadError(upload.id, error)
  }
}
