/**
 * The X (Twitter) adapter for Post Scheduler, on the X API v2.
 *
 * @module
 */

export { readXError, readXRetryAfterSeconds, xErrorCodes } from './adapter/errors.ts'
export type { XMediaOptions } from './adapter/media.ts'
export {
  type XConfig,
  type XReconciliationOptions,
  x,
  xDefaultScopes,
} from './adapter/x.ts'
export {
  countXText,
  extractXURLs,
  validateXPost,
  type XPostOptions,
  type XRules,
  type XTextURL,
  xCapabilities,
  xOptionsSchema,
  xTextWeights,
} from './capabilities.ts'
