import { type Adapter, type ContentIssue, ContentRejectedError } from '@post-scheduler/adapter-core'
import { isAllowedAddress } from '../../outbound/guard.ts'

/**
 * Why a platform that fetches media by URL (Instagram) cannot reach this server's signed media
 * URLs, or `undefined` when `PUBLIC_URL` may be reachable: a loopback, private or reserved
 * address, `localhost` or a single-label or `.local`/`.internal` name is not on the internet.
 *
 * @example
 * ```ts
 * unreachablePublicURL('http://127.0.0.1:3000') // 'PUBLIC_URL http://127.0.0.1:3000 is …'
 * ```
 */
export function unreachablePublicURL(publicURL: string): string | undefined {
  const host = new URL(publicURL).hostname.replace(/^\[|\]$/g, '').toLowerCase()
  const local =
    host === 'localhost' ||
    /\.(localhost|local|internal|lan|home\.arpa)$/.test(host) ||
    (!host.includes('.') && !host.includes(':')) ||
    (/^[\d.]+$|:/.test(host) && !isAllowedAddress(host, { allowedNetworks: [] }))
  return local
    ? `PUBLIC_URL ${publicURL} is not reachable from the internet, and the platform fetches each media file from this server by URL: set PUBLIC_URL to a public https address of this server (or post without media)`
    : undefined
}

/**
 * The adapter of a platform that pulls media by URL, refusing media posts while `PUBLIC_URL`
 * is unreachable (see {@link unreachablePublicURL}): `validatePost` reports `MEDIA_URL_UNREACHABLE`
 * on each media file, and `publish` fails with `ContentRejectedError` before calling the platform,
 * instead of the platform's own obscure "media could not be fetched".
 *
 * @example
 * ```ts
 * const adapter = withReachableMedia(instagram(config), context.publicURL)
 * ```
 */
export function withReachableMedia(adapter: Adapter, publicURL: string): Adapter {
  const reason = unreachablePublicURL(publicURL)
  if (!reason) return adapter
  const issuesOf = (media: readonly unknown[] | undefined): ContentIssue[] =>
    (media ?? []).map((_, index) => ({
      path: ['media', index],
      code: 'MEDIA_URL_UNREACHABLE',
      message: reason,
    }))
  return {
    ...adapter,
    validatePost: (params) => [...adapter.validatePost(params), ...issuesOf(params.post.media)],
    async publish(params, options) {
      const issues = issuesOf(params.post.media)
      if (issues.length > 0) {
        throw new ContentRejectedError(reason, { platform: adapter.id, issues })
      }
      return adapter.publish(params, options)
    },
  }
}
