/**
 * The Instagram adapter for Post Scheduler: Instagram Login or Facebook Login, image posts,
 * carousels of 2–10 images and image stories through media containers, first comment, metrics,
 * delete (Facebook Login) and reconciliation of a lost `media_publish` answer.
 *
 * @module
 */

export type { InstagramLogin } from './adapter/graph.ts'
export { readRegainAccessSeconds } from './adapter/http.ts'
export {
  facebookLoginScopes,
  type InstagramConfig,
  instagram,
  instagramLoginScopes,
} from './adapter/instagram.ts'
export {
  INSTAGRAM_MAX_ALT_TEXT_LENGTH,
  INSTAGRAM_MAX_HASHTAGS,
  INSTAGRAM_MAX_MENTIONS,
  type InstagramPostOptions,
  instagramCapabilities,
  instagramLoginCapabilities,
  instagramOptionsSchema,
  validateInstagramPost,
} from './capabilities.ts'
