import { fileURLToPath } from 'node:url'
import { cruise, type IReporterOutput } from 'dependency-cruiser'
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options'
import { describe, expect, it } from 'vitest'

const config = fileURLToPath(new URL('../../../.dependency-cruiser.cjs', import.meta.url))
const fixture = fileURLToPath(new URL('./fixtures/dependency-rules', import.meta.url))

describe('the import rules (.dependency-cruiser.cjs)', () => {
  it('catch each bad import in a tree laid out like the repository, and only those', async () => {
    // `pnpm lint` excludes the fixture; here it is the whole tree.
    const { exclude: _, ...options } = await extractDepcruiseOptions(config)
    const result: IReporterOutput = await cruise(['packages'], { ...options, baseDir: fixture })
    if (typeof result.output === 'string') throw new Error('expected the cruise result as data')
    const violations = result.output.summary.violations
      .map(({ rule, from, to }) => `${rule.name}: ${from} -> ${packageOf(to) ?? to}`)
      .sort()
    expect(violations).toEqual([
      'kit-imports-no-domain: packages/server/src/http/kit.ts -> packages/server/src/posts/service.ts',
      'kit-knows-the-request-context-as-types-only: packages/server/src/http/cors.ts -> packages/server/src/services.ts',
      'no-cycles: packages/server/src/db/a.ts -> packages/server/src/db/b.ts',
      'no-domain-imports-the-app: packages/server/src/posts/service.ts -> packages/server/src/app/app.ts',
      'packages-never-import-the-server: packages/sdk/src/client.ts -> packages/server/src/app/app.ts',
      'services-import-no-hono: packages/server/src/posts/service.ts -> hono',
      'tests-reach-the-server-through-its-entries: packages/sdk/src/client.ts -> packages/server/src/app/app.ts',
      'tests-reach-the-server-through-its-entries: packages/sdk/test/server.ts -> packages/server/src/http/kit.ts',
    ])
  })
})

/** `hono` for `…/node_modules/.pnpm/hono@4.13.19/node_modules/hono/dist/index.js`. */
const packageOf = (path: string) => path.match(/.*node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1]
