/**
 * X's capabilities and validation, browser-safe: a composer imports
 * `@post-scheduler/adapter-x/capabilities` to count and validate drafts exactly as the server does.
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
import { countXText, xTextWeights } from './text/count.ts'

export { countXText, extractXURLs, type XTextURL, xTextWeights } from './text/count.ts'

/**
 * Per-post options for X.
 *
 * @example
 * ```ts
 * xOptionsSchema.parse({ replySettings: 'following' })
 * ```
 */
export const xOptionsSchema = z.strictObject({
  /**
   * Who may reply (`reply_settings` of `POST /2/tweets`); `everyone` sends nothing. Applies to
   * every post of a thread.
   */
  replySettings: z
    .enum(['everyone', 'following', 'mentionedUsers', 'subscribers', 'verified'])
    .default('everyone'),
})

/** Options of an X post, as a composer writes them. */
export type XPostOptions = z.input<typeof xOptionsSchema>

// X's composer allows 25 posts per thread; the API sets no documented limit.
const THREAD_MAX_POSTS = 25

/**
 * What X accepts for an app with self-serve access and a non-premium account: 280 weighted
 * characters (URLs 23, emoji and CJK 2), up to 4 images or 1 GIF or 1 video, threads.
 * `text.counting` describes X's weights as data for adapter-core's generic counter; use
 * {@link validateXPost} (or {@link countXText}) for X's exact count.
 *
 * @example
 * ```ts
 * import { xCapabilities } from '@post-scheduler/adapter-x/capabilities'
 *
 * const accepts = Object.keys(xCapabilities.media.kinds) // ['image', 'gif', 'video']
 * ```
 */
export const xCapabilities = defineCapabilities({
  platform: 'x',
  displayName: 'X',
  text: {
    maxLength: xTextWeights.maxWeightedLength,
    counting: {
      method: 'weighted',
      scale: xTextWeights.scale,
      defaultWeight: xTextWeights.defaultWeight,
      ranges: xTextWeights.ranges.map((range) => ({ ...range })),
      urlWeight: xTextWeights.transformedURLLength * xTextWeights.scale,
      emojiWeight: xTextWeights.defaultWeight,
    },
    // A post may be media only: `text` is required "unless media is given" (TweetCreateRequest).
    required: false,
  },
  media: {
    required: false,
    // https://docs.x.com/x-api/media/quickstart/best-practices
    kinds: {
      image: {
        mimeTypes: ['image/jpeg', 'image/png', 'image/webp'],
        maxSizeBytes: 5 * 1024 * 1024,
      },
      gif: {
        mimeTypes: ['image/gif'],
        maxSizeBytes: 15 * 1024 * 1024,
        maxWidth: 1280,
        maxHeight: 1080,
      },
      video: {
        mimeTypes: ['video/mp4', 'video/quicktime'],
        maxSizeBytes: 512 * 1024 * 1024,
        minWidth: 32,
        minHeight: 32,
        aspectRatio: { min: 1 / 3, max: 3 },
        minDurationSeconds: 0.5,
        maxDurationSeconds: 140,
      },
    },
    layouts: [
      { kinds: ['image'], min: 1, max: 4 },
      { kinds: ['gif'], min: 1, max: 1 },
      { kinds: ['video'], min: 1, max: 1 },
    ],
    needsPublicURL: false,
  },
  thread: { maxPosts: THREAD_MAX_POSTS, maxLength: xTextWeights.maxWeightedLength },
  features: { deletePost: true, metrics: true, revokeToken: true, lookUp: 'exact' },
  optionsSchema: xOptionsSchema,
})

/**
 * What differs between X apps and accounts, and what X has not documented (UNCONFIRMED points
 * are configurable; see docs/adapters/x.md).
 */
export interface XRules {
  /**
   * Weighted characters per post. 280 for most accounts; Premium accounts may post longer text
   * (the API limit is UNCONFIRMED: X's product says 25,000). Defaults to 280.
   */
  maxTextLength?: number
  /**
   * The app's API access. Since 2026-02-23 self-serve and pay-per-use apps may only reply where
   * the replying account was summoned by the author, and may use one cashtag per post;
   * `enterprise` apps are exempt. Defaults to `self_serve`.
   */
  access?: 'self_serve' | 'enterprise'
  /**
   * UNCONFIRMED: whether X lets a self-serve app reply to the account's own post (a thread).
   * `allowed` (default) publishes threads and reports X's refusal clearly if it comes;
   * `refused` reports threads as invalid before anything is posted.
   */
  selfReplies?: 'allowed' | 'refused'
}

const CASHTAG = /(?:^|[^\p{L}\p{N}_$])\$([a-z]{1,6}(?:[._][a-z]{1,2})?)(?=$|[^\p{L}\p{N}_])/giu

/**
 * Every problem with a post for X, each with its path: adapter-core's checks with X's exact
 * weighted count, alt text at most 1,000 characters, one cashtag per post for self-serve apps,
 * and threads refused up front when {@link XRules.selfReplies} says X refuses them. Pure and
 * synchronous; the adapter's `validatePost` is this function with the adapter's rules.
 *
 * @example
 * ```ts
 * const issues = validateXPost({ text: 'Hello 👋 example.com' }, { access: 'self_serve' })
 * if (issues.length === 0) enablePublish()
 * ```
 */
export function validateXPost(post: PostContent, rules: XRules = {}): ContentIssue[] {
  const maxLength = rules.maxTextLength ?? xTextWeights.maxWeightedLength
  const capabilities = {
    ...xCapabilities,
    text: { ...xCapabilities.text, maxLength },
    thread: { maxPosts: THREAD_MAX_POSTS, maxLength },
  }
  // adapter-core counts `weighted` text generically; X's own count replaces its length issues.
  const issues = validatePostContent(post, capabilities).filter(
    (issue) => issue.code !== 'TEXT_TOO_LONG',
  )
  const texts = [
    { path: ['text'], text: post.text, label: 'The text' },
    ...(post.thread ?? []).map((part, index) => ({
      path: ['thread', index, 'text'],
      text: part.text,
      label: `Post ${index + 2} of the thread`,
    })),
  ]
  for (const { path, text, label } of texts) {
    const length = countXText(text)
    if (length > maxLength) {
      issues.push({
        path,
        code: 'TEXT_TOO_LONG',
        message: `${label} is ${length} characters long as X counts them (links 23, emoji and CJK 2); X allows ${maxLength}.`,
      })
    }
    if (rules.access !== 'enterprise' && [...text.matchAll(CASHTAG)].length > 1) {
      issues.push({
        path,
        code: 'TOO_MANY_CASHTAGS',
        message: `${label} has more than one cashtag; X allows one per post for self-serve apps.`,
      })
    }
  }
  post.thread?.forEach((part, index) => {
    if (part.text.trim() === '') {
      issues.push({
        path: ['thread', index, 'text'],
        code: 'TEXT_REQUIRED',
        message: `Post ${index + 2} of the thread is empty; X posts need text or media.`,
      })
    }
  })
  if (
    post.thread &&
    post.thread.length > 0 &&
    rules.access !== 'enterprise' &&
    rules.selfReplies === 'refused'
  ) {
    issues.push({
      path: ['thread'],
      code: 'REPLY_RESTRICTED',
      message:
        'X does not let self-serve apps post replies, so threads cannot be published with this app; publish the first post alone or use an enterprise app.',
    })
  }
  post.media?.forEach((item, index) => {
    if (item.altText !== undefined && [...item.altText].length > 1000) {
      issues.push({
        path: ['media', index, 'altText'],
        code: 'ALT_TEXT_TOO_LONG',
        message: `The alternative text of media ${index + 1} is ${[...item.altText].length} characters long; X allows 1000.`,
      })
    }
  })
  return issues
}
