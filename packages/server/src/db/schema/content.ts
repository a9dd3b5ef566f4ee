/**
 * The shapes of a post's content as stored in `jsonb` columns: by posts and by the series that
 * make posts, so both tables read them from here.
 */

/** A post's content, shared by its targets unless a per-platform override replaces a part. */
export interface PostContentData {
  text: string
  mediaIds: string[]
  firstComment?: string | undefined
  /** Follow-up parts of a thread (X). */
  thread?: { text: string }[] | undefined
}

/** What one platform gets instead of the shared content, and its typed options. */
export interface PlatformOverride {
  text?: string | undefined
  mediaIds?: string[] | undefined
  options?: Record<string, unknown> | undefined
}
