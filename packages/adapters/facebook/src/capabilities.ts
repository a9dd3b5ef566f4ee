/**
 * Facebook Pages' capabilities, browser-safe: a composer imports
 * `@post-scheduler/adapter-facebook/capabilities` to validate drafts without server code.
 *
 * @module
 */
import {
  type ContentIssue,
  defineCapabilities,
  type MediaDescription,
  type PostContent,
  validatePostContent,
} from '@post-scheduler/adapter-core/capabilities'
import { z } from 'zod'

/**
 * Per-post options of a Facebook Page post.
 *
 * @example
 * ```ts
 * facebookOptionsSchema.parse({ link: 'https://example.com/launch' })
 * ```
 */
export const facebookOptionsSchema = z.strictObject({
  /**
   * A link to share with the post (Facebook shows its preview). Not with photos: a Page post
   * carries either a link preview or attached photos.
   */
  link: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * How a video is posted: `video` (default) a Page video, uploaded through the Resumable Upload
   * API; `reel` a Facebook reel (3–90 s, 9:16, at least 540×960; 30 API reels per Page a day).
   */
  videoFormat: z.enum(['video', 'reel']).optional(),
  /** The title of a Page video or reel (the post's text is its description). */
  title: z.string().max(255).optional(),
})

/** Options of a Facebook Page post, as a composer writes them. */
export type FacebookPostOptions = z.input<typeof facebookOptionsSchema>

const MB = 1024 * 1024

/** Most photos one Page post carries through `attached_media` (no documented maximum; UNCONFIRMED). */
export const FACEBOOK_MAX_PHOTOS = 10

/** Reels' documented shape: 3 to 90 seconds, 9:16, at least 540×960 (UNCONFIRMED, third-party). */
export const FACEBOOK_REEL_LIMITS = {
  minDurationSeconds: 3,
  maxDurationSeconds: 90,
  aspectRatio: 9 / 16,
  minWidth: 540,
  minHeight: 960,
} as const

/**
 * What the Facebook Pages adapter publishes: text (up to 63,206 characters, the long-standing
 * figure, UNCONFIRMED), a link, one to ten photos, or one MP4 video (a Page video or, with
 * `videoFormat: 'reel'`, a reel), and a first comment (not on a video: it is public only
 * minutes later). Photos stay under 4 MB: Graph refuses larger ones with subcode 1366046
 * ("Photos should be smaller than 4 MB"). Video size and length: 10 GB and 240 minutes, the
 * commonly quoted figures (UNCONFIRMED); the Resumable Upload API takes `video/mp4` only.
 *
 * https://developers.facebook.com/docs/pages-api/posts
 *
 * @example
 * ```ts
 * import { validatePostContent } from '@post-scheduler/adapter-core/capabilities'
 * import { facebookCapabilities } from '@post-scheduler/adapter-facebook/capabilities'
 *
 * const issues = validatePostContent({ text: draft }, facebookCapabilities)
 * ```
 */
export const facebookCapabilities = defineCapabilities({
  platform: 'facebook',
  displayName: 'Facebook',
  text: { maxLength: 63_206, counting: { method: 'graphemes' }, required: false },
  media: {
    required: false,
    kinds: {
      image: {
        mimeTypes: ['image/jpeg', 'image/png', 'image/gif', 'image/bmp', 'image/tiff'],
        maxSizeBytes: 4 * MB,
      },
      video: {
        mimeTypes: ['video/mp4'],
        maxSizeBytes: 10 * 1024 * MB,
        maxDurationSeconds: 240 * 60,
      },
    },
    layouts: [
      { kinds: ['image'], min: 1, max: FACEBOOK_MAX_PHOTOS },
      { kinds: ['video'], min: 1, max: 1 },
    ],
    needsPublicURL: false,
  },
  // Comment length is not documented; 8,000 is the commonly observed limit (UNCONFIRMED).
  firstComment: { maxLength: 8000 },
  // Graph create calls take no idempotency key: a lost answer is found by reading the Page's
  // recent published posts for the exact text, which is best effort, not an exact key.
  features: { deletePost: true, metrics: true, revokeToken: true, lookUp: 'best_effort' },
  optionsSchema: facebookOptionsSchema,
})

/**
 * Every problem with a post for Facebook: the capabilities' checks plus Facebook's own rules (a
 * link goes without media, no first comment on a video, a reel's length, 9:16 shape and minimum
 * size). Pure and synchronous; runs in browsers.
 *
 * @example
 * ```ts
 * const issues = validateFacebookPost({ text: 'Hello', media: [clip], options: { videoFormat: 'reel' } })
 * ```
 */
export function validateFacebookPost(post: PostContent): ContentIssue[] {
  const media = post.media ?? []
  const issues = validatePostContent(post, facebookCapabilities)
  const options = facebookOptionsSchema.safeParse(post.options ?? {})
  if (options.success && options.data.link !== undefined && media.length > 0) {
    const withVideo = media.some((item) => item.kind === 'video')
    issues.push({
      path: ['options', 'link'],
      code: withVideo ? 'LINK_WITH_VIDEO' : 'LINK_WITH_PHOTOS',
      message: withVideo
        ? 'A Facebook video carries no link preview: remove the link, or put it in the text.'
        : 'A Facebook post shows either a link preview or photos: remove the link or the photos.',
    })
  }
  const video = media.findIndex((item) => item.kind === 'video')
  if (video === -1) return issues
  if (post.firstComment) {
    issues.push({
      path: ['firstComment'],
      code: 'FIRST_COMMENT_WITH_VIDEO',
      message:
        'A first comment cannot go with a Facebook video: the video is public only after Facebook has processed it. Comment once it is published.',
    })
  }
  if (options.success && options.data.videoFormat === 'reel') {
    issues.push(...validateReel(media[video], video))
  }
  return issues
}

// Reels' shape (see FACEBOOK_REEL_LIMITS); a figure the media does not carry is not checked here.
function validateReel(item: MediaDescription | undefined, index: number): ContentIssue[] {
  if (!item) return []
  const issues: ContentIssue[] = []
  const path = ['media', index]
  const limits = FACEBOOK_REEL_LIMITS
  const seconds = item.durationSeconds
  if (
    seconds !== undefined &&
    (seconds < limits.minDurationSeconds || seconds > limits.maxDurationSeconds)
  ) {
    issues.push({
      path,
      code: 'REEL_DURATION',
      message: `A Facebook reel lasts ${limits.minDurationSeconds} to ${limits.maxDurationSeconds} seconds; this video lasts ${seconds}. Trim it, or post it as a Page video.`,
    })
  }
  if (item.width !== undefined && item.height !== undefined) {
    // 9:16, with a pixel's tolerance for encoders that round odd heights.
    if (Math.abs(item.width / item.height - limits.aspectRatio) > 0.01) {
      issues.push({
        path,
        code: 'REEL_ASPECT_RATIO',
        message: `A Facebook reel is vertical, 9:16; this video is ${item.width}×${item.height}. Crop it to 9:16, or post it as a Page video.`,
      })
    }
    if (item.width < limits.minWidth || item.height < limits.minHeight) {
      issues.push({
        path,
        code: 'REEL_TOO_SMALL',
        message: `A Facebook reel is at least ${limits.minWidth}×${limits.minHeight} (1080×1920 recommended); this video is ${item.width}×${item.height}.`,
      })
    }
  }
  return issues
}
