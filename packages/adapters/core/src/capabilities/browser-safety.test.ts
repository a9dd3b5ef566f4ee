import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// Every module a runtime import from `entry` reaches, and the bare specifiers they import.
function reachableImports(entry: string): { files: string[]; packages: Set<string> } {
  const files: string[] = []
  const packages = new Set<string>()
  const pending = [entry]
  while (pending.length > 0) {
    const file = pending.pop() as string
    if (files.includes(file)) continue
    files.push(file)
    const source = readFileSync(file, 'utf8')
    for (const [, statement, specifier] of source.matchAll(
      /^(import|export)\s+(?!type\b)[^'"]*?from\s+'([^']+)'/gm,
    )) {
      if (!statement || !specifier) continue
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier))
      else packages.add(specifier)
    }
  }
  return { files, packages }
}

describe('the capabilities entry', () => {
  it('reaches only browser-safe modules: zod, and nothing from node: or the HTTP code', () => {
    const entry = resolve(dirname(fileURLToPath(import.meta.url)), '../capabilities.ts')
    const { files, packages } = reachableImports(entry)
    expect([...packages].filter((name) => name !== 'zod')).toEqual([])
    expect(files.some((file) => /\/(http|oauth|testing|upload)\//.test(file))).toBe(false)
  })
})
