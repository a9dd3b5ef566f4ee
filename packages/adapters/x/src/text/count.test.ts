import { createRequire } from 'node:module'
import type * as TwitterText from 'twitter-text'
import { describe, expect, it } from 'vitest'
import { countXText, extractXURLs } from './count.ts'
import { twitterTextPatterns } from './patterns.ts'

// twitter-text is CommonJS and a devDependency: the reference, never shipped.
const require = createRequire(import.meta.url)
const twitterText = require('twitter-text') as typeof TwitterText
const reference = (text: string) => twitterText.parseTweet(text).weightedLength
const twemoji = createRequire(require.resolve('twitter-text'))('twemoji-parser') as {
  parse(text: string): { text: string }[]
}

const edgeCases = [
  '',
  'Hello, world! 👋',
  'a'.repeat(280),
  'a'.repeat(281),
  'é',
  'e\u0301',
  'Cafe\u0301 au lait',
  '👍🏽',
  '👍🏿👍🏻',
  '👨‍👩‍👧‍👦',
  '👩‍💻 and 🏳️‍🌈',
  '🇯🇵🇫🇷',
  '🇯',
  '#️⃣ 1️⃣ *⃣',
  '✌️ ✌ ❤️ ❤',
  '☺ © ® ™ ‼',
  '⌚️ ⌚ ☕️',
  '日本語のテキスト',
  '한국어 텍스트',
  '中文，标点。',
  'Привет мир',
  'مرحبا بالعالم',
  'שלום',
  'नमस्ते',
  '‘quotes’ “double” – — … ′ ″',
  '\u200d\u200b\u2028',
  'https://example.com',
  'http://example.com/path?query=1#frag',
  'example.com',
  'go to example.com now',
  'www.example.com/path',
  'file.txt and notes.md',
  'bit.ly',
  'bit.ly/abc',
  'https://bit.ly',
  't.co',
  'https://t.co/abc123',
  'https://t.co/abc123/extra-path',
  'https://t.co/abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq',
  'hello.world',
  'a-b.example.co.uk/x_y',
  'user@example.com',
  '@example.com',
  '.example.com',
  '-example.com',
  'http://日本.jp',
  '例え.テスト',
  'xn--r8jz45g.xn--zckzah',
  `https://example.com/${'a'.repeat(4100)}`,
  'https://example.com, https://example.org.',
  '(https://example.com/foo_(bar))',
  'Check https://example.com👍 now',
  '👍https://example.com',
  'mixed 日本 example.com 👨‍👩‍👧 text',
  'a\uFFFEb',
  '\uD83D',
  '𝕏 𝒶 𠀀',
]

describe('countXText', () => {
  it.each(edgeCases.map((text) => ({ text })))('counts $text as twitter-text does', ({ text }) => {
    expect(countXText(text)).toBe(reference(text))
  })

  it('counts random mixes of scripts, emoji and URLs as twitter-text does', () => {
    const pieces = [
      'word',
      ' ',
      '  ',
      '\n',
      '.',
      ',',
      'é',
      'e\u0301',
      '日本',
      '한',
      'Ж',
      'ع',
      '“',
      '—',
      '👍',
      '👍🏽',
      '👨‍👩‍👧‍👦',
      '🇩🇪',
      '❤️',
      '#️⃣',
      '😀',
      'https://example.com/x',
      'example.org',
      'https://t.co/AbC123',
      'x.com/i/status/1',
      '@user',
      '#tag',
      '$CASH',
      '𝕏',
    ]
    // A fixed seed: the same cases every run, so a failure can be reproduced.
    let seed = 42
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed / 2 ** 31
    }
    const mismatches: { text: string; ours: number; theirs: number }[] = []
    for (let run = 0; run < 3000; run++) {
      const length = 1 + Math.floor(random() * 12)
      const text = Array.from(
        { length },
        () => pieces[Math.floor(random() * pieces.length)] ?? '',
      ).join('')
      const ours = countXText(text)
      const theirs = reference(text)
      if (ours !== theirs) mismatches.push({ text, ours, theirs })
    }
    expect(mismatches).toEqual([])
  })

  it('counts every code point, emoji variant and skin tone as twitter-text does, but newer emoji sequences', () => {
    const mismatches: string[] = []
    // Every code point of the symbol and emoji blocks; a sample of the others.
    const dense = (point: number) => (point >= 0x2000 && point < 0x3300) || point >= 0x1f000
    for (let codePoint = 0; codePoint < 0x1fb00; codePoint += dense(codePoint) ? 1 : 31) {
      if (codePoint >= 0xd800 && codePoint <= 0xdfff) continue
      const character = String.fromCodePoint(codePoint)
      for (const text of [character, `a${character}\uFE0F`, `${character}\u{1F3FD}`]) {
        if (text.normalize('NFC') !== text) continue
        if (countXText(text) !== reference(text)) mismatches.push(text)
      }
    }
    // The only differences: emoji sequences twemoji 11 does not know as one (🫱🏽, ♾️, 👫🏽),
    // which X counts as 2 like any emoji and twitter-text 3.1.0 by parts.
    const newer = mismatches.filter((text) => {
      const sequence = text.replace(/^a/, '')
      return twemoji.parse(sequence)[0]?.text !== sequence && countXText(text) < reference(text)
    })
    expect(mismatches).toEqual(newer)
    expect(newer.length).toBeLessThan(300)
  }, 120_000) // exhaustive: tens of thousands of comparisons, slow on a loaded CI machine

  it('counts an emoji sequence newer than twitter-text 3.1.0 as 2, as X documents', () => {
    expect(countXText('❤️‍🔥')).toBe(2)
    expect(countXText('🫱🏻‍🫲🏿')).toBe(2)
  })
})

describe('extractXURLs', () => {
  it('finds the same URLs, at the same offsets, as twitter-text', () => {
    const text = 'see example.com/a, https://t.co/xyz/extra and file.txt or bit.ly (www.x.com)'
    expect(
      extractXURLs(text).map(({ url, start, end }) => ({ url, indices: [start, end] })),
    ).toEqual(twitterText.extractUrlsWithIndices(text))
  })
})

describe('the generated URL and emoji patterns', () => {
  it('are those of the installed twitter-text (regenerate with scripts/generate-text-patterns.cjs)', () => {
    const pattern = (name: string) => require(`twitter-text/dist/regexp/${name}`) as RegExp
    const current = (regex: RegExp) => ({ source: regex.source, flags: regex.flags })
    expect(twitterTextPatterns).toEqual({
      version: (require('twitter-text/package.json') as { version: string }).version,
      twemojiVersion: (
        createRequire(require.resolve('twitter-text'))('twemoji-parser/package.json') as {
          version: string
        }
      ).version,
      extractURL: current(pattern('extractUrl')),
      validASCIIDomain: current(pattern('validAsciiDomain')),
      invalidURLWithoutProtocolPrecedingChars: current(
        pattern('invalidUrlWithoutProtocolPrecedingChars'),
      ),
      validTcoURL: current(pattern('validTcoUrl')),
      emoji: current(
        (
          createRequire(require.resolve('twitter-text'))('twemoji-parser/dist/lib/regex') as {
            default: RegExp
          }
        ).default,
      ),
    })
  })
})
