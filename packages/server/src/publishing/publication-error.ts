import type { AnyAdapterError } from '@post-scheduler/adapter-core'
import type { PublicationError } from '../db/schema/index.ts'

/**
 * What a publication (or a platform deletion) shows of an adapter's error: its code, message,
 * retryability, the action for the user and the platform's own code when it gave one.
 *
 * @example
 * ```ts
 * if (isAdapterError(error)) return { outcome: 'failed', error: publicationErrorOf(error) }
 * ```
 */
export function publicationErrorOf(error: AnyAdapterError): PublicationError {
  return {
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    ...(error.action && { action: error.action }),
    ...('platformCode' in error &&
      typeof error.platformCode === 'string' && { platformCode: error.platformCode }),
  }
}
