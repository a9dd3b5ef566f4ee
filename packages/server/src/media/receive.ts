import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import busboy from 'busboy'
import { ProblemError } from '../errors/problem.ts'

/** A received file in the temporary folder, with its size and SHA-256 computed on the way in. */
export interface ReceivedFile {
  path: string
  sizeBytes: number
  sha256: string
}

/** Raised inside the stream when a body outgrows its limit; becomes a 413. */
const tooLarge = (maxBytes: number) =>
  new ProblemError(
    'PAYLOAD_TOO_LARGE',
    `The file is larger than the ${maxBytes} bytes allowed here; send a smaller file or use a resumable upload`,
    { maxBytes },
  )

/**
 * Writes a stream to a new temporary file, hashing and counting as it goes. Reading stops as soon
 * as the stream passes `maxBytes`: the rest of an oversized body is never read.
 *
 * @throws {ProblemError} `PAYLOAD_TOO_LARGE`.
 * @example
 * ```ts
 * const file = await receiveStream(Readable.fromWeb(request.body), '/tmp/media', 1024 ** 3)
 * ```
 */
export async function receiveStream(
  source: Readable,
  temporaryDir: string,
  maxBytes: number,
): Promise<ReceivedFile> {
  await mkdir(temporaryDir, { recursive: true })
  const path = join(temporaryDir, randomUUID())
  const hash = createHash('sha256')
  let sizeBytes = 0
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sizeBytes += chunk.length
      if (sizeBytes > maxBytes) return callback(tooLarge(maxBytes))
      hash.update(chunk)
      callback(null, chunk)
    },
  })
  try {
    await pipeline(source, meter, createWriteStream(path))
  } catch (error) {
    await rm(path, { force: true })
    if (error instanceof ProblemError) throw error
    throw new ProblemError(
      'MALFORMED_REQUEST',
      'The upload was interrupted before the whole file arrived; send it again (or resume a resumable upload)',
      {},
      { cause: error },
    )
  }
  return { path, sizeBytes, sha256: hash.digest('hex') }
}

/** The body of a request as a Node stream. */
export function bodyStream(request: Request): Readable {
  if (!request.body) return Readable.from([])
  const stream = Readable.fromWeb(request.body as unknown as WebReadableStream<Uint8Array>)
  // A dropped connection can report its error again after the pipeline reading it has settled;
  // the pipeline already turned the first report into an answer.
  stream.on('error', () => {})
  return stream
}

/**
 * Refuses a body whose declared `Content-Length` is already over `maxBytes`, before reading any
 * of it.
 */
export function assertDeclaredLength(request: Request, maxBytes: number) {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN)
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes)
}

/** What a multipart upload carried: the file (field `file`) and the other fields. */
export interface MultipartUpload {
  file: ReceivedFile
  filename: string | undefined
  fields: Record<string, string>
}

// Room for the multipart boundaries and the small fields around the file.
const MULTIPART_OVERHEAD_BYTES = 64 * 1024

/**
 * Streams a `multipart/form-data` request's `file` field to a temporary file with
 * {@link receiveStream}'s limits; other fields (before or after it) are collected as text.
 *
 * @throws {ProblemError} `PAYLOAD_TOO_LARGE`, or `VALIDATION_FAILED` without a `file` field.
 */
export async function receiveMultipart(
  request: Request,
  temporaryDir: string,
  maxBytes: number,
): Promise<MultipartUpload> {
  assertDeclaredLength(request, maxBytes + MULTIPART_OVERHEAD_BYTES)
  const contentType = request.headers.get('content-type') ?? ''
  if (!/^multipart\/form-data/i.test(contentType)) {
    throw new ProblemError(
      'MALFORMED_REQUEST',
      'Send the file as multipart/form-data in a field named "file"',
    )
  }
  let parser: busboy.Busboy
  try {
    parser = busboy({
      headers: { 'content-type': contentType },
      limits: { files: 1, fields: 10, fieldSize: 4096, parts: 12 },
    })
  } catch (error) {
    throw new ProblemError('MALFORMED_REQUEST', (error as Error).message, {}, { cause: error })
  }
  const source = bodyStream(request)
  const fields: Record<string, string> = {}
  let upload: Promise<ReceivedFile> | undefined
  let filename: string | undefined
  const finished = new Promise<void>((resolve, reject) => {
    parser.on('field', (name, value) => {
      fields[name] = value
    })
    parser.on('file', (name, stream, info) => {
      if (name !== 'file' || upload) {
        stream.resume()
        return
      }
      filename = info.filename
      upload = receiveStream(stream, temporaryDir, maxBytes)
      upload.catch((error: unknown) => {
        source.destroy()
        reject(error)
      })
    })
    parser.on('error', (error) =>
      reject(
        new ProblemError(
          'MALFORMED_REQUEST',
          `The multipart body is broken: ${(error as Error).message}`,
        ),
      ),
    )
    parser.on('close', resolve)
  })
  source.on('error', () => parser.destroy())
  source.pipe(parser)
  await finished
  if (!upload) {
    throw new ProblemError('VALIDATION_FAILED', 'The form has no file', {
      issues: [
        {
          location: 'body',
          path: ['file'],
          code: 'required',
          message: 'Send the file in a field named "file"',
        },
      ],
    })
  }
  return { file: await upload, filename, fields }
}
