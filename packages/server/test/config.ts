import type { Config } from '../src/config/config.ts'
import { TEST_ENCRYPTION_KEYS } from '../src/testing.ts'

export { testConfig } from '../src/testing.ts'

/** A fixed test keyring (never use it elsewhere). */
export const TEST_KEYS = TEST_ENCRYPTION_KEYS

/**
 * Publishing settings for tests that run workers: short deadlines and sweeps, small concurrency,
 * budgets out of the way unless a test sets them.
 */
export function testPublishing(
  overrides: Partial<Config['publishing']> = {},
): Config['publishing'] {
  return {
    deadlineSeconds: 6,
    concurrency: 4,
    accountConcurrency: 4,
    platformConcurrency: 100,
    maxAttempts: 2,
    maxProcessingSeconds: 3600,
    sweepIntervalSeconds: 1,
    ...overrides,
  }
}
