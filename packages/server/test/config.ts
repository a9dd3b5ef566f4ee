import { type Config, loadConfig } from '../src/config/config.ts'

/** A configuration for tests: quiet logs, a free port, the given database. */
export function testConfig(databaseURL: string, overrides: Partial<Config> = {}): Config {
  return {
    ...loadConfig({ DATABASE_URL: databaseURL, PORT: '0', LOG_LEVEL: 'silent' }),
    ...overrides,
  }
}
