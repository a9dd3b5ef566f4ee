import { type Config, loadConfig } from '../src/config/config.ts'

/** A fixed test keyring (never use it elsewhere). */
export const TEST_KEYS = `test1:${Buffer.alloc(32, 7).toString('base64')}`

/** A configuration for tests: quiet logs, a free port, the given database. */
export function testConfig(databaseURL: string, overrides: Partial<Config> = {}): Config {
  return {
    ...loadConfig({
      DATABASE_URL: databaseURL,
      PORT: '0',
      LOG_LEVEL: 'silent',
      ENCRYPTION_KEYS: TEST_KEYS,
      PUBLIC_URL: 'http://post-scheduler.test',
      // Stops at once: a test that needs the drain sets it.
      SHUTDOWN_DRAIN_SECONDS: '0',
    }),
    ...overrides,
  }
}

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
    sweepIntervalSeconds: 1,
    ...overrides,
  }
}
