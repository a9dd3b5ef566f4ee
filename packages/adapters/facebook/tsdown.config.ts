import { defineLibraryConfig } from '../../../tsdown.base.ts'

// Dependencies and peers (msw for the testing entry) stay external by default.
export default defineLibraryConfig({
  entry: ['src/index.ts', 'src/capabilities.ts', 'src/testing.ts'],
})
