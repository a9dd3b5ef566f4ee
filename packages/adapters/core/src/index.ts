/**
 * The contract every Post Scheduler platform adapter implements, the error taxonomy the job
 * runner branches on, and the OAuth, HTTP and upload helpers adapters share.
 *
 * @module
 */
export * from './capabilities.ts'
export {
  type AccountCall,
  type Adapter,
  isProcessing,
  type PlatformAccount,
  type PostMetrics,
  type ProcessingPublication,
  type PublicationCheck,
  type PublicationHandles,
  type PublicationLookUp,
  type PublishedPost,
  type PublishParams,
  type PublishResult,
} from './contract/adapter.ts'
export {
  AdapterError,
  type AdapterErrorAction,
  type AdapterErrorCode,
  type AdapterErrorOptions,
  type AnyAdapterError,
  ContentRejectedError,
  isAdapterError,
  NetworkFailureError,
  OutcomeUnknownError,
  PlatformUnavailableError,
  RateLimitedError,
  ReconnectRequiredError,
  UnexpectedResponseError,
} from './errors/errors.ts'
export { parseRateLimitHeaders, parseRetryAfter, type RateLimitInfo } from './http/rate-limit.ts'
export {
  type CallOptions,
  errorFromResponse,
  type PlatformErrorDetails,
  type PlatformRequest,
  readCommonPlatformError,
  readJSON,
  sendPlatformRequest,
} from './http/request.ts'
export { type CallSignal, createCallSignal } from './http/timeout.ts'
export { createS256CodeChallenge, generateCodeVerifier, generateState } from './oauth/pkce.ts'
export {
  type ClientAuthentication,
  type OAuthTokens,
  requestTokens,
  sendTokenEndpointRequest,
  type TokenRequest,
} from './oauth/token-request.ts'
export {
  splitIntoParts,
  type UploadInPartsParams,
  type UploadPart,
  uploadInParts,
} from './upload/upload-in-parts.ts'
