import { configDefaults, defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'server',
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The chaos tests run worker processes for minutes: `pnpm test:chaos` runs them on their own.
    // The fault tests restart PostgreSQL servers and processes of their own: `pnpm test:faults`.
    exclude: [
      ...configDefaults.exclude,
      ...(process.env.CHAOS ? [] : ['**/*.chaos.test.ts']),
      ...(process.env.FAULTS ? [] : ['**/*.fault.test.ts']),
    ],
  },
})
