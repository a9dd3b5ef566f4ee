/**
 * The sandbox's capabilities, browser-safe: a composer imports
 * `@post-scheduler/adapter-sandbox/capabilities` to validate drafts without server code.
 *
 * @module
 */
import { defineCapabilities } from '@post-scheduler/adapter-core/capabilities'
import { z } from 'zod'

/**
 * Per-post options of the sandbox.
 *
 * @example
 * ```ts
 * sandboxOptionsSchema.parse({ visibility: 'followers' })
 * ```
 */
export const sandboxOptionsSchema = z.strictObject({
  /** Who may see the post. */
  visibility: z.enum(['public', 'followers', 'private']).default('public'),
  /** Hides the post behind a content warning. */
  sensitive: z.boolean().default(false),
})

/** Options of a sandbox post, as a composer writes them. */
export type SandboxPostOptions = z.input<typeof sandboxOptionsSchema>

/**
 * What the sandbox accepts. Generous but finite limits, so that validation, media layouts,
 * threads and first comments can all be exercised without a real platform.
 *
 * @example
 * ```ts
 * import { validatePostContent } from '@post-scheduler/adapter-core/capabilities'
 * import { sandboxCapabilities } from '@post-scheduler/adapter-sandbox/capabilities'
 *
 * const issues = validatePostContent({ text: draft }, sandboxCapabilities)
 * ```
 */
export const sandboxCapabilities = defineCapabilities({
  platform: 'sandbox',
  displayName: 'Sandbox',
  text: { maxLength: 500, counting: { method: 'graphemes' }, required: false },
  media: {
    required: false,
    kinds: {
      image: {
        mimeTypes: ['image/jpeg', 'image/png', 'image/webp'],
        maxSizeBytes: 10 * 1024 * 1024,
        maxWidth: 8192,
        maxHeight: 8192,
        aspectRatio: { min: 0.5, max: 2 },
      },
      video: {
        mimeTypes: ['video/mp4', 'video/quicktime'],
        maxSizeBytes: 200 * 1024 * 1024,
        minDurationSeconds: 1,
        maxDurationSeconds: 600,
      },
    },
    layouts: [
      { kinds: ['image'], min: 1, max: 10 },
      { kinds: ['video'], min: 1, max: 1 },
    ],
    needsPublicURL: false,
  },
  thread: { maxPosts: 10, maxLength: 500 },
  firstComment: { maxLength: 500 },
  features: { deletePost: true, metrics: true, revokeToken: true, lookUp: 'exact' },
  optionsSchema: sandboxOptionsSchema,
})
