/** How a post the sandbox accepted finishes, when it finishes later (see {@link SandboxProcessingSource}). */
export interface SandboxProcessing {
  /** How long the sandbox "processes" the post before it is public (or fails). */
  seconds: number
  /** How processing ends. Defaults to `published`. */
  outcome?: 'published' | 'failed'
}

/** What a processing source is asked about: the post being published. */
export interface SandboxProcessingContext {
  accountId: string
  text: string
}

/**
 * Decides whether a post the sandbox accepts is public at once (`undefined`) or finishes later,
 * as Instagram video containers, Facebook reels, YouTube uploads and TikTok moderation do.
 */
export type SandboxProcessingSource = (
  context: SandboxProcessingContext,
) => SandboxProcessing | undefined

const PROCESSING = /#sandbox-processing(?::(\d+(?:\.\d+)?))?(?![\w.:])/
const FAILS = /#sandbox-fail:processing\b/

/**
 * The default processing source: a post whose text contains `#sandbox-processing` (5 s) or
 * `#sandbox-processing:<seconds>` is processed that long before it is public, and one with
 * `#sandbox-fail:processing` is processed (for the given seconds, else 2 s) and then fails — so the
 * asynchronous flow can be demonstrated from the composer alone.
 *
 * @example
 * ```ts
 * processingFromText({ accountId: 'sbx_acc', text: 'A reel #sandbox-processing:30' })
 * // { seconds: 30, outcome: 'published' }
 * ```
 */
export const processingFromText: SandboxProcessingSource = ({ text }) => {
  const match = PROCESSING.exec(text)
  const fails = FAILS.test(text)
  if (!match && !fails) return undefined
  const seconds = match?.[1] === undefined ? (match ? 5 : 2) : Number(match[1])
  return { seconds, outcome: fails ? 'failed' : 'published' }
}
