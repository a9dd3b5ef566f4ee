import { isProcessing, type PublishResult } from '@post-scheduler/adapter-core'
import { describe, expect, it } from 'vitest'
import { createTestAdapter, publishParams, useFacebook, video } from '../test/harness.ts'

const facebook = useFacebook()

function processingOf(result: PublishResult) {
  if (!isProcessing(result)) throw new Error('expected processing, got a published post')
  return result
}

describe('a Page video, by the Resumable Upload API', () => {
  it('uploads, publishes, answers processing, then published once Facebook has processed it', async () => {
    const { adapter, call } = await facebook.connect()
    facebook.emulator.deferCompletion({ afterSeconds: 3600, outcome: 'published' })
    const clip = video()
    const { params, saved } = publishParams(call, { text: 'Our new oven', media: [clip] })

    const result = processingOf(await adapter.publish(params))
    expect(result.handles.videoId).toEqual(expect.any(String))
    // The session and the file handle are saved before the irreversible call, in that order.
    expect(saved.map((handles) => Object.keys(handles))).toEqual([
      ['videoFormat', 'uploadSession'],
      ['fileHandle'],
      ['sentAt', 'textDigest'],
    ])
    const [session] = facebook.emulator.uploadSessions()
    expect(session?.bytes).toEqual(clip.bytes)
    expect(await facebook.emulator.countPosts(call.accountId)).toBe(1)
    expect(facebook.emulator.posts()).toEqual([])

    const checks = { ...call, handles: result.handles }
    expect(await adapter.checkPublication(checks)).toMatchObject({ status: 'processing' })
    facebook.emulator.completeVideos()
    const ended = await adapter.checkPublication(checks)
    const [made] = facebook.emulator.posts()
    expect(ended).toEqual({
      status: 'published',
      platformPostId: made?.id,
      url: `https://www.facebook.com/${call.accountId}/videos/${result.handles.videoId}/`,
    })
    expect(made).toMatchObject({ message: 'Our new oven', videoId: result.handles.videoId })
  })

  it('resumes an interrupted upload from the offset Facebook reports, not from 0', async () => {
    const { adapter, call } = await facebook.connect()
    facebook.emulator.interruptNextUpload({ afterBytes: 10_000 })
    const clip = video()
    const { params } = publishParams(call, { text: 'Interrupted', media: [clip] })

    processingOf(await adapter.publish(params))
    const [session] = facebook.emulator.uploadSessions()
    expect(session?.uploadOffsets).toEqual([0, 10_000])
    expect(session?.bytes).toEqual(clip.bytes)
  })

  it('resumes in a retry from the saved session, after the attempt that uploaded part of it failed', async () => {
    const { adapter, call } = await facebook.connect()
    const clip = video()
    // Four interruptions in a row: the first attempt gives up with 10,000 bytes uploaded.
    facebook.emulator.interruptNextUpload({ afterBytes: 2_500, times: 4 })
    const first = publishParams(call, { text: 'Two attempts', media: [clip] })
    await expect(adapter.publish(first.params)).rejects.toMatchObject({ code: 'NETWORK_FAILURE' })
    const [session] = facebook.emulator.uploadSessions()
    const reached = session?.bytes.length ?? 0
    expect(reached).toBe(10_000)

    const retry = publishParams(call, first.params.post, { handles: first.handles() })
    processingOf(await adapter.publish(retry.params))
    expect(facebook.emulator.uploadSessions()).toHaveLength(1)
    expect(session?.uploadOffsets).toEqual([0, 2_500, 5_000, 7_500, 10_000])
    expect(facebook.emulator.uploadSessions()[0]?.bytes).toEqual(clip.bytes)
  })

  it('ends failed, as rejected content with Facebook’s code, when processing errors', async () => {
    const { adapter, call } = await facebook.connect()
    facebook.emulator.deferCompletion({ afterSeconds: 0, outcome: 'failed' })
    const { params } = publishParams(call, { text: 'Broken file', media: [video()] })
    const result = processingOf(await adapter.publish(params))

    const ended = await adapter.checkPublication({ ...call, handles: result.handles })
    expect(ended.status).toBe('failed')
    if (ended.status !== 'failed') throw new Error('unreachable: checked above')
    expect(ended.error).toMatchObject({ code: 'CONTENT_REJECTED', platformCode: '6000' })
    expect(await facebook.emulator.countPosts(call.accountId)).toBe(0)
  })

  it('finds a video whose answer was lost among the Page’s videos, and the retry does not post it twice', async () => {
    const { adapter, call } = await facebook.connect()
    facebook.emulator.deferCompletion({ afterSeconds: 3600, outcome: 'published' })
    const injected = facebook.emulator.injectFault('publish', { kind: 'outcome_unknown' })
    const controller = new AbortController()
    void injected.committed?.then(() => controller.abort(new Error('worker gave up')))
    const first = publishParams(call, { text: 'Lost answer', media: [video()] })
    await expect(
      adapter.publish(first.params, { signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'OUTCOME_UNKNOWN' })

    const [made] = facebook.emulator.videos()
    const found = await adapter.lookUpPublication({
      ...call,
      attemptId: first.params.attemptId,
      handles: first.handles(),
    })
    expect(found).toMatchObject({ status: 'processing', handles: { videoId: made?.id } })
    const retry = publishParams(call, first.params.post, { handles: first.handles() })
    expect(await adapter.publish(retry.params)).toMatchObject({
      status: 'processing',
      handles: { videoId: made?.id },
    })
    expect(facebook.emulator.videos()).toHaveLength(1)
  })
})

describe('a reel', () => {
  const reel = { videoFormat: 'reel' as const, title: 'Behind the counter' }

  it('starts, uploads, finishes with the video id saved first, then goes processing → published', async () => {
    const { adapter, call } = await facebook.connect()
    facebook.emulator.deferCompletion({ afterSeconds: 3600, outcome: 'published' })
    const clip = video()
    const { params, saved } = publishParams(call, {
      text: 'A morning at the bakery',
      media: [clip],
      options: reel,
    })

    const result = processingOf(await adapter.publish(params))
    expect(saved.map((handles) => Object.keys(handles))).toEqual([
      ['videoFormat', 'videoId', 'uploadURL'],
      ['sentAt'],
    ])
    expect(saved[0]?.videoId).toBe(result.handles.videoId)
    const [made] = facebook.emulator.videos()
    expect(made).toMatchObject({
      format: 'reel',
      description: 'A morning at the bakery',
      title: 'Behind the counter',
      receivedBytes: clip.sizeBytes,
    })

    const checks = { ...call, handles: result.handles }
    expect(await adapter.checkPublication(checks)).toMatchObject({ status: 'processing' })
    facebook.emulator.completeVideos()
    const ended = await adapter.checkPublication(checks)
    const [post] = facebook.emulator.posts()
    expect(ended).toEqual({
      status: 'published',
      platformPostId: post?.id,
      url: `https://www.facebook.com/reel/${made?.id}/`,
    })
  })

  it('resumes an interrupted upload from the bytes Facebook reports as transferred', async () => {
    const { adapter, call } = await facebook.connect()
    facebook.emulator.interruptNextUpload({ afterBytes: 20_000 })
    const clip = video()
    const { params } = publishParams(call, { text: 'Reel', media: [clip], options: reel })

    processingOf(await adapter.publish(params))
    const [made] = facebook.emulator.videos()
    expect(made?.uploadOffsets).toEqual([0, 20_000])
    expect(made?.receivedBytes).toBe(clip.sizeBytes)
  })

  it('ends failed when Facebook cannot process the reel', async () => {
    const { adapter, call } = await facebook.connect()
    facebook.emulator.deferCompletion({ afterSeconds: 0, outcome: 'failed' })
    const { params } = publishParams(call, { text: 'Reel', media: [video()], options: reel })
    const result = processingOf(await adapter.publish(params))
    expect(await adapter.checkPublication({ ...call, handles: result.handles })).toMatchObject({
      status: 'failed',
      error: { code: 'CONTENT_REJECTED' },
    })
  })

  it('looks up a reel by its video id: not_found before finish was sent, processing after', async () => {
    const { adapter, call } = await facebook.connect()
    facebook.emulator.deferCompletion({ afterSeconds: 3600, outcome: 'published' })
    const { params, handles } = publishParams(call, {
      text: 'Reel',
      media: [video()],
      options: reel,
    })
    await adapter.publish(params)
    const { sentAt: _sent, ...beforeFinish } = handles()
    const lookUp = (saved: typeof beforeFinish) =>
      adapter.lookUpPublication({ ...call, attemptId: params.attemptId, handles: saved })
    expect(await lookUp(beforeFinish)).toEqual({ status: 'not_found' })
    expect(await lookUp(handles())).toMatchObject({
      status: 'processing',
      handles: { videoId: handles().videoId },
    })
  })
})

describe('validatePost for video', () => {
  const adapter = createTestAdapter()
  const validate = (media: ReturnType<typeof video>, options: Record<string, unknown> = {}) =>
    adapter.validatePost({ post: { text: 'Clip', media: [media], options } })

  it('accepts an MP4 Page video of any shape, and a 9:16 reel of 3 to 90 seconds', () => {
    expect(validate(video(1000, { width: 1920, height: 1080, durationSeconds: 600 }))).toEqual([])
    expect(validate(video(1000), { videoFormat: 'reel' })).toEqual([])
  })

  it('refuses a reel too long, not vertical, or too small, saying each', () => {
    const issues = validate(video(1000, { width: 360, height: 360, durationSeconds: 120 }), {
      videoFormat: 'reel',
    })
    expect(issues.map((issue) => issue.code)).toEqual([
      'REEL_DURATION',
      'REEL_ASPECT_RATIO',
      'REEL_TOO_SMALL',
    ])
  })

  it('refuses a video that is not MP4, a video with photos, and a first comment on a video', () => {
    const mov = { ...video(1000), mimeType: 'video/quicktime' }
    expect(validate(mov).length).toBeGreaterThan(0)
    expect(
      adapter.validatePost({
        post: {
          text: 'Mixed',
          media: [video(1000), { kind: 'image', mimeType: 'image/jpeg', sizeBytes: 1000 }],
        },
      }).length,
    ).toBeGreaterThan(0)
    expect(
      adapter.validatePost({
        post: { text: 'Clip', media: [video(1000)], firstComment: 'First!' },
      }),
    ).toEqual([expect.objectContaining({ code: 'FIRST_COMMENT_WITH_VIDEO' })])
  })
})
