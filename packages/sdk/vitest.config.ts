import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'sdk',
    // The server's: one PostgreSQL for the run (embedded, or DATABASE_URL) and a migrated
    // template each test file copies.
    globalSetup: ['../server/test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
