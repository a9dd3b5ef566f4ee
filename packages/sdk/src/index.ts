export { createClient, type PostSchedulerClient } from './client.ts'
export type {
  Endpoint,
  EndpointArgs,
  InputKind,
  ListEndpoint,
  Operation,
  PageItem,
} from './endpoint.ts'
export {
  AuthenticationError,
  ConflictError,
  ConnectionError,
  NotFoundError,
  PermissionError,
  PostSchedulerError,
  type PostSchedulerErrorKind,
  type PostSchedulerErrorOptions,
  type Problem,
  RateLimitError,
  ServerError,
  ValidationError,
  type ValidationIssue,
} from './errors.ts'
export { MediaUploadError, type MediaUploadParams, type UploadSource } from './media-upload.ts'
export type { Page, PageList } from './pagination.ts'
export type { ClientOptions, RequestOptions, UploadProgress } from './transport.ts'
export type * from './types.ts'
export {
  type UntypedWebhookEvent,
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookEvent,
  type WebhookHeaders,
  WebhookVerificationError,
} from './webhooks.ts'
