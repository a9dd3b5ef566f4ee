import {
  isProcessing,
  type ProcessingPublication,
  type PublishResult,
} from '@post-scheduler/adapter-core'

/** A publish answer the test expects to be the post itself (its text asks for no processing). */
export function synchronous<T extends PublishResult>(result: T): Exclude<T, ProcessingPublication> {
  if (isProcessing(result)) throw new Error('expected a published post, not one still processing')
  return result as Exclude<T, ProcessingPublication>
}
