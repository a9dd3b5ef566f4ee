/**
 * Instagram's capabilities and post rules, browser-safe: a composer imports
 * `@post-scheduler/adapter-instagram/capabilities` to validate drafts without server code.
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
 * Per-post options of Instagram.
 *
 * @example
 * ```ts
 * instagramOptionsSchema.parse({ placement: 'story' })
 * instagramOptionsSchema.parse({ collaborators: ['a_friend'] })
 * ```
 */
export const instagramOptionsSchema = z.strictObject({
  /** `feed` (an image post, a reel or a carousel) or `story` (one image or video, no caption, 24 h). */
  placement: z.enum(['feed', 'story']).default('feed'),
  /**
   * Usernames (without `@`) invited as collaborators: up to 3, feed posts and carousels only
   * (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media).
   */
  collaborators: z
    .array(z.string().regex(/^[A-Za-z0-9._]{1,30}$/, 'an Instagram username, without @'))
    .max(3)
    .optional(),
})

/** Options of an Instagram post, as a composer writes them. */
export type InstagramPostOptions = z.input<typeof instagramOptionsSchema>

const MB = 1024 * 1024

/** Caption limits from the IG User Media reference. */
export const INSTAGRAM_MAX_HASHTAGS = 30
/** At most this many `@` mentions in a caption. */
export const INSTAGRAM_MAX_MENTIONS = 20
/** `alt_text` of an image: at most this many characters. */
export const INSTAGRAM_MAX_ALT_TEXT_LENGTH = 1000
/** A reel (a feed video) lasts 3 s to 15 min (Reels specifications). */
export const INSTAGRAM_REEL_MAX_DURATION_SECONDS = 15 * 60
/** A reel's file is at most 300 MB. */
export const INSTAGRAM_REEL_MAX_SIZE_BYTES = 300 * MB
/** A video story lasts 3 s to 60 s. */
export const INSTAGRAM_STORY_VIDEO_MAX_DURATION_SECONDS = 60
/** A video story's file is at most 100 MB. */
export const INSTAGRAM_STORY_VIDEO_MAX_SIZE_BYTES = 100 * MB
/** A video story's aspect ratio (width ÷ height) is from 0.1:1 to 10:1. */
export const INSTAGRAM_STORY_VIDEO_ASPECT_RATIO = { min: 0.1, max: 10 } as const

const features = { deletePost: true, metrics: true, revokeToken: false, lookUp: 'exact' } as const

/**
 * What Instagram's content publishing accepts in this adapter (image posts, reels, carousels of
 * 2–10 images and videos, image and video stories), with Facebook Login: captions of 2,200
 * characters, JPEG images up to 8 MB with an aspect ratio from 4:5 to 1.91:1, MP4 or MOV videos
 * of 3 s to 15 min, up to 300 MB, 1920 px wide and an aspect ratio from 0.01:1 to 10:1, handed
 * over by public URL. Delete is available with Facebook Login only: see
 * {@link instagramLoginCapabilities} for Instagram Login.
 *
 * `lookUp` is `exact`: the saved container's `status_code` proves whether the post was made.
 *
 * @example
 * ```ts
 * import { validatePostContent } from '@post-scheduler/adapter-core/capabilities'
 * import { instagramCapabilities } from '@post-scheduler/adapter-instagram/capabilities'
 *
 * const issues = validatePostContent({ text: draft, media }, instagramCapabilities)
 * ```
 */
export const instagramCapabilities = defineCapabilities({
  platform: 'instagram',
  displayName: 'Instagram',
  // https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
  text: { maxLength: 2200, counting: { method: 'graphemes' }, required: false },
  media: {
    required: true,
    kinds: {
      // JPEG only: PNG and WebP are refused with 36001/2207005. Widths outside 320–1440 are
      // scaled by Instagram, not refused, so they are not bounds here.
      image: {
        mimeTypes: ['image/jpeg'],
        maxSizeBytes: 8 * MB,
        aspectRatio: { min: 0.8, max: 1.91 },
      },
      // Reels specifications (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media#reel-specifications).
      // The media pipeline describes a video by its container type, size, dimensions and
      // duration; codecs (H.264/HEVC, AAC), frame rate and bitrate are not known before upload,
      // so Instagram checks them and a container it cannot process ends ERROR (2207026).
      video: {
        mimeTypes: ['video/mp4', 'video/quicktime'],
        maxSizeBytes: INSTAGRAM_REEL_MAX_SIZE_BYTES,
        maxWidth: 1920,
        aspectRatio: { min: 0.01, max: 10 },
        minDurationSeconds: 3,
        maxDurationSeconds: INSTAGRAM_REEL_MAX_DURATION_SECONDS,
      },
    },
    // One image (a post), one video (a reel), or a carousel of 2–10 images and videos mixed.
    layouts: [{ kinds: ['image', 'video'], min: 1, max: 10 }],
    needsPublicURL: true,
  },
  firstComment: { maxLength: 2200 },
  features,
  optionsSchema: instagramOptionsSchema,
})

/**
 * The same capabilities with Instagram Login, whose Graph API has no delete
 * (`IGMediaForIGOnlyAPI` has no `DELETE`).
 *
 * @example
 * ```ts
 * const capabilities = login === 'instagram' ? instagramLoginCapabilities : instagramCapabilities
 * ```
 */
export const instagramLoginCapabilities = defineCapabilities({
  ...instagramCapabilities,
  features: { ...features, deletePost: false },
})

/**
 * Every problem with a post for Instagram: the capabilities' checks plus Instagram's own rules
 * (hashtags, mentions, alt text on images only, carousel size, stories and their shorter video
 * limits, collaborators). Pure and synchronous; runs in browsers.
 *
 * @example
 * ```ts
 * const issues = validateInstagramPost({ text: 'Hello #world', media: [photo] })
 * ```
 */
export function validateInstagramPost(post: PostContent): ContentIssue[] {
  const media = post.media ?? []
  const issues = validatePostContent(post, instagramCapabilities)
  media.forEach((item, index) => {
    // `alt_text` is for images only; reels and stories take none (IG User Media reference).
    if (item.kind === 'video' && item.altText !== undefined && item.altText !== '') {
      issues.push({
        path: ['media', index, 'altText'],
        code: 'ALT_TEXT_UNSUPPORTED',
        message: 'Instagram takes alternative text for images only: remove it from the video.',
      })
    }
    if (item.altText !== undefined && item.altText.length > INSTAGRAM_MAX_ALT_TEXT_LENGTH) {
      issues.push({
        path: ['media', index, 'altText'],
        code: 'ALT_TEXT_TOO_LONG',
        message: `The alternative text is ${item.altText.length} characters long; Instagram allows ${INSTAGRAM_MAX_ALT_TEXT_LENGTH}.`,
      })
    }
  })
  const hashtags = countHashtags(post.text)
  if (hashtags > INSTAGRAM_MAX_HASHTAGS) {
    issues.push({
      path: ['text'],
      code: 'TOO_MANY_HASHTAGS',
      message: `The caption has ${hashtags} hashtags; Instagram allows ${INSTAGRAM_MAX_HASHTAGS}.`,
    })
  }
  const mentions = countMentions(post.text)
  if (mentions > INSTAGRAM_MAX_MENTIONS) {
    issues.push({
      path: ['text'],
      code: 'TOO_MANY_MENTIONS',
      message: `The caption mentions ${mentions} accounts; Instagram allows ${INSTAGRAM_MAX_MENTIONS}.`,
    })
  }
  const options = instagramOptionsSchema.safeParse(post.options ?? {})
  if (!options.success) return issues
  if (options.data.placement === 'story') {
    if (media.length > 1) {
      issues.push({
        path: ['media'],
        code: 'MEDIA_COMBINATION_UNSUPPORTED',
        message:
          'An Instagram story carries one image or one video; publish several stories for several files.',
      })
    }
    media.forEach((item, index) => {
      if (item.kind === 'video') issues.push(...validateStoryVideo(item, index))
    })
    if (post.text.trim() !== '') {
      issues.push({
        path: ['text'],
        code: 'STORY_CAPTION_UNSUPPORTED',
        message: 'Instagram stories have no caption: remove the text or publish to the feed.',
      })
    }
    if (options.data.collaborators?.length) {
      issues.push({
        path: ['options', 'collaborators'],
        code: 'COLLABORATORS_UNSUPPORTED',
        message: 'Instagram stories cannot have collaborators.',
      })
    }
    if (post.firstComment !== undefined) {
      issues.push({
        path: ['firstComment'],
        code: 'FIRST_COMMENT_UNSUPPORTED',
        message: 'Instagram stories take no comments from their author: remove the first comment.',
      })
    }
  }
  return issues
}

// A video story is stricter than a reel: 3–60 s, 100 MB, 0.1:1–10:1.
function validateStoryVideo(item: MediaDescription, index: number): ContentIssue[] {
  const issues: ContentIssue[] = []
  if (
    item.durationSeconds !== undefined &&
    item.durationSeconds > INSTAGRAM_STORY_VIDEO_MAX_DURATION_SECONDS
  ) {
    issues.push({
      path: ['media', index, 'durationSeconds'],
      code: 'MEDIA_DURATION_OUT_OF_RANGE',
      message: `The video lasts ${item.durationSeconds} s; an Instagram video story lasts at most ${INSTAGRAM_STORY_VIDEO_MAX_DURATION_SECONDS} s. Publish it as a reel, or shorten it.`,
    })
  }
  if (item.sizeBytes > INSTAGRAM_STORY_VIDEO_MAX_SIZE_BYTES) {
    issues.push({
      path: ['media', index, 'sizeBytes'],
      code: 'MEDIA_TOO_LARGE',
      message: `The video is ${Math.ceil(item.sizeBytes / MB)} MB; an Instagram video story is at most ${INSTAGRAM_STORY_VIDEO_MAX_SIZE_BYTES / MB} MB.`,
    })
  }
  if (item.width && item.height) {
    const ratio = item.width / item.height
    const { min, max } = INSTAGRAM_STORY_VIDEO_ASPECT_RATIO
    if (ratio < min || ratio > max) {
      issues.push({
        path: ['media', index, 'aspectRatio'],
        code: 'MEDIA_ASPECT_RATIO_OUT_OF_RANGE',
        message: `The video is ${item.width}×${item.height}; an Instagram video story needs an aspect ratio from ${min}:1 to ${max}:1.`,
      })
    }
  }
  return issues
}

// A hashtag is `#` followed by letters, digits or `_`, not inside a word (`a#b` is not one).
function countHashtags(text: string): number {
  return text.match(/(?<![\p{L}\p{N}_&])#[\p{L}\p{N}_]+/gu)?.length ?? 0
}

// A mention is `@username`, not inside a word or an email address.
function countMentions(text: string): number {
  return text.match(/(?<![\p{L}\p{N}_.])@[A-Za-z0-9._]+/gu)?.length ?? 0
}
