/**
 * The browser-safe entry: capabilities as data, length counting and post validation. Nothing
 * reachable from here imports `node:` modules or HTTP code, so a composer can bundle it.
 *
 * @module
 */
export {
  type Capabilities,
  defineCapabilities,
  type MediaKind,
  type MediaKindLimits,
  type MediaLayout,
} from './capabilities/capabilities.ts'
export { countTextLength, type LengthCounting } from './capabilities/length.ts'
export { validatePostContent } from './capabilities/validate.ts'
export type {
  ContentIssue,
  MediaDescription,
  PostContent,
  PublishMedia,
  ThreadPart,
} from './contract/post.ts'
