import {
  type CallOptions,
  ContentRejectedError,
  PlatformUnavailableError,
  type PublishMedia,
  readJSON,
  UnexpectedResponseError,
  uploadInParts,
} from '@post-scheduler/adapter-core'
import { z } from 'zod'
import { type LinkedInHTTPContext, PLATFORM, sendLinkedInRequest } from './http.ts'

/** How the adapter uploads media and waits for videos. */
export interface MediaSettings {
  /** Send the member's token with video part uploads (see `LinkedInConfig`). */
  authorizeVideoPartUploads: boolean
  pollIntervalMs: number
  maxPolls: number
}

const imageInitSchema = z.object({
  value: z.object({ uploadUrl: z.url(), image: z.string().startsWith('urn:li:image:') }),
})
const documentInitSchema = z.object({
  value: z.object({ uploadUrl: z.url(), document: z.string().startsWith('urn:li:document:') }),
})
const videoInitSchema = z.object({
  value: z.object({
    video: z.string().startsWith('urn:li:video:'),
    uploadToken: z.string().default(''),
    uploadInstructions: z
      .array(z.object({ uploadUrl: z.url(), firstByte: z.number(), lastByte: z.number() }))
      .min(1),
  }),
})
const videoSchema = z.object({
  status: z.string(),
  processingFailureReason: z.string().optional(),
})

/**
 * Uploads one media file for `owner` (a person or organization URN) and returns its URN. Images
 * and documents: register, then one PUT of the whole file with the token. Videos: register with
 * the size, PUT each part to its own URL collecting ETags, then `finalizeUpload`; the caller
 * checkpoints the URN and then waits with {@link waitForVideo}.
 *
 * https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/images-api
 * https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/videos-api
 */
export async function uploadMedia(
  context: LinkedInHTTPContext,
  settings: MediaSettings,
  call: { accessToken: string; owner: string; media: PublishMedia },
  options: CallOptions,
): Promise<string> {
  const { accessToken, owner, media } = call
  const bytes = await media.open({ signal: options.signal })
  if (media.kind === 'video')
    return uploadVideo(context, settings, accessToken, owner, bytes, options)

  const document = media.kind === 'document'
  const initialized = await sendLinkedInRequest(
    context,
    {
      method: 'POST',
      url: `/rest/${document ? 'documents' : 'images'}?action=initializeUpload`,
      accessToken,
      versioned: true,
      json: { initializeUploadRequest: { owner } },
    },
    options,
  )
  const { uploadUrl, urn } = document
    ? await readJSON(initialized, documentInitSchema, PLATFORM).then(({ value }) => ({
        uploadUrl: value.uploadUrl,
        urn: value.document,
      }))
    : await readJSON(initialized, imageInitSchema, PLATFORM).then(({ value }) => ({
        uploadUrl: value.uploadUrl,
        urn: value.image,
      }))
  // One PUT of the whole file, with the token (do not chunk images or documents).
  await sendLinkedInRequest(
    context,
    {
      method: 'PUT',
      url: uploadUrl,
      accessToken,
      headers: { 'content-type': media.mimeType },
      body: bytes,
    },
    options,
  )
  return urn
}

async function uploadVideo(
  context: LinkedInHTTPContext,
  settings: MediaSettings,
  accessToken: string,
  owner: string,
  bytes: Blob,
  options: CallOptions,
): Promise<string> {
  const initialized = await sendLinkedInRequest(
    context,
    {
      method: 'POST',
      url: '/rest/videos?action=initializeUpload',
      accessToken,
      versioned: true,
      json: {
        initializeUploadRequest: {
          owner,
          fileSizeBytes: bytes.size,
          uploadCaptions: false,
          uploadThumbnail: false,
        },
      },
    },
    options,
  )
  const { value } = await readJSON(initialized, videoInitSchema, PLATFORM)
  const instructions = value.uploadInstructions
  const first = instructions[0]
  if (!first) throw new UnexpectedResponseError('LinkedIn gave no upload instructions.')
  // LinkedIn cuts the file into equal parts (4 MiB) but the last; each has its own URL.
  const etags = await uploadInParts({
    source: bytes,
    partSizeBytes: first.lastByte - first.firstByte + 1,
    signal: options.signal,
    uploadPart: async (part, { signal }) => {
      const instruction = instructions[part.index]
      const lastByte = part.offset + part.bytes.size - 1
      if (instruction?.firstByte !== part.offset || instruction.lastByte !== lastByte) {
        throw new UnexpectedResponseError(
          `LinkedIn's upload instructions do not cut the video into equal parts (part ${part.index} is bytes ${part.offset}–${lastByte}, LinkedIn expects ${instruction ? `${instruction.firstByte}–${instruction.lastByte}` : 'no such part'}).`,
          { platform: PLATFORM },
        )
      }
      const response = await sendLinkedInRequest(
        context,
        {
          method: 'PUT',
          url: instruction.uploadUrl,
          // The Videos API says part URLs need no token (UNCONFIRMED; some clients send it).
          ...(settings.authorizeVideoPartUploads ? { accessToken } : {}),
          headers: { 'content-type': 'application/octet-stream' },
          body: part.bytes,
        },
        { ...options, signal },
      )
      const etag = response.headers.get('etag')
      if (!etag) {
        throw new UnexpectedResponseError(
          `LinkedIn answered part ${part.index} of the video without an ETag.`,
          { platform: PLATFORM, status: response.status },
        )
      }
      return etag
    },
  })
  if (etags.length !== instructions.length) {
    throw new UnexpectedResponseError(
      `LinkedIn expected ${instructions.length} video parts; the file made ${etags.length}.`,
      { platform: PLATFORM },
    )
  }
  await sendLinkedInRequest(
    context,
    {
      method: 'POST',
      url: '/rest/videos?action=finalizeUpload',
      accessToken,
      versioned: true,
      json: {
        finalizeUploadRequest: {
          video: value.video,
          uploadToken: value.uploadToken,
          uploadedPartIds: etags,
        },
      },
    },
    options,
  )
  return value.video
}

/**
 * Polls a video until LinkedIn has processed it (`AVAILABLE`): posting it earlier fails.
 * `PROCESSING_FAILED` is a content rejection; still processing after `maxPolls` is a retryable
 * `PLATFORM_UNAVAILABLE` (the checkpointed URN is reused by the retry, nothing is uploaded again).
 */
export async function waitForVideo(
  context: LinkedInHTTPContext,
  settings: MediaSettings,
  call: { accessToken: string; urn: string },
  options: CallOptions,
): Promise<void> {
  for (let poll = 0; poll < settings.maxPolls; poll++) {
    if (poll > 0) await sleep(settings.pollIntervalMs, options.signal)
    const response = await sendLinkedInRequest(
      context,
      {
        method: 'GET',
        url: `/rest/videos/${encodeURIComponent(call.urn)}`,
        accessToken: call.accessToken,
        versioned: true,
      },
      options,
    )
    const video = await readJSON(response, videoSchema, PLATFORM)
    if (video.status === 'AVAILABLE') return
    if (video.status === 'PROCESSING_FAILED') {
      throw new ContentRejectedError(
        `LinkedIn could not process the video${video.processingFailureReason ? `: ${video.processingFailureReason}` : ''}. Check its format, size and duration.`,
        {
          platform: PLATFORM,
          platformCode: 'PROCESSING_FAILED',
          platformMessage: video.processingFailureReason,
        },
      )
    }
  }
  throw new PlatformUnavailableError(
    `LinkedIn is still processing the video ${call.urn}. Try again later; the upload is kept.`,
    { platform: PLATFORM, retryAfterSeconds: 60 },
  )
}

function sleep(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  signal?.throwIfAborted()
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
