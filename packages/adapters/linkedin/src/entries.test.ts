import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { linkedinCapabilities } from './capabilities.ts'
import { escapeLittleText, linkedin, unescapeLittleText } from './index.ts'

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
    expect(linkedinCapabilities.optionsSchema.parse({})).toEqual({
      visibility: 'public',
      disableReshare: false,
    })
  })
})

describe('commentary in little text format', () => {
  it('escapes every reserved character and reads it back unchanged', () => {
    const text = 'a\\b|c{d}e@f[g]h(i)j<k>l#m*n_o~p'
    expect(escapeLittleText(text)).toBe(
      'a\\\\b\\|c\\{d\\}e\\@f\\[g\\]h\\(i\\)j\\<k\\>l\\#m\\*n\\_o\\~p',
    )
    expect(unescapeLittleText(escapeLittleText(text))).toBe(text)
  })

  it('leaves ordinary text, emoji and line breaks alone', () => {
    expect(escapeLittleText('Hello 👋🏽\nnew line, 100% done!')).toBe(
      'Hello 👋🏽\nnew line, 100% done!',
    )
  })
})

describe('validatePost', () => {
  const adapter = linkedin({
    clientId: 'id',
    clientSecret: 'secret',
    redirectURI: 'https://app.test/cb',
  })
  const image = (width: number, height: number) => ({
    kind: 'image' as const,
    mimeType: 'image/jpeg',
    sizeBytes: 1000,
    width,
    height,
  })

  it('counts emoji as LinkedIn may (UTF-16 units), so nothing is cut', () => {
    const issues = adapter.validatePost({ post: { text: '👍'.repeat(1501) } })
    expect(issues).toContainEqual(
      expect.objectContaining({ path: ['text'], code: 'TEXT_TOO_LONG' }),
    )
    expect(adapter.validatePost({ post: { text: '👍'.repeat(1500) } })).toEqual([])
  })

  it('refuses images over 36,152,320 pixels and more than 20 images', () => {
    expect(adapter.validatePost({ post: { text: 'big', media: [image(7000, 6000)] } })).toEqual([
      expect.objectContaining({ path: ['media', 0], code: 'MEDIA_DIMENSIONS_OUT_OF_RANGE' }),
    ])
    const many = Array.from({ length: 21 }, () => image(100, 100))
    expect(adapter.validatePost({ post: { text: 'many', media: many } })).toEqual([
      expect.objectContaining({ path: ['media'], code: 'MEDIA_COMBINATION_UNSUPPORTED' }),
    ])
  })

  it('refuses a video mixed with images', () => {
    const video = {
      kind: 'video' as const,
      mimeType: 'video/mp4',
      sizeBytes: 100_000,
      durationSeconds: 10,
    }
    expect(
      adapter.validatePost({ post: { text: 'mix', media: [video, image(100, 100)] } }),
    ).toEqual([expect.objectContaining({ code: 'MEDIA_COMBINATION_UNSUPPORTED' })])
  })
})
