import type { PostContent } from '@post-scheduler/adapter-core'
import type { PlatformOverride, PostContentData } from '../db/schema/index.ts'

/** What a post says: shared content and each platform's overrides. */
export interface PostText {
  content: PostContentData
  overrides: Record<string, PlatformOverride>
}

/**
 * The media ids a platform gets: its override's, else the post's.
 *
 * @example
 * ```ts
 * mediaIdsFor({ content: { text: 'Hi', mediaIds: ['med_1'] }, overrides: { x: { mediaIds: [] } } }, 'x') // []
 * ```
 */
export function mediaIdsFor(post: PostText, platform: string): string[] {
  return post.overrides[platform]?.mediaIds ?? post.content.mediaIds
}

/**
 * The content of a post for one platform, without its media: shared content with that
 * platform's overrides (see {@link mediaIdsFor} for the media).
 *
 * @example
 * ```ts
 * contentFor({ content: { text: 'Hi', mediaIds: [] }, overrides: { x: { text: 'Hi X' } } }, 'x').text // 'Hi X'
 * ```
 */
export function contentFor(post: PostText, platform: string): PostContent<never> {
  const override = post.overrides[platform] ?? {}
  return {
    text: override.text ?? post.content.text,
    ...(post.content.thread && { thread: post.content.thread }),
    ...(post.content.firstComment && { firstComment: post.content.firstComment }),
    ...(override.options && { options: override.options }),
  }
}
