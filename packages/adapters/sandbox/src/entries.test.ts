import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { sandboxCapabilities } from './capabilities.ts'

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
  it('keeps the capabilities entry browser-safe', () => {
    expect(new Set(runtimeImports('./capabilities.ts'))).toEqual(
      new Set(['@post-scheduler/adapter-core/capabilities', 'zod']),
    )
  })

  it('lets the emulator run without a test runner: msw only, no vitest', () => {
    const imports = runtimeImports('./testing.ts')
    expect(imports).toContain('@post-scheduler/adapter-core/emulator')
    expect(imports.filter((name) => /vitest|adapter-core\/testing/.test(name))).toEqual([])
  })

  it('defaults the options a composer leaves out', () => {
    expect(sandboxCapabilities.optionsSchema.parse({})).toEqual({
      visibility: 'public',
      sensitive: false,
    })
  })
})
