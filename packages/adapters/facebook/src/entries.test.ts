import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { facebookCapabilities } from './capabilities.ts'

// The packages a module and the local modules it reaches import at run time (not `import type`).
function runtimeImports(path: string, seen = new Set<string>()): string[] {
  const url = new URL(path, import.meta.url)
  if (seen.has(url.href)) return []
  seen.add(url.href)
  const source = readFileSync(url, 'utf8')
  return [...source.matchAll(/^(?:import|export)\s+(?!type\b)[^'"]*?from\s+'([^']+)'/gm)].flatMap(
    ([, specifier = '']) =>
      specifier.startsWith('.') ? runtimeImports(new URL(specifier, url).href, seen) : [specifier],
  )
}

describe('the package entries', () => {
  it('keeps the capabilities entry browser-safe: no Node built-ins, no HTTP code', () => {
    expect(new Set(runtimeImports('./capabilities.ts'))).toEqual(
      new Set(['@post-scheduler/adapter-core/capabilities', 'zod']),
    )
  })

  it('keeps Node built-ins out of the adapter entry, so it runs on edge runtimes too', () => {
    const imports = runtimeImports('./index.ts')
    expect(imports.filter((name) => name.startsWith('node:'))).toEqual([])
  })

  it('lets the emulator run without a test runner: msw only, no vitest, no specs read from disk', () => {
    const imports = runtimeImports('./testing.ts')
    expect(imports).toContain('@post-scheduler/adapter-core/emulator')
    expect(imports.filter((name) => /vitest|adapter-core\/testing|^node:/.test(name))).toEqual([])
  })

  it('defaults the options a composer leaves out, and refuses a link that is not http(s)', () => {
    expect(facebookCapabilities.optionsSchema.parse({})).toEqual({})
    expect(
      facebookCapabilities.optionsSchema.safeParse({ link: 'javascript:alert(1)' }).success,
    ).toBe(false)
  })
})
