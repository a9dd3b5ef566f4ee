/**
 * LinkedIn's capabilities, browser-safe: a composer imports
 * `@post-scheduler/adapter-linkedin/capabilities` to validate drafts without server code.
 *
 * @module
 */
import { defineCapabilities } from '@post-scheduler/adapter-core/capabilities'
import { z } from 'zod'

/**
 * Per-post options of LinkedIn.
 *
 * @example
 * ```ts
 * linkedinOptionsSchema.parse({ visibility: 'connections', documentTitle: 'Q3 report' })
 * ```
 */
export const linkedinOptionsSchema = z.strictObject({
  /**
   * Who may see the post: `public`, `connections` (members only; organizations cannot use it) or
   * `logged_in` (signed-in LinkedIn members).
   */
  visibility: z.enum(['public', 'connections', 'logged_in']).default('public'),
  /** Stops other members from resharing the post. */
  disableReshare: z.boolean().default(false),
  /** Title of a document post; LinkedIn requires one when the post carries a document. */
  documentTitle: z.string().trim().min(1).max(400).optional(),
  /** Title of a video post (optional on LinkedIn). */
  videoTitle: z.string().trim().min(1).max(400).optional(),
})

/** Options of a LinkedIn post, as a composer writes them. */
export type LinkedInPostOptions = z.input<typeof linkedinOptionsSchema>

const MB = 1024 * 1024

/**
 * What LinkedIn's Posts API accepts (Community Management API, 2026): commentary up to 3,000
 * characters, one image, 2–20 images (multiImage), one video or one document per post.
 *
 * Counting: LinkedIn does not document how it counts; UTF-16 units count emoji as two, which is
 * never less than what LinkedIn counts, so a post that passes here is not cut by LinkedIn.
 * Image size (5 MB) and video size (500 MB) are the commonly cited member limits; LinkedIn's own
 * pages list larger ones for organizations (UNCONFIRMED, see docs/adapters/linkedin.md).
 *
 * @example
 * ```ts
 * import { validatePostContent } from '@post-scheduler/adapter-core/capabilities'
 * import { linkedinCapabilities } from '@post-scheduler/adapter-linkedin/capabilities'
 *
 * const issues = validatePostContent({ text: draft }, linkedinCapabilities)
 * ```
 */
export const linkedinCapabilities = defineCapabilities({
  platform: 'linkedin',
  displayName: 'LinkedIn',
  // https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
  text: { maxLength: 3000, counting: { method: 'utf16' }, required: false },
  media: {
    required: false,
    kinds: {
      image: { mimeTypes: ['image/jpeg', 'image/png', 'image/gif'], maxSizeBytes: 5 * MB },
      gif: { mimeTypes: ['image/gif'], maxSizeBytes: 5 * MB },
      video: {
        mimeTypes: ['video/mp4'],
        maxSizeBytes: 500 * MB,
        minDurationSeconds: 3,
        maxDurationSeconds: 30 * 60,
        aspectRatio: { min: 1 / 2.4, max: 2.4 },
      },
      document: {
        mimeTypes: [
          'application/pdf',
          'application/vnd.ms-powerpoint',
          'application/vnd.openxmlformats-officedocument.presentationml.presentation',
          'application/msword',
          'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        ],
        maxSizeBytes: 100 * MB,
      },
    },
    layouts: [
      { kinds: ['image', 'gif'], min: 1, max: 20 },
      { kinds: ['video'], min: 1, max: 1 },
      { kinds: ['document'], min: 1, max: 1 },
    ],
    needsPublicURL: false,
  },
  // LinkedIn has no revocation endpoint (UNCONFIRMED), and finding a post after a lost answer
  // matches the author's recent posts by text and time: best effort, not an exact key.
  features: { deletePost: true, metrics: true, revokeToken: false, lookUp: 'best_effort' },
  optionsSchema: linkedinOptionsSchema,
})

/**
 * Largest image LinkedIn accepts, in pixels (width × height); `validatePost` checks it, since a
 * pixel count is not one of the capabilities' bounds.
 *
 * @example
 * ```ts
 * const fits = width * height <= LINKEDIN_MAX_IMAGE_PIXELS
 * ```
 */
export const LINKEDIN_MAX_IMAGE_PIXELS = 36_152_320
