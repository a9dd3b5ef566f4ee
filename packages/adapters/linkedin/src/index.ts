/**
 * The LinkedIn adapter for Post Scheduler: members and the organization pages they administer,
 * text, image, multi-image, video and document posts, delete, metrics and reconciliation.
 *
 * @module
 */

export { secondsUntilNextMidnightUTC } from './adapter/http.ts'
export {
  calculateReauthorizationAt,
  type LinkedInConfig,
  linkedin,
  linkedinDefaultScopes,
} from './adapter/linkedin.ts'
export { escapeLittleText, unescapeLittleText } from './adapter/text.ts'
export {
  LINKEDIN_MAX_IMAGE_PIXELS,
  type LinkedInPostOptions,
  linkedinCapabilities,
  linkedinOptionsSchema,
} from './capabilities.ts'
