import type { z } from 'zod'
import type { LengthCounting } from './length.ts'

/** The kinds of media a post can carry. */
export type MediaKind = 'image' | 'video' | 'gif' | 'document'

/** Limits on one kind of media. Every bound is optional: absent means the platform sets none. */
export interface MediaKindLimits {
  /** Accepted MIME types, e.g. `['image/jpeg', 'image/png']`. */
  mimeTypes: string[]
  maxSizeBytes?: number
  minWidth?: number
  maxWidth?: number
  minHeight?: number
  maxHeight?: number
  /** Width ÷ height, inclusive bounds (Instagram: 0.8 to 1.91). */
  aspectRatio?: { min: number; max: number }
  minDurationSeconds?: number
  maxDurationSeconds?: number
}

/**
 * One allowed combination of media in a post: how many items, of which kinds. A post's media
 * must fit one layout. X: `[{ kinds: ['image'], min: 1, max: 4 }, { kinds: ['video'], min: 1, max: 1 }]`;
 * an Instagram carousel: `{ kinds: ['image', 'video'], min: 2, max: 10 }`.
 */
export interface MediaLayout {
  kinds: MediaKind[]
  min: number
  max: number
}

/**
 * What a platform accepts, as pure data plus a zod schema of its per-post options. Safe to import
 * in a browser (`@post-scheduler/adapter-core/capabilities`), so a composer validates drafts with
 * exactly the rules the server applies.
 */
export interface Capabilities<OptionsSchema extends z.ZodType = z.ZodType> {
  /** The adapter's id, e.g. `sandbox`, `x`, `linkedin`. */
  platform: string
  /** Display name, spelled as the brand spells it. */
  displayName: string
  text: {
    maxLength: number
    counting: LengthCounting
    /** Whether a post must have text (false where media alone is a post). */
    required: boolean
  }
  media: {
    /** Whether a post must have media (YouTube, TikTok). */
    required: boolean
    /** Limits per kind; a kind that is absent is not accepted at all. */
    kinds: Partial<Record<MediaKind, MediaKindLimits>>
    /** Allowed combinations; a post with media must match one. */
    layouts: MediaLayout[]
    /** Whether the platform fetches media from a public URL instead of receiving the bytes. */
    needsPublicURL: boolean
  }
  /** Follow-up posts chained to the first (X threads); absent where unsupported. */
  thread?: { maxPosts: number; maxLength: number }
  /** A comment posted right after the post (Instagram, Facebook, LinkedIn, YouTube). */
  firstComment?: { maxLength: number }
  /** Which optional verbs the adapter implements, for the UI to offer them or not. */
  features: {
    deletePost: boolean
    metrics: boolean
    revokeToken: boolean
    /** How `lookUpPublication` can answer: `exact` (by handle or key), `none` (always unknown). */
    lookUp: 'exact' | 'best_effort' | 'none'
  }
  /** Per-post options (visibility, titles…), validated on the draft's `options`. */
  optionsSchema: OptionsSchema
}

/**
 * Declares a platform's capabilities with full type inference of its options schema.
 *
 * @example
 * ```ts
 * export const exampleCapabilities = defineCapabilities({
 *   platform: 'example',
 *   displayName: 'Example',
 *   text: { maxLength: 500, counting: { method: 'graphemes' }, required: true },
 *   media: { required: false, kinds: {}, layouts: [], needsPublicURL: false },
 *   features: { deletePost: true, metrics: false, revokeToken: false, lookUp: 'none' },
 *   optionsSchema: z.object({}),
 * })
 * ```
 */
export function defineCapabilities<OptionsSchema extends z.ZodType>(
  capabilities: Capabilities<OptionsSchema>,
): Capabilities<OptionsSchema> {
  return capabilities
}
