import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'sdk',
    // One PostgreSQL for the run (embedded, or DATABASE_URL) and a migrated template each test
    // file copies, through the server's ./testing entry.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
