// Prints the size of the browser entry as a browser app would ship it: bundled for the browser,
// minified and gzipped, without ky (a dependency apps share). Fails when the entry pulls in a
// Node built-in. Run after the build: `pnpm --filter @post-scheduler/sdk size`.
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { rolldown } from 'rolldown'

const TARGET_BYTES = 8 * 1024
const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url))

const bundle = await rolldown({
  input: entry,
  platform: 'browser',
  external: (id) => id === 'ky' || id.startsWith('ky/'),
})
const { output } = await bundle.generate({ format: 'esm', minify: true })
await bundle.close()

const code = output.map((chunk) => (chunk.type === 'chunk' ? chunk.code : '')).join('\n')
const builtins = [...code.matchAll(/from\s*["'](node:[^"']+)["']/g)].map((match) => match[1])
if (builtins.length > 0) {
  console.error(`The browser entry imports Node built-ins: ${builtins.join(', ')}`)
  process.exit(1)
}
const minBytes = Buffer.byteLength(code)
const gzipBytes = gzipSync(code, { level: 9 }).byteLength
const kb = (bytes: number) => `${(bytes / 1024).toFixed(2)} KB`
console.log(
  `@post-scheduler/sdk browser entry (without ky): ${kb(minBytes)} min, ${kb(gzipBytes)} min+gzip (target ≤ ${kb(TARGET_BYTES)})`,
)
