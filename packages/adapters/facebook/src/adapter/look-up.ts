import {
  type CallOptions,
  type PublicationHandles,
  type PublicationLookUp,
  readJSON,
} from '@post-scheduler/adapter-core'
import { z } from 'zod'
import { type GraphContext, PLATFORM, sendGraphRequest } from './http.ts'

/** How `lookUpPublication` searches a Page's recent posts. */
export interface LookUpSettings {
  /** Tolerated difference between our clock and Facebook's, in seconds. */
  clockSkewSeconds: number
  /** Posts read per page, and pages read at most, before answering `unknown`. */
  pageSize: number
  maxPages: number
}

const postsSchema = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      message: z.string().optional(),
      created_time: z.string(),
      permalink_url: z.string().optional(),
    }),
  ),
  paging: z
    .object({ cursors: z.object({ after: z.string() }).optional(), next: z.string().optional() })
    .optional(),
})

/** The public URL Facebook shows for a Page post id (`{page-id}_{post-id}`). */
export function postURL(postId: string): string {
  return `https://www.facebook.com/${postId}`
}

/**
 * A SHA-256 hex digest of a post's text: what the checkpoint saves to recognise the post later,
 * without keeping the text itself in the handles.
 *
 * @example
 * ```ts
 * await digestText('Hello') // '185f8db3…'
 * ```
 */
export async function digestText(text: string): Promise<string> {
  const bytes = new Uint8Array(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)),
  )
  return [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('')
}

/**
 * Finds the post an attempt made, from its handles: Graph has no idempotency key, so it reads
 * the Page's `published_posts` newest first and matches the text digest among posts created
 * since the attempt's `sentAt` (minus clock skew).
 *
 * Answers `not_found` only when the handles show the feed call was never sent (no `sentAt`: the
 * checkpoint before it was not saved) or was refused (`sentAt` cleared). Otherwise a post not listed is `unknown`, never
 * `not_found`: Facebook makes no promise that a new post is listed at once, and a post with the
 * same text may have been made and then hidden.
 *
 * https://developers.facebook.com/docs/graph-api/reference/page/published_posts/
 */
export async function findPublication(
  context: GraphContext,
  settings: LookUpSettings,
  call: { accessToken: string; accountId: string; handles: PublicationHandles },
  options: CallOptions,
): Promise<PublicationLookUp> {
  const { sentAt, textDigest } = call.handles
  // No send time: the checkpoint before the feed call was never saved, so the call was never
  // sent; an empty one: Graph refused the call (see `publish`), so nothing was made.
  if (!sentAt || !textDigest) return { status: 'not_found' }
  const windowStartMs = Date.parse(sentAt) - settings.clockSkewSeconds * 1000
  let after: string | undefined
  for (let page = 0; page < settings.maxPages; page++) {
    const query = new URLSearchParams({
      fields: 'id,message,created_time,permalink_url',
      limit: String(settings.pageSize),
    })
    if (after) query.set('after', after)
    const response = await sendGraphRequest(
      context,
      {
        method: 'GET',
        path: `/${call.accountId}/published_posts?${query}`,
        accessToken: call.accessToken,
      },
      options,
    )
    const { data, paging } = await readJSON(response, postsSchema, PLATFORM)
    for (const post of data) {
      if (Date.parse(post.created_time) < windowStartMs) {
        return notListed()
      }
      if ((await digestText(post.message ?? '')) === textDigest) {
        return {
          status: 'published',
          platformPostId: post.id,
          url: post.permalink_url ?? postURL(post.id),
        }
      }
    }
    after = paging?.next ? paging.cursors?.after : undefined
    if (!after) return notListed()
  }
  return {
    status: 'unknown',
    reason: `The Page has more than ${settings.maxPages * settings.pageSize} posts since the attempt; not all could be checked.`,
  }
}

function notListed(): PublicationLookUp {
  return {
    status: 'unknown',
    reason:
      'Facebook does not list a post with this text among the Page’s posts since the attempt; it may not have been made, or not be listed yet. Check the Page before publishing again.',
    retryAfterSeconds: 60,
  }
}
