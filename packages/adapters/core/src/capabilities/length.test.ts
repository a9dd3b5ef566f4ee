import { describe, expect, it } from 'vitest'
import { countTextLength, type LengthCounting } from './length.ts'

// The shape of X's twitter-text v3 configuration (weights × 100).
const xWeighted: LengthCounting = {
  method: 'weighted',
  scale: 100,
  defaultWeight: 200,
  ranges: [
    { start: 0, end: 4351, weight: 100 },
    { start: 8192, end: 8205, weight: 100 },
    { start: 8208, end: 8223, weight: 100 },
    { start: 8242, end: 8247, weight: 100 },
  ],
  urlWeight: 2300,
  emojiWeight: 200,
}

describe('countTextLength', () => {
  it('counts what a reader sees as one character with graphemes', () => {
    expect(countTextLength('héllo 👋🏽', { method: 'graphemes' })).toBe(7)
    expect(countTextLength('👨‍👩‍👧', { method: 'graphemes' })).toBe(1)
  })

  it('counts plain ASCII like any other text, a CRLF line break as one character', () => {
    const segmented = (text: string) =>
      [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)].length
    for (const text of ['', 'Hello, world!', 'two\nlines\tand a tab', 'a\r\nb', '~`{}|\\^']) {
      expect(countTextLength(text, { method: 'graphemes' })).toBe(segmented(text))
    }
    expect(countTextLength('a\r\nb', { method: 'graphemes' })).toBe(3)
  })

  it('counts UTF-16 code units and code points as platforms that use them do', () => {
    expect(countTextLength('héllo 👋🏽', { method: 'utf16' })).toBe(10)
    expect(countTextLength('héllo 👋🏽', { method: 'code_points' })).toBe(8)
  })

  it('weighs Latin as 1, CJK as 2, any URL as 23 and an emoji sequence as 2', () => {
    expect(countTextLength('hello', xWeighted)).toBe(5)
    expect(countTextLength('日本語', xWeighted)).toBe(6)
    expect(countTextLength('see https://example.com/a/very/long/path?with=query', xWeighted)).toBe(
      27,
    )
    expect(countTextLength('👨‍👩‍👧', xWeighted)).toBe(2)
  })
})
