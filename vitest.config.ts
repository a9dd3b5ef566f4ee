import { defineConfig } from 'vitest/config'

// `pnpm vitest` at the root runs every package's tests; each package's own config describes it.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'packages/adapters/*/vitest.config.ts'],
  },
})
