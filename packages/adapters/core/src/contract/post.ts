import type { MediaKind } from '../capabilities/capabilities.ts'

/**
 * What is known about one media file without its bytes, as the server stores it after sniffing
 * (and a composer after reading the file). Enough to validate a post.
 */
export interface MediaDescription {
  kind: MediaKind
  mimeType: string
  sizeBytes: number
  width?: number
  height?: number
  durationSeconds?: number
  /** Alternative text for screen readers, where the platform takes it. */
  altText?: string
}

/** A media file ready to publish: its description, and how to get its bytes. */
export interface PublishMedia extends MediaDescription {
  /** Our id of the media (for logs and handles), not the platform's. */
  id: string
  /** Opens the bytes. Called at most once per upload attempt. */
  open(options?: { signal?: AbortSignal }): Promise<Blob>
  /** A URL the platform can fetch the bytes from, for platforms that pull (Instagram, TikTok photos). */
  publicURL?: string
}

/** One follow-up post of a thread. */
export interface ThreadPart {
  text: string
}

/**
 * The content of a post for one platform, after per-platform overrides: what `validatePost`
 * checks and `publish` sends.
 */
export interface PostContent<Media extends MediaDescription = MediaDescription> {
  text: string
  /** In display order. */
  media?: Media[]
  /** Follow-up posts, where `capabilities.thread` is set. */
  thread?: ThreadPart[]
  /** A comment posted under the post, where `capabilities.firstComment` is set. */
  firstComment?: string
  /** Platform options, validated against `capabilities.optionsSchema`. */
  options?: unknown
}

/** One problem with a post, found by `validatePost` or reported by the platform. */
export interface ContentIssue {
  /** Where in the post, e.g. `['media', 1, 'durationSeconds']`. */
  path: (string | number)[]
  /** Stable UPPER_SNAKE code, e.g. `TEXT_TOO_LONG`. */
  code: string
  /** What is wrong and how to fix it, fit to show to the person who wrote the post. */
  message: string
}
