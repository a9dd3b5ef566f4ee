import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { Scalar } from '@scalar/hono-api-reference'
import { Hono } from 'hono'

// Scalar's prebuilt browser bundle, served by us rather than a CDN so /docs works offline and on
// networks that block third-party scripts. The package does not export the file, so it is found
// beside its main entry.
const bundlePath = new URL(
  './browser/standalone.js',
  `file://${createRequire(import.meta.url).resolve('@scalar/api-reference')}`,
)
let bundle: Promise<Buffer> | undefined

/**
 * The interactive API reference (Scalar) at `/docs`, reading the document from `/openapi.json`
 * beside it, wherever the app is mounted.
 */
export function apiReference() {
  return new Hono()
    .get('/docs/scalar.js', async (c) => {
      bundle ??= readFile(bundlePath)
      return c.body(new Uint8Array(await bundle), 200, {
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': 'public, max-age=86400',
      })
    })
    .get(
      '/docs',
      Scalar((c) => {
        const base = c.req.path.replace(/\/docs\/?$/, '')
        return {
          url: `${base}/openapi.json`,
          cdn: `${base}/docs/scalar.js`,
          pageTitle: 'Post Scheduler API reference',
          // Nothing on this page may call out to third parties: no web fonts, no telemetry, no
          // hosted AI agent or MCP, no proxy (our privacy policy covers what the page sends).
          withDefaultFonts: false,
          telemetry: false,
          agent: { disabled: true },
          mcp: { disabled: true },
          showDeveloperTools: 'never',
        }
      }),
    )
}
