import { defineLibraryConfig } from '../../tsdown.base.ts'

// `.` runs anywhere (Web APIs only: fetch, WebCrypto, streams); `./node` adds Node-only helpers.
export default defineLibraryConfig({
  entry: ['src/index.ts', 'src/node.ts'],
  platform: 'neutral',
})
