import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { MediaDescription } from '../contract/post.ts'
import { defineCapabilities } from './capabilities.ts'
import { validatePostContent } from './validate.ts'

const capabilities = defineCapabilities({
  platform: 'example',
  displayName: 'Example',
  text: { maxLength: 10, counting: { method: 'graphemes' }, required: true },
  media: {
    required: false,
    kinds: {
      image: {
        mimeTypes: ['image/jpeg'],
        maxSizeBytes: 1000,
        aspectRatio: { min: 0.8, max: 1.91 },
        minWidth: 320,
      },
      video: { mimeTypes: ['video/mp4'], minDurationSeconds: 3, maxDurationSeconds: 60 },
    },
    layouts: [
      { kinds: ['image'], min: 1, max: 4 },
      { kinds: ['video'], min: 1, max: 1 },
    ],
    needsPublicURL: false,
  },
  thread: { maxPosts: 2, maxLength: 5 },
  features: { deletePost: false, metrics: false, revokeToken: false, lookUp: 'none' },
  optionsSchema: z.strictObject({ visibility: z.enum(['public', 'private']).optional() }),
})

const image = (overrides: Partial<MediaDescription> = {}): MediaDescription => ({
  kind: 'image',
  mimeType: 'image/jpeg',
  sizeBytes: 500,
  width: 1000,
  height: 1000,
  ...overrides,
})

const codes = (post: Parameters<typeof validatePostContent>[0]) =>
  validatePostContent(post, capabilities).map(({ path, code }) => ({ path, code }))

describe('validatePostContent', () => {
  it('finds nothing wrong with a post within every limit', () => {
    expect(validatePostContent({ text: 'hi', media: [image(), image()] }, capabilities)).toEqual([])
  })

  it('reports missing and overlong text', () => {
    expect(codes({ text: ' ' })).toEqual([{ path: ['text'], code: 'TEXT_REQUIRED' }])
    expect(codes({ text: 'eleven char' })).toEqual([{ path: ['text'], code: 'TEXT_TOO_LONG' }])
  })

  it('takes media without text only where the platform allows it', () => {
    expect(codes({ text: '', media: [image()] })).toEqual([
      { path: ['text'], code: 'TEXT_REQUIRED' },
    ])
    const mediaAlone = { ...capabilities, text: { ...capabilities.text, required: false } }
    expect(validatePostContent({ text: '', media: [image()] }, mediaAlone)).toEqual([])
    expect(validatePostContent({ text: '' }, mediaAlone)).toMatchObject([
      { code: 'TEXT_REQUIRED', message: 'Example posts need text or media.' },
    ])
  })

  it('reports each media problem at the path of the offending field', () => {
    expect(
      codes({
        text: 'hi',
        media: [
          image({ mimeType: 'image/png', sizeBytes: 2000 }),
          image({ width: 300, height: 1000 }),
        ],
      }),
    ).toEqual([
      { path: ['media', 0, 'mimeType'], code: 'MEDIA_TYPE_UNSUPPORTED' },
      { path: ['media', 0, 'sizeBytes'], code: 'MEDIA_TOO_LARGE' },
      { path: ['media', 1, 'width'], code: 'MEDIA_DIMENSIONS_OUT_OF_RANGE' },
      { path: ['media', 1, 'aspectRatio'], code: 'MEDIA_ASPECT_RATIO_OUT_OF_RANGE' },
    ])
  })

  it('reports a kind the platform does not take, and a duration out of range', () => {
    expect(
      codes({
        text: 'hi',
        media: [{ kind: 'document', mimeType: 'application/pdf', sizeBytes: 1 }],
      }),
    ).toEqual([{ path: ['media', 0, 'kind'], code: 'MEDIA_KIND_UNSUPPORTED' }])
    expect(
      codes({
        text: 'hi',
        media: [{ kind: 'video', mimeType: 'video/mp4', sizeBytes: 1, durationSeconds: 61 }],
      }),
    ).toEqual([{ path: ['media', 0, 'durationSeconds'], code: 'MEDIA_DURATION_OUT_OF_RANGE' }])
  })

  it('reports combinations no layout allows, naming the ones it does', () => {
    const video: MediaDescription = {
      kind: 'video',
      mimeType: 'video/mp4',
      sizeBytes: 1,
      durationSeconds: 5,
    }
    const issues = validatePostContent({ text: 'hi', media: [image(), video] }, capabilities)
    expect(issues).toEqual([
      {
        path: ['media'],
        code: 'MEDIA_COMBINATION_UNSUPPORTED',
        message:
          'Example does not accept 1 image and 1 video in one post; it accepts 1 to 4 image files, or 1 video file.',
      },
    ])
    expect(codes({ text: 'hi', media: Array.from({ length: 5 }, () => image()) })).toEqual([
      { path: ['media'], code: 'MEDIA_COMBINATION_UNSUPPORTED' },
    ])
  })

  it('checks threads and first comments against what the platform supports', () => {
    expect(codes({ text: 'hi', thread: [{ text: 'a' }, { text: 'b' }] })).toEqual([
      { path: ['thread'], code: 'THREAD_TOO_LONG' },
    ])
    expect(codes({ text: 'hi', thread: [{ text: 'toolong' }] })).toEqual([
      { path: ['thread', 0, 'text'], code: 'TEXT_TOO_LONG' },
    ])
    expect(codes({ text: 'hi', firstComment: 'first!' })).toEqual([
      { path: ['firstComment'], code: 'FIRST_COMMENT_UNSUPPORTED' },
    ])
  })

  it('validates options against the schema, under options', () => {
    expect(codes({ text: 'hi', options: { visibility: 'secret' } })).toEqual([
      { path: ['options', 'visibility'], code: 'OPTIONS_INVALID' },
    ])
  })
})
