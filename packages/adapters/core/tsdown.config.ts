import { defineLibraryConfig } from '../../../tsdown.base.ts'

export default defineLibraryConfig({
  entry: ['src/index.ts', 'src/capabilities.ts', 'src/testing.ts'],
  // The testing entry loads these from the integrator's own install (optional peers).
  external: ['vitest', /^msw(\/|$)/],
})
