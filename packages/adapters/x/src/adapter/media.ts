import {
  type CallOptions,
  ContentRejectedError,
  PlatformUnavailableError,
  type PublishMedia,
  readJSON,
  uploadInParts,
} from '@post-scheduler/adapter-core'
import { z } from 'zod'
import { PLATFORM, sendXRequest } from './errors.ts'

/** How media uploads behave. */
export interface XMediaOptions {
  /** Bytes per `append` segment. Defaults to 2 MiB (5 MB segments have drawn HTTP 431). */
  chunkSizeBytes?: number
  /** Gives up waiting for X to process a video or GIF after this long. Defaults to 600. */
  maxProcessingSeconds?: number
  /**
   * Waits between processing-status polls (`check_after_secs`). Defaults to a timer; inject
   * your own to drive time in tests or to yield to a scheduler.
   */
  sleep?: (milliseconds: number, signal?: AbortSignal) => Promise<void>
}

const processingSchema = z.object({
  state: z.enum(['pending', 'in_progress', 'succeeded', 'failed']),
  check_after_secs: z.number().optional(),
  progress_percent: z.number().optional(),
  // UNCONFIRMED shape; v1.1 documented { code, name, message }.
  error: z
    .object({
      code: z.number().optional(),
      name: z.string().optional(),
      message: z.string().optional(),
    })
    .optional(),
})

const uploadSchema = z.object({
  data: z.object({
    id: z.string(),
    media_key: z.string().optional(),
    expires_after_secs: z.number().optional(),
    processing_info: processingSchema.optional(),
  }),
})

const CATEGORIES = { image: 'tweet_image', gif: 'tweet_gif', video: 'tweet_video' } as const

/** An uploaded media file: its id, and when X forgets it. */
export interface UploadedMedia {
  id: string
  expiresAt: Date
}

/**
 * Uploads one file with the v2 chunked endpoints (`initialize`, `append` per segment as
 * multipart, `finalize`), waits for processing, and sets its alt text.
 * https://docs.x.com/x-api/media/quickstart/media-upload-chunked
 */
export async function uploadXMedia(
  params: {
    apiBaseURL: string
    accessToken: string
    media: PublishMedia
    index: number
    now: () => Date
  } & XMediaOptions,
  options: CallOptions,
): Promise<UploadedMedia> {
  const { apiBaseURL, media, now } = params
  const authorization = { authorization: `Bearer ${params.accessToken}` }
  const send = (request: Parameters<typeof sendXRequest>[0]) => sendXRequest(request, options, now)
  if (media.kind === 'document') {
    throw new ContentRejectedError('X does not accept documents.', { platform: PLATFORM })
  }
  const category = CATEGORIES[media.kind]

  const bytes = await media.open({ signal: options.signal })
  const initialized = await readJSON(
    await send({
      method: 'POST',
      url: `${apiBaseURL}/2/media/upload/initialize`,
      headers: authorization,
      json: { media_type: media.mimeType, total_bytes: bytes.size, media_category: category },
    }),
    uploadSchema,
    PLATFORM,
  )
  const id = initialized.data.id
  await uploadInParts({
    source: bytes,
    partSizeBytes: params.chunkSizeBytes ?? 2 * 1024 * 1024,
    signal: options.signal,
    uploadPart: async (part, { signal }) => {
      const boundary = `----post-scheduler-${crypto.randomUUID()}`
      const body = new Blob([
        `--${boundary}\r\nContent-Disposition: form-data; name="segment_index"\r\n\r\n${part.index}\r\n`,
        `--${boundary}\r\nContent-Disposition: form-data; name="media"; filename="segment-${part.index}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
        part.bytes,
        `\r\n--${boundary}--\r\n`,
      ])
      await sendXRequest(
        {
          method: 'POST',
          url: `${apiBaseURL}/2/media/upload/${id}/append`,
          headers: {
            ...authorization,
            'content-type': `multipart/form-data; boundary=${boundary}`,
          },
          body,
        },
        { ...options, signal },
        now,
      )
    },
  })
  let upload = await readJSON(
    await send({
      method: 'POST',
      url: `${apiBaseURL}/2/media/upload/${id}/finalize`,
      headers: authorization,
    }),
    uploadSchema,
    PLATFORM,
  )
  const expiresAt = new Date(
    now().getTime() +
      (upload.data.expires_after_secs ?? initialized.data.expires_after_secs ?? 86_400) * 1000,
  )

  // No processing_info: ready at once (images). Otherwise poll STATUS until a final state.
  let waitedSeconds = 0
  const sleep = params.sleep ?? wait
  while (upload.data.processing_info && upload.data.processing_info.state !== 'succeeded') {
    const info = upload.data.processing_info
    if (info.state === 'failed') {
      const reason = info.error?.message ?? info.error?.name ?? 'X could not process the file'
      throw new ContentRejectedError(`X could not process media ${params.index + 1}: ${reason}.`, {
        platform: PLATFORM,
        platformCode: info.error?.name ?? 'media-processing-failed',
        platformMessage: info.error?.message,
        issues: [
          {
            path: ['media', params.index],
            code: 'MEDIA_PROCESSING_FAILED',
            message: `X could not process this ${media.kind}: ${reason}. Check the format against X's media best practices.`,
          },
        ],
      })
    }
    const delaySeconds = Math.max(1, info.check_after_secs ?? 1)
    if (waitedSeconds + delaySeconds > (params.maxProcessingSeconds ?? 600)) {
      throw new PlatformUnavailableError(
        `X is still processing media ${params.index + 1} after ${waitedSeconds} s; try again later.`,
        { platform: PLATFORM, retryAfterSeconds: delaySeconds },
      )
    }
    await sleep(delaySeconds * 1000, options.signal)
    waitedSeconds += delaySeconds
    const url = new URL(`${apiBaseURL}/2/media/upload`)
    url.searchParams.set('command', 'STATUS')
    url.searchParams.set('media_id', id)
    upload = await readJSON(
      await send({ method: 'GET', url, headers: authorization }),
      uploadSchema,
      PLATFORM,
    )
  }

  if (media.altText) {
    await send({
      method: 'POST',
      url: `${apiBaseURL}/2/media/metadata`,
      headers: authorization,
      json: { id, metadata: { alt_text: { text: media.altText } } },
    })
  }
  return { id, expiresAt }
}

function wait(milliseconds: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted()
    const timer = setTimeout(resolve, milliseconds)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        reject(signal.reason)
      },
      { once: true },
    )
  })
}
