import { isAdapterError } from '../errors/errors.ts'

/** One part of an upload, handed to `uploadPart`. */
export interface UploadPart {
  /** 0-based position of the part. */
  index: number
  /** Byte offset of the part's first byte in the whole file. */
  offset: number
  /** The part's bytes; the same Blob on every retry of the part. */
  bytes: Blob
  /** Whether this is the last part (some protocols finalise with it). */
  isLast: boolean
  /** Total size of the file, when known (always for a Blob source). */
  totalSizeBytes: number | undefined
}

/** How to upload a file in parts. */
export interface UploadInPartsParams<Result> {
  /** The whole file: a Blob (sliced lazily) or a byte stream (buffered one part at a time). */
  source: Blob | ReadableStream<Uint8Array>
  /** Size of every part but the last. */
  partSizeBytes: number
  /** Sends one part; its result is collected (an ETag, a part id…). */
  uploadPart(part: UploadPart, options: { signal?: AbortSignal }): Promise<Result>
  /**
   * Bytes the platform already has, from a resumable session's status (YouTube answers a
   * `Range` header, Facebook an offset): the upload resumes there. Defaults to 0.
   */
  startOffset?: number
  /** Extra tries per part after the first. Defaults to 3. */
  retriesPerPart?: number
  /** Whether a failed part may be sent again. Defaults to retryable adapter errors. */
  shouldRetry?(error: unknown): boolean
  /** Milliseconds to wait before retry number `attempt` (1-based). Defaults to 0.5 s, doubling, at most 8 s. */
  retryDelayMs?(attempt: number, error: unknown): number
  signal?: AbortSignal
}

/**
 * Uploads a file in parts, in order, retrying a failed part on its own (not the whole file).
 * Works from a Blob or a stream, and resumes from a byte offset for resumable sessions.
 * Resolves with each part's result in order.
 *
 * @example
 * ```ts
 * const etags = await uploadInParts({
 *   source: await media.open(),
 *   partSizeBytes: 8 * 1024 * 1024,
 *   uploadPart: async (part, { signal }) => {
 *     const response = await sendPlatformRequest({ platform, method: 'PUT', url: partURL(part.index), body: part.bytes }, { signal })
 *     return response.headers.get('etag') ?? ''
 *   },
 * })
 * ```
 */
export async function uploadInParts<Result>(
  params: UploadInPartsParams<Result>,
): Promise<Result[]> {
  if (!(params.partSizeBytes > 0)) throw new RangeError('partSizeBytes must be positive')
  const retries = params.retriesPerPart ?? 3
  const shouldRetry =
    params.shouldRetry ?? ((error: unknown) => isAdapterError(error) && error.retryable)
  const retryDelayMs =
    params.retryDelayMs ?? ((attempt: number) => Math.min(500 * 2 ** (attempt - 1), 8000))
  const results: Result[] = []
  for await (const part of splitIntoParts(
    params.source,
    params.partSizeBytes,
    params.startOffset,
  )) {
    for (let attempt = 0; ; attempt++) {
      params.signal?.throwIfAborted()
      try {
        results.push(await params.uploadPart(part, { signal: params.signal }))
        break
      } catch (error) {
        if (attempt >= retries || !shouldRetry(error)) throw error
        await sleep(retryDelayMs(attempt + 1, error), params.signal)
      }
    }
  }
  return results
}

/**
 * Splits a Blob or a byte stream into parts of `partSizeBytes` (the last may be smaller),
 * starting at `startOffset`. A Blob is sliced without copying; a stream is buffered one part at a
 * time, so memory stays at one part.
 *
 * @example
 * ```ts
 * for await (const part of splitIntoParts(file, 5 * 1024 * 1024)) console.log(part.index, part.bytes.size)
 * ```
 */
export async function* splitIntoParts(
  source: Blob | ReadableStream<Uint8Array>,
  partSizeBytes: number,
  startOffset = 0,
): AsyncGenerator<UploadPart> {
  if (source instanceof Blob) {
    const total = source.size
    let index = 0
    for (let offset = startOffset; offset < total || (offset === 0 && total === 0); ) {
      const end = Math.min(offset + partSizeBytes, total)
      yield {
        index,
        offset,
        bytes: source.slice(offset, end),
        isLast: end >= total,
        totalSizeBytes: total,
      }
      index++
      if (end >= total) return
      offset = end
    }
    return
  }
  const reader = source.getReader()
  let skip = startOffset
  let pending: Uint8Array[] = []
  let pendingSize = 0
  let offset = startOffset
  let index = 0
  let previous: UploadPart | undefined
  try {
    while (true) {
      const { done, value } = await reader.read()
      if (done) break
      let chunk = value
      if (skip > 0) {
        const dropped = Math.min(skip, chunk.byteLength)
        chunk = chunk.subarray(dropped)
        skip -= dropped
      }
      while (chunk.byteLength > 0) {
        const take = Math.min(partSizeBytes - pendingSize, chunk.byteLength)
        pending.push(chunk.subarray(0, take))
        pendingSize += take
        chunk = chunk.subarray(take)
        if (pendingSize === partSizeBytes) {
          // Hold each full part back one step: only the next read tells whether it is the last.
          if (previous) yield previous
          previous = {
            index: index++,
            offset,
            bytes: new Blob(pending as BlobParts),
            isLast: false,
            totalSizeBytes: undefined,
          }
          offset += pendingSize
          pending = []
          pendingSize = 0
        }
      }
    }
  } finally {
    reader.releaseLock()
  }
  if (pendingSize > 0) {
    if (previous) yield previous
    yield {
      index,
      offset,
      bytes: new Blob(pending as BlobParts),
      isLast: true,
      totalSizeBytes: offset + pendingSize,
    }
  } else if (previous) {
    yield { ...previous, isLast: true, totalSizeBytes: previous.offset + previous.bytes.size }
  } else {
    yield { index: 0, offset, bytes: new Blob([]), isLast: true, totalSizeBytes: undefined }
  }
}

type BlobParts = NonNullable<ConstructorParameters<typeof Blob>[0]>

function sleep(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  if (milliseconds <= 0) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, milliseconds)
    function done() {
      signal?.removeEventListener('abort', abort)
      resolve()
    }
    function abort() {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', abort, { once: true })
  })
}
