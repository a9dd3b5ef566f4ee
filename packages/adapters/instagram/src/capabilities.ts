/**
 * Instagram's capabilities and post rules, browser-safe: a composer imports
 * `@post-scheduler/adapter-instagram/capabilities` to validate drafts without server code.
 *
 * @module
 */
import {
  type ContentIssue,
  defineCapabilities,
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
  /** `feed` (an image post or a carousel) or `story` (one image, no caption, 24 h). */
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

const features = { deletePost: true, metrics: true, revokeToken: false, lookUp: 'exact' } as const

/**
 * What Instagram's content publishing accepts in this adapter (image posts, carousels of 2–10
 * images, image stories), with Facebook Login: captions of 2,200 characters, JPEG images up to
 * 8 MB with an aspect ratio from 4:5 to 1.91:1, handed over by public URL. Delete is available
 * with Facebook Login only: see {@link instagramLoginCapabilities} for Instagram Login.
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
    },
    layouts: [{ kinds: ['image'], min: 1, max: 10 }],
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
 * (hashtags, mentions, alt text, carousel size, stories, collaborators), and a clear refusal of
 * video, which this adapter does not publish yet. Pure and synchronous; runs in browsers.
 *
 * @example
 * ```ts
 * const issues = validateInstagramPost({ text: 'Hello #world', media: [photo] })
 * ```
 */
export function validateInstagramPost(post: PostContent): ContentIssue[] {
  const media = post.media ?? []
  const issues = validatePostContent(post, instagramCapabilities).filter(
    (issue) =>
      !(
        (issue.code === 'MEDIA_KIND_UNSUPPORTED' ||
          issue.code === 'MEDIA_COMBINATION_UNSUPPORTED') &&
        media.some((item) => item.kind === 'video' || item.kind === 'gif')
      ),
  )
  media.forEach((item, index) => {
    if (item.kind === 'video' || item.kind === 'gif') {
      issues.push({
        path: ['media', index, 'kind'],
        code: 'MEDIA_KIND_UNSUPPORTED',
        message:
          'Instagram videos, reels and video stories are not supported yet: they finish processing minutes after upload, and arrive with asynchronous completion. Post images for now.',
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
          'An Instagram story carries one image; publish several stories for several images.',
      })
    }
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

// A hashtag is `#` followed by letters, digits or `_`, not inside a word (`a#b` is not one).
function countHashtags(text: string): number {
  return text.match(/(?<![\p{L}\p{N}_&])#[\p{L}\p{N}_]+/gu)?.length ?? 0
}

// A mention is `@username`, not inside a word or an email address.
function countMentions(text: string): number {
  return text.match(/(?<![\p{L}\p{N}_.])@[A-Za-z0-9._]+/gu)?.length ?? 0
}
