/** A signal for one call, and whether it was our timeout that fired. */
export interface CallSignal {
  signal: AbortSignal | undefined
  /** `true` once `timeoutMs` elapsed (as opposed to the caller aborting). */
  timedOut(): boolean
}

/**
 * Combines the caller's `signal` with a `timeoutMs` deadline (`AbortSignal.any`), remembering
 * which one ended the call so errors can say "timed out" rather than "aborted".
 *
 * @example
 * ```ts
 * const call = createCallSignal({ signal, timeoutMs: 10_000 })
 * await fetch(url, { signal: call.signal })
 * ```
 */
export function createCallSignal(options: {
  signal?: AbortSignal
  timeoutMs?: number
}): CallSignal {
  const { signal, timeoutMs } = options
  if (timeoutMs === undefined) return { signal, timedOut: () => false }
  // AbortSignal.timeout takes whole milliseconds only; a computed fraction would throw.
  const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs)))
  return {
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    timedOut: () => timeout.aborted && !signal?.aborted,
  }
}
