import { configDefaults, defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'server',
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The chaos tests run worker processes for minutes: `pnpm test:chaos` runs them on their own.
    exclude: process.env.CHAOS
      ? configDefaults.exclude
      : [...configDefaults.exclude, '**/*.chaos.test.ts'],
  },
})
