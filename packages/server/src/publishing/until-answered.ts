import { isDatabaseUnavailable } from '../db/errors.ts'
import type { Services } from '../services.ts'

/**
 * Runs one of the engine's writes until PostgreSQL answers it. While the database does not answer
 * (restarting, failing over, unreachable: {@link isDatabaseUnavailable}), the write is tried again
 * after 100 ms, doubling to 1 s (jittered), until `untilMs`; any other error, or no answer by
 * then, is thrown. Every retried write is idempotent: a claim is conditional (a claim that
 * committed unanswered finds its row taken and answers `skipped`), a checkpoint merges the same
 * handles, and a finish is fenced by the attempt id (one that committed unanswered then matches
 * nothing: `skipped`, the outcome recorded).
 *
 * @example
 * ```ts
 * const claim = await untilAnswered(() => steps.claim(publicationId), Date.now() + deadlineMs, log)
 * ```
 */
export async function untilAnswered<T>(
  write: () => Promise<T>,
  untilMs: number,
  logger: Services['logger'],
): Promise<T> {
  let retried = 0
  for (let delayMs = 100; ; delayMs = Math.min(delayMs * 2, 1000)) {
    try {
      const result = await write()
      if (retried > 0) logger.info({ retried }, 'the database answers again; write recorded')
      return result
    } catch (error) {
      if (!isDatabaseUnavailable(error) || Date.now() + delayMs > untilMs) throw error
      if (retried === 0) {
        logger.warn(
          { reason: error instanceof Error ? error.message : String(error) },
          'the database did not answer; keeping the attempt and retrying the write',
        )
      }
      retried += 1
      await new Promise((resolve) => setTimeout(resolve, delayMs * (0.5 + Math.random())))
    }
  }
}
