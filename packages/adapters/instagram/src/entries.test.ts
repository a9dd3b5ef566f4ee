import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { instagramCapabilities, validateInstagramPost } from './capabilities.ts'

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
    expect(imports.filter((name) => /vitest|adapter-core\/testing|node:/.test(name))).toEqual([])
  })

  it('defaults the options a composer leaves out', () => {
    expect(instagramCapabilities.optionsSchema.parse({})).toEqual({ placement: 'feed' })
  })
})

describe('validatePost', () => {
  const image = (width: number, height: number, mimeType = 'image/jpeg') => ({
    kind: 'image' as const,
    mimeType,
    sizeBytes: 1000,
    width,
    height,
  })
  const codes = (post: Parameters<typeof validateInstagramPost>[0]) =>
    validateInstagramPost(post).map((issue) => issue.code)

  it('accepts a caption of 2,200 characters, 30 hashtags and 20 mentions, and no more', () => {
    const tags = Array.from({ length: 30 }, (_, i) => `#tag${i}`).join(' ')
    const mentions = Array.from({ length: 20 }, (_, i) => `@user${i}`).join(' ')
    expect(codes({ text: `${tags} ${mentions}`, media: [image(1080, 1080)] })).toEqual([])
    expect(codes({ text: `${tags} #one_more`, media: [image(1080, 1080)] })).toEqual([
      'TOO_MANY_HASHTAGS',
    ])
    expect(codes({ text: `${mentions} @one.more`, media: [image(1080, 1080)] })).toEqual([
      'TOO_MANY_MENTIONS',
    ])
    expect(codes({ text: 'x'.repeat(2201), media: [image(1080, 1080)] })).toEqual(['TEXT_TOO_LONG'])
    expect(codes({ text: 'write to me@example.com or a#b', media: [image(1080, 1080)] })).toEqual(
      [],
    )
  })

  it('accepts JPEG only, within 4:5 and 1.91:1', () => {
    expect(codes({ text: '', media: [image(1080, 1080, 'image/png')] })).toEqual([
      'MEDIA_TYPE_UNSUPPORTED',
    ])
    expect(codes({ text: '', media: [image(1080, 1350)] })).toEqual([])
    expect(codes({ text: '', media: [image(1080, 1400)] })).toHaveLength(1)
    expect(codes({ text: '', media: [image(1910, 1000)] })).toEqual([])
    expect(codes({ text: '', media: [image(2000, 1000)] })).toHaveLength(1)
  })

  it('accepts carousels of 2 to 10 images', () => {
    const many = (count: number) => Array.from({ length: count }, () => image(1080, 1080))
    expect(codes({ text: 'c', media: many(10) })).toEqual([])
    expect(codes({ text: 'c', media: many(11) })).toEqual(['MEDIA_COMBINATION_UNSUPPORTED'])
  })

  it('refuses a fourth collaborator, and collaborators, caption or a second image on a story', () => {
    expect(
      codes({
        text: '',
        media: [image(1080, 1080)],
        options: { collaborators: ['a', 'b', 'c', 'd'] },
      }),
    ).toEqual(['OPTIONS_INVALID'])
    const story = { placement: 'story', collaborators: ['a'] }
    expect(
      codes({ text: 'hi', media: [image(1080, 1920), image(1080, 1920)], options: story }),
    ).toEqual(
      expect.arrayContaining([
        'MEDIA_COMBINATION_UNSUPPORTED',
        'STORY_CAPTION_UNSUPPORTED',
        'COLLABORATORS_UNSUPPORTED',
      ]),
    )
  })

  const video = (durationSeconds: number, extra: Record<string, unknown> = {}) => ({
    kind: 'video' as const,
    mimeType: 'video/mp4',
    sizeBytes: 1000,
    width: 1080,
    height: 1920,
    durationSeconds,
    ...extra,
  })

  it('accepts MP4 and MOV reels of 3 s to 15 min, up to 300 MB and 1920 px wide', () => {
    expect(codes({ text: 'Reel', media: [video(3)] })).toEqual([])
    expect(codes({ text: 'Reel', media: [video(900, { mimeType: 'video/quicktime' })] })).toEqual(
      [],
    )
    expect(codes({ text: 'Reel', media: [video(2)] })).toEqual(['MEDIA_DURATION_OUT_OF_RANGE'])
    expect(codes({ text: 'Reel', media: [video(901)] })).toEqual(['MEDIA_DURATION_OUT_OF_RANGE'])
    expect(codes({ text: 'Reel', media: [video(10, { mimeType: 'video/webm' })] })).toEqual([
      'MEDIA_TYPE_UNSUPPORTED',
    ])
    expect(codes({ text: 'Reel', media: [video(10, { sizeBytes: 301 * 1024 * 1024 })] })).toEqual([
      'MEDIA_TOO_LARGE',
    ])
    expect(codes({ text: 'Reel', media: [video(10, { width: 2160, height: 3840 })] })).toEqual([
      'MEDIA_DIMENSIONS_OUT_OF_RANGE',
    ])
  })

  it('accepts a carousel mixing images and videos, and refuses alt text on a video', () => {
    expect(codes({ text: 'c', media: [image(1080, 1080), video(10)] })).toEqual([])
    expect(codes({ text: 'c', media: [video(10, { altText: 'A lake' })] })).toEqual([
      'ALT_TEXT_UNSUPPORTED',
    ])
  })

  it('holds a video story to 60 s, 100 MB and an aspect ratio from 0.1:1 to 10:1', () => {
    const story = { placement: 'story' }
    expect(codes({ text: '', media: [video(60)], options: story })).toEqual([])
    expect(codes({ text: '', media: [video(61)], options: story })).toEqual([
      'MEDIA_DURATION_OUT_OF_RANGE',
    ])
    expect(
      codes({ text: '', media: [video(10, { sizeBytes: 101 * 1024 * 1024 })], options: story }),
    ).toEqual(['MEDIA_TOO_LARGE'])
    expect(
      codes({ text: '', media: [video(10, { width: 100, height: 1920 })], options: story }),
    ).toEqual(['MEDIA_ASPECT_RATIO_OUT_OF_RANGE'])
  })

  it('refuses alt text over 1,000 characters', () => {
    expect(
      codes({ text: '', media: [{ ...image(1080, 1080), altText: 'a'.repeat(1001) }] }),
    ).toEqual(['ALT_TEXT_TOO_LONG'])
  })
})
