import {
  type CallOptions,
  ContentRejectedError,
  isAdapterError,
  type ProcessingPublication,
  type PublicationCheck,
  type PublicationHandles,
  type PublicationLookUp,
  type PublishMedia,
  readJSON,
} from '@post-scheduler/adapter-core'
import { z } from 'zod'
import { type GraphContext, PLATFORM, sendGraphRequest } from './http.ts'
import { digestText, type LookUpSettings } from './look-up.ts'

/** Where video calls go, besides Graph itself. */
export interface VideoContext extends GraphContext {
  /** `https://graph-video.facebook.com`: Meta's documented host for `POST /{page-id}/videos`. */
  graphVideoBaseURL: string
  /** The app id: the Resumable Upload API's sessions are opened on the app node. */
  appId: string
}

/**
 * How often to read a video's status while Facebook processes it, and for how long at most.
 * Meta documents no cadence; a minute apart and two hours in all are our choice (UNCONFIRMED).
 */
export const VIDEO_CHECK_AFTER_SECONDS = 60
export const VIDEO_MAX_WAIT_SECONDS = 2 * 60 * 60
const UPLOAD_RESUMES = 3

const phaseSchema = z.looseObject({
  status: z.string(),
  errors: z.array(z.looseObject({ code: z.number(), message: z.string() })).optional(),
  bytes_transferred: z.number().optional(),
})
const videoSchema = z.looseObject({
  id: z.string().min(1),
  description: z.string().optional(),
  created_time: z.string().optional(),
  permalink_url: z.string().optional(),
  post_id: z.string().optional(),
  status: z
    .looseObject({
      video_status: z.string(),
      uploading_phase: phaseSchema.optional(),
      processing_phase: phaseSchema.optional(),
      publishing_phase: phaseSchema.optional(),
    })
    .optional(),
})
type Video = z.output<typeof videoSchema>
const videosSchema = z.object({
  data: z.array(videoSchema),
  paging: z
    .object({ cursors: z.object({ after: z.string() }).optional(), next: z.string().optional() })
    .optional(),
})
const sessionSchema = z.object({ id: z.string().startsWith('upload:') })
const uploadAnswerSchema = z.object({
  h: z.string().min(1).optional(),
  file_offset: z.coerce.number().optional(),
})
const offsetSchema = z.object({ file_offset: z.coerce.number() })
const reelStartSchema = z.object({ video_id: z.string().min(1), upload_url: z.url() })
const idSchema = z.object({ id: z.string().min(1) })
const successSchema = z.object({ success: z.boolean() })
const VIDEO_FIELDS = 'id,description,created_time,permalink_url,post_id,status'

/** What a video publish needs from `publish`. */
export interface VideoPublish {
  accessToken: string
  accountId: string
  handles: PublicationHandles
  media: PublishMedia
  description: string
  title: string | undefined
  checkpoint(handles: PublicationHandles): Promise<void>
  now(): Date
}

/**
 * A Page video by the Resumable Upload API: a session on the app (`POST /{app-id}/uploads`), the
 * bytes (`POST /upload:<session>` with `file_offset`), then `POST /{page-id}/videos` with the
 * file handle. The session, the file handle, then the send time and a digest of the description
 * are checkpointed in turn, so a retry resumes the upload where Facebook says it stopped and
 * never sends the video call twice without looking first.
 *
 * https://developers.facebook.com/docs/graph-api/guides/upload
 * https://developers.facebook.com/docs/video-api/guides/publishing
 */
export async function publishPageVideo(
  context: VideoContext,
  video: VideoPublish,
  options: CallOptions,
): Promise<ProcessingPublication> {
  let fileHandle = video.handles.fileHandle
  if (!fileHandle) {
    const bytes = await video.media.open({ signal: options.signal })
    let session = video.handles.uploadSession
    const resumed = session !== undefined
    if (!session) {
      const query = new URLSearchParams({
        file_name: `${video.media.id}.mp4`,
        file_length: String(bytes.size),
        file_type: 'video/mp4',
      })
      // The documented call uses a user token; publish holds only the Page token, which Graph
      // accepts here as the Page admin's (UNCONFIRMED in Meta's guide).
      const response = await sendGraphRequest(
        context,
        {
          method: 'POST',
          path: `/${context.appId}/uploads?${query}`,
          accessToken: video.accessToken,
          tokenScheme: 'OAuth',
        },
        options,
      )
      session = (await readJSON(response, sessionSchema, PLATFORM)).id
      await video.checkpoint({ videoFormat: 'video', uploadSession: session })
    }
    const uploadSession = session
    const readOffset = async () => {
      const response = await sendGraphRequest(
        context,
        {
          method: 'GET',
          path: `/${uploadSession}`,
          accessToken: video.accessToken,
          tokenScheme: 'OAuth',
        },
        options,
      )
      return (await readJSON(response, offsetSchema, PLATFORM)).file_offset
    }
    fileHandle = await uploadFromOffset({
      bytes,
      startOffset: resumed ? await readOffset() : 0,
      readOffset,
      async send(offset) {
        const response = await sendGraphRequest(
          context,
          {
            method: 'POST',
            path: `/${uploadSession}`,
            accessToken: video.accessToken,
            // The upload endpoint reads the token only from this header, never the query.
            tokenScheme: 'OAuth',
            headers: { file_offset: String(offset) },
            body: bytes.slice(offset),
          },
          options,
        )
        const answer = await readJSON(response, uploadAnswerSchema, PLATFORM)
        return answer.h ?? answer.file_offset ?? offset
      },
    })
    await video.checkpoint({ fileHandle })
  }
  await video.checkpoint({
    sentAt: video.now().toISOString(),
    textDigest: await digestText(video.description),
  })
  const form: Record<string, string> = {
    description: video.description,
    fbuploader_video_file_chunk: fileHandle,
    published: 'true',
  }
  if (video.title) form.title = video.title
  const response = await sendIrreversible(
    video,
    () =>
      sendGraphRequest(
        context,
        {
          method: 'POST',
          baseURL: context.graphVideoBaseURL,
          path: `/${video.accountId}/videos`,
          accessToken: video.accessToken,
          form,
          irreversible: true,
        },
        options,
      ),
    { sentAt: '', textDigest: '' },
  )
  const { id } = await readJSON(response, idSchema, PLATFORM)
  return processing({ videoId: id })
}

/**
 * A reel: `video_reels` with `upload_phase=start` (a video id and an upload URL, checkpointed),
 * the bytes to the upload URL (`offset`, `file_size`), then `upload_phase=finish` with
 * `video_state=PUBLISHED`, the irreversible call. A retry reuses the video id: it resumes the
 * upload from `bytes_transferred`, and sends `finish` again only while the video still reads
 * `upload_complete` (finish never reached Facebook); otherwise it reports the status.
 *
 * https://developers.facebook.com/docs/video-api/guides/reels-publishing
 */
export async function publishReel(
  context: VideoContext,
  video: VideoPublish,
  options: CallOptions,
): Promise<ProcessingPublication | PublicationCheck> {
  let { videoId, uploadURL } = video.handles
  let uploaded = false
  let startOffset = 0
  if (videoId && video.handles.sentAt) {
    const current = await readVideo(context, video.accessToken, videoId, options)
    if (current.status?.video_status !== 'upload_complete') {
      return checkVideo(current)
    }
    uploaded = true
  } else if (videoId) {
    const current = await readVideo(context, video.accessToken, videoId, options)
    uploaded = current.status?.uploading_phase?.status === 'complete'
    startOffset = current.status?.uploading_phase?.bytes_transferred ?? 0
  }
  if (!videoId || !uploadURL) {
    const response = await sendGraphRequest(
      context,
      {
        method: 'POST',
        path: `/${video.accountId}/video_reels`,
        accessToken: video.accessToken,
        json: { upload_phase: 'start' },
      },
      options,
    )
    const started = await readJSON(response, reelStartSchema, PLATFORM)
    videoId = started.video_id
    uploadURL = started.upload_url
    await video.checkpoint({ videoFormat: 'reel', videoId, uploadURL })
  }
  const reelId = videoId
  const reelUploadURL = uploadURL
  if (!uploaded) {
    const bytes = await video.media.open({ signal: options.signal })
    await uploadFromOffset({
      bytes,
      startOffset,
      // rupload keeps what arrived; the video's uploading phase says how much.
      readOffset: async () =>
        (await readVideo(context, video.accessToken, reelId, options)).status?.uploading_phase
          ?.bytes_transferred ?? 0,
      async send(offset) {
        const response = await sendGraphRequest(
          context,
          {
            method: 'POST',
            url: reelUploadURL,
            path: '',
            accessToken: video.accessToken,
            tokenScheme: 'OAuth',
            headers: { offset: String(offset), file_size: String(bytes.size) },
            body: bytes.slice(offset),
          },
          options,
        )
        await readJSON(response, successSchema, PLATFORM)
        return 'uploaded'
      },
    })
  }
  await video.checkpoint({ sentAt: video.now().toISOString() })
  const response = await sendIrreversible(
    video,
    () =>
      sendGraphRequest(
        context,
        {
          method: 'POST',
          path: `/${video.accountId}/video_reels`,
          accessToken: video.accessToken,
          json: {
            upload_phase: 'finish',
            video_id: reelId,
            video_state: 'PUBLISHED',
            description: video.description,
            ...(video.title ? { title: video.title } : {}),
          },
          irreversible: true,
        },
        options,
      ),
    { sentAt: '' },
  )
  await readJSON(response, successSchema, PLATFORM)
  return processing({ videoId: reelId })
}

/**
 * Uploads `bytes` from `startOffset`. `send` answers the file handle when the upload is complete,
 * or the offset Facebook has reached. After an interruption it asks Facebook for its offset
 * (`readOffset`) and resumes there: never from 0 blindly, and never past what arrived.
 */
async function uploadFromOffset(upload: {
  bytes: Blob
  startOffset: number
  readOffset(): Promise<number>
  send(offset: number): Promise<string | number>
}): Promise<string> {
  let offset = upload.startOffset
  let resumes = 0
  for (;;) {
    try {
      const answer = await upload.send(offset)
      if (typeof answer === 'string') return answer
      if (answer <= offset) throw new Error(`the upload made no progress at byte ${offset}`)
      offset = answer
    } catch (error) {
      if (!isAdapterError(error) || !error.retryable || resumes >= UPLOAD_RESUMES) throw error
      resumes++
      offset = await upload.readOffset()
    }
  }
}

// The irreversible call: when Graph refuses it (any error but a lost or unreadable answer),
// nothing was made, so the send marker is cleared and the engine's look-up answers `not_found`.
async function sendIrreversible(
  video: VideoPublish,
  send: () => Promise<Response>,
  cleared: PublicationHandles,
): Promise<Response> {
  try {
    return await send()
  } catch (error) {
    if (
      isAdapterError(error) &&
      error.code !== 'OUTCOME_UNKNOWN' &&
      error.code !== 'UNEXPECTED_RESPONSE'
    ) {
      await video.checkpoint(cleared).catch(() => undefined)
    }
    throw error
  }
}

function processing(handles: PublicationHandles): ProcessingPublication {
  return {
    status: 'processing',
    handles,
    checkAfterSeconds: VIDEO_CHECK_AFTER_SECONDS,
    maxWaitSeconds: VIDEO_MAX_WAIT_SECONDS,
  }
}

/** Reads a video's status, permalink and feed post id: `GET /{video-id}?fields=…`. */
export async function readVideo(
  context: GraphContext,
  accessToken: string,
  videoId: string,
  options: CallOptions,
): Promise<Video> {
  const response = await sendGraphRequest(
    context,
    { method: 'GET', path: `/${videoId}?fields=${VIDEO_FIELDS}`, accessToken },
    options,
  )
  return readJSON(response, videoSchema, PLATFORM)
}

/**
 * What a video's status says: `error` in any phase → failed (a classified
 * `ContentRejectedError` with Facebook's code and message); `ready` with the publishing phase
 * complete → published, with the feed post id where Facebook gives one (delete and insights work
 * on it) and the permalink; anything else → still processing.
 *
 * https://developers.facebook.com/docs/video-api/guides/reels-publishing#step-4--get-status
 */
export function checkVideo(video: Video): PublicationCheck {
  const status = video.status
  const phases = [status?.uploading_phase, status?.processing_phase, status?.publishing_phase]
  const failedPhase = phases.find((phase) => phase?.status === 'error')
  if (status?.video_status === 'error' || failedPhase) {
    const reason = failedPhase?.errors?.[0]
    return {
      status: 'failed',
      error: new ContentRejectedError(
        `Facebook could not process the video (${reason?.message ?? status?.video_status}). Check its format and length, then publish it again.`,
        {
          platform: PLATFORM,
          ...(reason ? { platformCode: String(reason.code), platformMessage: reason.message } : {}),
        },
      ),
    }
  }
  if (status?.video_status === 'ready' && status.publishing_phase?.status === 'complete') {
    return {
      status: 'published',
      platformPostId: video.post_id ?? video.id,
      // Graph gives a video's permalink as a path (`/{page}/videos/{id}/`).
      url: video.permalink_url
        ? new URL(video.permalink_url, 'https://www.facebook.com').href
        : `https://www.facebook.com/${video.id}`,
    }
  }
  return {
    status: 'processing',
    checkAfterSeconds: VIDEO_CHECK_AFTER_SECONDS,
    handles: { videoId: video.id },
  }
}

/**
 * Finds a Page video whose `POST /{page-id}/videos` answer was lost: Graph returns its id only in
 * that answer, so it reads the Page's videos newest first for the description's digest among
 * those created since the send time (minus clock skew), then reports its status. A video
 * processing or failed answers `processing` with its id: `checkPublication` follows it (and
 * reports the failure). Not listed: `unknown`, never `not_found`.
 */
export async function findPageVideo(
  context: GraphContext,
  settings: LookUpSettings,
  call: { accessToken: string; accountId: string; handles: PublicationHandles },
  options: CallOptions,
): Promise<PublicationLookUp> {
  const { sentAt, textDigest } = call.handles
  if (!sentAt || !textDigest) return { status: 'not_found' }
  const windowStartMs = Date.parse(sentAt) - settings.clockSkewSeconds * 1000
  let after: string | undefined
  for (let page = 0; page < settings.maxPages; page++) {
    const query = new URLSearchParams({ fields: VIDEO_FIELDS, limit: String(settings.pageSize) })
    if (after) query.set('after', after)
    const response = await sendGraphRequest(
      context,
      { method: 'GET', path: `/${call.accountId}/videos?${query}`, accessToken: call.accessToken },
      options,
    )
    const { data, paging } = await readJSON(response, videosSchema, PLATFORM)
    for (const video of data) {
      if (video.created_time && Date.parse(video.created_time) < windowStartMs) return notListed()
      if ((await digestText(video.description ?? '')) === textDigest) {
        return lookUpVideo(video)
      }
    }
    after = paging?.next ? paging.cursors?.after : undefined
    if (!after) return notListed()
  }
  return notListed()
}

/** A known video's status as a look-up answer (a failure is left to `checkPublication`). */
export function lookUpVideo(video: Video): PublicationLookUp {
  const check = checkVideo(video)
  if (check.status === 'published') {
    return { status: 'published', platformPostId: check.platformPostId ?? video.id, url: check.url }
  }
  return processing({ videoId: video.id })
}

function notListed(): PublicationLookUp {
  return {
    status: 'unknown',
    reason:
      'Facebook does not list a video with this description among the Page’s videos since the attempt; it may not have been made, or not be listed yet. Check the Page before publishing again.',
    retryAfterSeconds: 60,
  }
}
