import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { xCapabilities } from './capabilities.ts'

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
  it('keeps the capabilities entry browser-safe: no twitter-text, no HTTP code', () => {
    expect(new Set(runtimeImports('./capabilities.ts'))).toEqual(
      new Set(['@post-scheduler/adapter-core/capabilities', 'zod']),
    )
  })

  it('keeps twitter-text and openapi-backend (dev only) out of every entry', () => {
    const imports = ['./index.ts', './capabilities.ts', './testing.ts'].flatMap((entry) =>
      runtimeImports(entry),
    )
    expect(imports.filter((name) => /twitter-text|openapi-backend|vitest/.test(name))).toEqual([])
  })

  it('lets the emulator run without a test runner: msw, no vitest', () => {
    const imports = runtimeImports('./testing.ts')
    expect(imports).toContain('msw')
    expect(imports).toContain('@post-scheduler/adapter-core/emulator')
  })

  it('defaults the options a composer leaves out', () => {
    expect(xCapabilities.optionsSchema.parse({})).toEqual({ replySettings: 'everyone' })
  })
})
