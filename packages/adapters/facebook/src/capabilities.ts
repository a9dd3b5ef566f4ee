/**
 * Facebook Pages' capabilities, browser-safe: a composer imports
 * `@post-scheduler/adapter-facebook/capabilities` to validate drafts without server code.
 *
 * @module
 */
import { defineCapabilities } from '@post-scheduler/adapter-core/capabilities'
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
})

/** Options of a Facebook Page post, as a composer writes them. */
export type FacebookPostOptions = z.input<typeof facebookOptionsSchema>

const MB = 1024 * 1024

/** Most photos one Page post carries through `attached_media` (no documented maximum; UNCONFIRMED). */
export const FACEBOOK_MAX_PHOTOS = 10

/**
 * What this cut of the Facebook Pages adapter publishes: text (up to 63,206 characters, the
 * long-standing figure, UNCONFIRMED), a link, or one to ten photos, and a first comment. Photos
 * stay under 4 MB: Graph refuses larger ones with subcode 1366046 ("Photos should be smaller
 * than 4 MB"). Video and reels are not in this cut: they finish asynchronously and land with
 * the contract's asynchronous completion.
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
    },
    layouts: [{ kinds: ['image'], min: 1, max: FACEBOOK_MAX_PHOTOS }],
    needsPublicURL: false,
  },
  // Comment length is not documented; 8,000 is the commonly observed limit (UNCONFIRMED).
  firstComment: { maxLength: 8000 },
  // Graph create calls take no idempotency key: a lost answer is found by reading the Page's
  // recent published posts for the exact text, which is best effort, not an exact key.
  features: { deletePost: true, metrics: true, revokeToken: true, lookUp: 'best_effort' },
  optionsSchema: facebookOptionsSchema,
})
