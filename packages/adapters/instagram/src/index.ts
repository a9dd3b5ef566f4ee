/**
 * The Instagram adapter for Post Scheduler: Instagram Login or Facebook Login, image posts, reels,
 * carousels of 2–10 images and videos, and image and video stories through media containers
 * (video finishing later through `checkPublication`), first comment, metrics, delete (Facebook
 * Login) and reconciliation of a lost `media_publish` answer.
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
  INSTAGRAM_REEL_MAX_DURATION_SECONDS,
  INSTAGRAM_REEL_MAX_SIZE_BYTES,
  INSTAGRAM_STORY_VIDEO_ASPECT_RATIO,
  INSTAGRAM_STORY_VIDEO_MAX_DURATION_SECONDS,
  INSTAGRAM_STORY_VIDEO_MAX_SIZE_BYTES,
  type InstagramPostOptions,
  instagramCapabilities,
  instagramLoginCapabilities,
  instagramOptionsSchema,
  validateInstagramPost,
} from './capabilities.ts'
