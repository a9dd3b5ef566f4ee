import { defineLibraryConfig } from '../../tsdown.base.ts'

// `.` uses Web APIs only (fetch, WebCrypto, streams), so it runs in Node, browsers and edge
// runtimes (scripts/bundle-size.ts bundles it for browsers); `./node` adds Node-only helpers.
export default defineLibraryConfig({
  entry: ['src/index.ts', 'src/node.ts'],
})
