import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { sandboxCapabilities } from './capabilities.ts'

describe('the sandbox capabilities entry', () => {
  it('imports only browser-safe packages', () => {
    const source = readFileSync(new URL('./capabilities.ts', import.meta.url), 'utf8')
    const imports = [...source.matchAll(/^import\s+(?!type\b)[^'"]*from\s+'([^']+)'/gm)].map(
      (match) => match[1],
    )
    expect(imports.sort()).toEqual(['@post-scheduler/adapter-core/capabilities', 'zod'])
  })

  it('defaults the options a composer leaves out', () => {
    expect(sandboxCapabilities.optionsSchema.parse({})).toEqual({
      visibility: 'public',
      sensitive: false,
    })
  })
})
