import {
  type CallOptions,
  isAdapterError,
  type PublicationHandles,
  type PublicationLookUp,
  readJSON,
} from '@post-scheduler/adapter-core'
import { z } from 'zod'
import { type LinkedInHTTPContext, PLATFORM, sendLinkedInRequest } from './http.ts'
import { digestText, unescapeLittleText } from './text.ts'

/** How `lookUpPublication` searches. */
export interface LookUpSettings {
  /** Whether the app may read a member's posts (`r_member_social`, closed to new apps). */
  memberPostsReadable: boolean
  /** Tolerated difference between our clock and LinkedIn's, in seconds. */
  clockSkewSeconds: number
  /** How long after sending a post LinkedIn may take to list it; absence is proven only after. */
  settleSeconds: number
  /** Posts read per page, and pages read at most, before answering `unknown`. */
  pageSize: number
  maxPages: number
}

const postsPageSchema = z.object({
  elements: z.array(
    z.looseObject({
      id: z.string(),
      commentary: z.string().default(''),
      createdAt: z.number(),
      lastModifiedAt: z.number().optional(),
    }),
  ),
})

/** The post URL LinkedIn shows for a post URN. */
export function postURL(urn: string): string {
  return `https://www.linkedin.com/feed/update/${urn}/`
}

/**
 * Finds the post an attempt made, from its handles: LinkedIn has no idempotency key, so it reads
 * the author's posts newest first ("find posts by author", sorted by `LAST_MODIFIED`) and matches
 * the text digest among posts created since the attempt's `sentAt` (minus clock skew). A post
 * created in the window was modified in it too, so once the listing reaches posts last modified
 * before the window, every candidate has been seen.
 *
 * Answers `not_found` only when the whole window was read, nothing matched, and `settleSeconds`
 * have passed since the post was sent; `unknown` when the author's posts cannot be read (members:
 * `r_member_social` is closed), the window was not exhausted, or it is too early to tell.
 *
 * https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
 */
export async function findPublication(
  context: LinkedInHTTPContext,
  settings: LookUpSettings,
  call: { accessToken: string; author: string; handles: PublicationHandles },
  options: CallOptions,
): Promise<PublicationLookUp> {
  const { sentAt, textDigest } = call.handles
  if (sentAt === undefined || textDigest === undefined) {
    // The checkpoint before the create call was never saved, so the call was never sent.
    return { status: 'not_found' }
  }
  const sentAtMs = Date.parse(sentAt)
  if (call.author.startsWith('urn:li:person:') && !settings.memberPostsReadable) {
    return {
      status: 'unknown',
      reason:
        "LinkedIn does not let this app read a member's posts (r_member_social), so whether the post was made cannot be checked. Look at the member's LinkedIn activity.",
    }
  }
  const windowStartMs = sentAtMs - settings.clockSkewSeconds * 1000
  let exhausted = false
  for (let page = 0; page < settings.maxPages && !exhausted; page++) {
    const query = `q=author&author=${encodeURIComponent(call.author)}&count=${settings.pageSize}&start=${page * settings.pageSize}&sortBy=LAST_MODIFIED`
    let response: Response
    try {
      response = await sendLinkedInRequest(
        context,
        {
          method: 'GET',
          url: `/rest/posts?${query}`,
          accessToken: call.accessToken,
          versioned: true,
          headers: { 'x-restli-method': 'FINDER' },
        },
        options,
      )
    } catch (error) {
      // Without read permission (r_organization_social / r_member_social) LinkedIn refuses the
      // finder (403, or 400 for member authors): the post cannot be looked for, which proves nothing.
      if (isAdapterError(error) && (error.status === 403 || error.status === 400)) {
        return {
          status: 'unknown',
          reason: `LinkedIn refused to list the author's posts (${error.status}), so whether the post was made cannot be checked.`,
        }
      }
      throw error
    }
    const { elements } = await readJSON(response, postsPageSchema, PLATFORM)
    for (const post of elements) {
      if ((post.lastModifiedAt ?? post.createdAt) < windowStartMs) {
        exhausted = true
        break
      }
      if (post.createdAt < windowStartMs) continue
      if ((await digestText(unescapeLittleText(post.commentary))) === textDigest) {
        return { status: 'published', platformPostId: post.id, url: postURL(post.id) }
      }
    }
    if (elements.length < settings.pageSize) exhausted = true
  }
  if (!exhausted) {
    return {
      status: 'unknown',
      reason: `The author has more than ${settings.maxPages * settings.pageSize} posts changed since the attempt; not all could be checked.`,
    }
  }
  const settleRemainingSeconds = Math.ceil(
    (sentAtMs + settings.settleSeconds * 1000 - context.now().getTime()) / 1000,
  )
  if (settleRemainingSeconds > 0) {
    return {
      status: 'unknown',
      reason: 'The post is not listed yet, but LinkedIn may still be storing it.',
      retryAfterSeconds: settleRemainingSeconds,
    }
  }
  return { status: 'not_found' }
}
