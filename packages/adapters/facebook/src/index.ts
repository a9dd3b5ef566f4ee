/**
 * The Facebook Pages adapter for Post Scheduler: Facebook Login, the person's Pages and their
 * Page tokens, text, link and photo posts, first comment, delete, insights and reconciliation.
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
  type FacebookPostOptions,
  facebookCapabilities,
  facebookOptionsSchema,
} from './capabilities.ts'
