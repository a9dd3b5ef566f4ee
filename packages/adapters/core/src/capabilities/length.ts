/**
 * How a platform counts the length of text, as data (so a browser composer and the server count
 * the same way):
 * - `graphemes`: what a reader sees as one character (`Intl.Segmenter`); 👍🏽 is 1.
 * - `utf16`: JavaScript string length, what many APIs really check (TikTok "UTF-16 runes").
 * - `code_points`: Unicode scalar values; 👍🏽 is 2.
 * - `weighted`: X's scheme (twitter-text v3): each code point weighs `defaultWeight` unless a
 *   range says otherwise, every URL weighs `urlWeight`, an emoji sequence weighs `emojiWeight`; the
 *   total is divided by `scale`.
 */
export type LengthCounting =
  | { method: 'graphemes' }
  | { method: 'utf16' }
  | { method: 'code_points' }
  | {
      method: 'weighted'
      scale: number
      defaultWeight: number
      ranges: { start: number; end: number; weight: number }[]
      /** Weight of any URL (X: 23 characters × scale). */
      urlWeight: number
      /** Weight of one emoji sequence, however many code points it has. */
      emojiWeight: number
    }

const URL_PATTERN = /https?:\/\/[^\s<>"]+[^\s<>".,:;!?)\]}'"]/giu
const EMOJI_PATTERN = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u
/** Printable ASCII, tabs and line feeds: one grapheme per character (`\r\n` is one, so no `\r`). */
const SIMPLE_TEXT = /^[\t\n\x20-\x7e]*$/
/** One segmenter for every count: making one is far dearer than segmenting a post. */
let graphemes: Intl.Segmenter | undefined
const segmenter = () => {
  graphemes ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' })
  return graphemes
}

/**
 * Counts `text` the way a platform does.
 *
 * @example
 * ```ts
 * countTextLength('héllo 👋🏽', { method: 'graphemes' }) // 7
 * countTextLength('héllo 👋🏽', { method: 'utf16' }) // 10
 * ```
 */
export function countTextLength(text: string, counting: LengthCounting): number {
  switch (counting.method) {
    case 'utf16':
      return text.length
    case 'code_points':
      return [...text].length
    case 'graphemes':
      return SIMPLE_TEXT.test(text) ? text.length : [...segmenter().segment(text)].length
    case 'weighted':
      return countWeighted(text, counting)
  }
}

function countWeighted(
  text: string,
  counting: Extract<LengthCounting, { method: 'weighted' }>,
): number {
  let weight = 0
  const withoutURLs = text.replace(URL_PATTERN, () => {
    weight += counting.urlWeight
    return ''
  })
  for (const { segment } of segmenter().segment(withoutURLs)) {
    if (EMOJI_PATTERN.test(segment)) {
      weight += counting.emojiWeight
      continue
    }
    for (const character of segment) {
      const codePoint = character.codePointAt(0) ?? 0
      const range = counting.ranges.find(
        (candidate) => codePoint >= candidate.start && codePoint <= candidate.end,
      )
      weight += range?.weight ?? counting.defaultWeight
    }
  }
  return Math.ceil(weight / counting.scale)
}
