/**
 * The Facebook Pages adapter for Post Scheduler: Facebook Login, the person's Pages and their
 * Page tokens, text, link, photo, Page video and reel posts, first comment, delete, insights and
 * reconciliation.
 *
 * @module
 */

export {
  type FacebookConfig,
  facebook,
  facebookDefaultScopes,
} from './adapter/facebook.ts'
export {
  DEFAULT_GRAPH_VERSION,
  type GraphErrorBody,
  type GraphUsage,
  readUsageHeaders,
} from './adapter/http.ts'
export {
  FACEBOOK_MAX_PHOTOS,
  FACEBOOK_REEL_LIMITS,
  type FacebookPostOptions,
  facebookCapabilities,
  facebookOptionsSchema,
  validateFacebookPost,
} from './capabilities.ts'
