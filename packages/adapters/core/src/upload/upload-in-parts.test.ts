import { describe, expect, it } from 'vitest'
import { PlatformUnavailableError, UnexpectedResponseError } from '../errors/errors.ts'
import { splitIntoParts, type UploadPart, uploadInParts } from './upload-in-parts.ts'

const bytes = (length: number) => new Uint8Array(Array.from({ length }, (_, index) => index % 256))

function streamOf(chunks: number[]): ReadableStream<Uint8Array> {
  let offset = 0
  return new ReadableStream({
    pull(controller) {
      const size = chunks.shift()
      if (size === undefined) return controller.close()
      controller.enqueue(bytes(offset + size).subarray(offset))
      offset += size
    },
  })
}

async function collect(parts: AsyncIterable<UploadPart>) {
  const result = []
  for await (const part of parts) {
    result.push({
      index: part.index,
      offset: part.offset,
      size: part.bytes.size,
      isLast: part.isLast,
    })
  }
  return result
}

describe('splitIntoParts', () => {
  it('slices a Blob into parts, the last one smaller', async () => {
    expect(await collect(splitIntoParts(new Blob([bytes(25)]), 10))).toEqual([
      { index: 0, offset: 0, size: 10, isLast: false },
      { index: 1, offset: 10, size: 10, isLast: false },
      { index: 2, offset: 20, size: 5, isLast: true },
    ])
  })

  it('regroups a stream of uneven chunks into parts of the same size', async () => {
    expect(await collect(splitIntoParts(streamOf([3, 9, 4, 4]), 10))).toEqual([
      { index: 0, offset: 0, size: 10, isLast: false },
      { index: 1, offset: 10, size: 10, isLast: true },
    ])
  })

  it('keeps the bytes in order', async () => {
    const parts = []
    for await (const part of splitIntoParts(streamOf([7, 7, 7]), 8)) {
      parts.push(new Uint8Array(await part.bytes.arrayBuffer()))
    }
    expect(Array.from(parts.flatMap((part) => [...part]))).toEqual([...bytes(21)])
  })

  it('resumes at an offset, from a Blob or a stream', async () => {
    expect(await collect(splitIntoParts(new Blob([bytes(25)]), 10, 20))).toEqual([
      { index: 0, offset: 20, size: 5, isLast: true },
    ])
    expect(await collect(splitIntoParts(streamOf([12, 13]), 10, 20))).toEqual([
      { index: 0, offset: 20, size: 5, isLast: true },
    ])
  })

  it('yields one empty last part for an empty file', async () => {
    expect(await collect(splitIntoParts(new Blob([]), 10))).toEqual([
      { index: 0, offset: 0, size: 0, isLast: true },
    ])
  })
})

describe('uploadInParts', () => {
  it('sends every part in order and returns their results', async () => {
    const results = await uploadInParts({
      source: new Blob([bytes(25)]),
      partSizeBytes: 10,
      uploadPart: async (part) => `etag-${part.index}`,
    })
    expect(results).toEqual(['etag-0', 'etag-1', 'etag-2'])
  })

  it('retries only the part that failed with a retryable error', async () => {
    const sent: number[] = []
    let failures = 2
    await uploadInParts({
      source: new Blob([bytes(25)]),
      partSizeBytes: 10,
      retryDelayMs: () => 0,
      uploadPart: async (part) => {
        sent.push(part.index)
        if (part.index === 1 && failures-- > 0) throw new PlatformUnavailableError('503')
      },
    })
    expect(sent).toEqual([0, 1, 1, 1, 2])
  })

  it('gives up at once on an error that retrying cannot fix', async () => {
    const sent: number[] = []
    const error = new UnexpectedResponseError('bad part')
    await expect(
      uploadInParts({
        source: new Blob([bytes(25)]),
        partSizeBytes: 10,
        uploadPart: async (part) => {
          sent.push(part.index)
          throw error
        },
      }),
    ).rejects.toBe(error)
    expect(sent).toEqual([0])
  })

  it('gives up on a part after the allowed retries', async () => {
    let tries = 0
    await expect(
      uploadInParts({
        source: new Blob([bytes(5)]),
        partSizeBytes: 10,
        retriesPerPart: 2,
        retryDelayMs: () => 0,
        uploadPart: async () => {
          tries++
          throw new PlatformUnavailableError('503')
        },
      }),
    ).rejects.toMatchObject({ code: 'PLATFORM_UNAVAILABLE' })
    expect(tries).toBe(3)
  })
})
