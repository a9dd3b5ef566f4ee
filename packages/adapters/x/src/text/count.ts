import { twitterTextPatterns as patterns } from './patterns.ts'

/**
 * X's character weights: twitter-text `config/v3.json`, the configuration X documents in
 * "Counting characters" (https://docs.x.com/fundamentals/counting-characters).
 */
export const xTextWeights = {
  maxWeightedLength: 280,
  scale: 100,
  defaultWeight: 200,
  transformedURLLength: 23,
  ranges: [
    { start: 0, end: 4351, weight: 100 },
    { start: 8192, end: 8205, weight: 100 },
    { start: 8208, end: 8223, weight: 100 },
    { start: 8242, end: 8247, weight: 100 },
  ],
} as const

const MAX_URL_LENGTH = 4096
const MAX_TCO_SLUG_LENGTH = 40
const MAX_DOMAIN_LABEL_LENGTH = 63

// An emoji sequence twemoji 11 does not know (newer than 2018): a string, because the `v` flag
// postdates the es2023 target the compiler checks regular expression literals against.
const RECENT_EMOJI_SEQUENCE = '^\\p{RGI_Emoji}'

/** One URL X would shorten to a t.co link, with its UTF-16 offsets in the NFC-normalised text. */
export interface XTextURL {
  url: string
  start: number
  end: number
}

/**
 * Finds the URLs X counts as 23 characters each, with and without a scheme, exactly as
 * twitter-text's `extractUrlsWithIndices` does (same regular expressions, generated from it):
 * `example.com` is a URL, `file.txt` is not (no such top-level domain), `bit.ly` alone is not
 * (a two-letter country domain needs a path), a t.co link ends at its slug.
 *
 * @example
 * ```ts
 * extractXURLs('read example.com/a and https://t.co/xyz').map((entry) => entry.url)
 * // ['example.com/a', 'https://t.co/xyz']
 * ```
 */
export function extractXURLs(text: string): XTextURL[] {
  if (!text.includes('.')) return []
  const extract = new RegExp(patterns.extractURL.source, patterns.extractURL.flags)
  const urls: XTextURL[] = []
  for (let match = extract.exec(text); match !== null; match = extract.exec(text)) {
    const before = match[2] ?? ''
    let url = match[3] ?? ''
    const protocol = match[4] ?? ''
    const domain = match[5] ?? ''
    const path = match[7] ?? ''
    let end = extract.lastIndex
    const start = end - url.length
    if (!isValidURL(url, protocol || 'https://', domain)) continue
    if (!protocol) {
      if (new RegExp(patterns.invalidURLWithoutProtocolPrecedingChars.source).test(before)) {
        continue
      }
      const ascii = new RegExp(patterns.validASCIIDomain.source, patterns.validASCIIDomain.flags)
      let last: XTextURL | undefined
      let asciiEnd = 0
      for (const found of domain.matchAll(ascii)) {
        const asciiStart = domain.indexOf(found[0], asciiEnd)
        asciiEnd = asciiStart + found[0].length
        last = { url: found[0], start: start + asciiStart, end: start + asciiEnd }
        urls.push(last)
      }
      if (!last) continue
      if (path) {
        last.url = url.replace(domain, last.url)
        last.end = end
      }
      continue
    }
    const tco = new RegExp(patterns.validTcoURL.source, patterns.validTcoURL.flags).exec(url)
    if (tco) {
      if (tco[1] && tco[1].length > MAX_TCO_SLUG_LENGTH) continue
      url = tco[0]
      end = start + url.length
    }
    urls.push({ url, start, end })
  }
  return urls
}

function isValidURL(url: string, protocol: string, domain: string): boolean {
  if (domain.startsWith('xn--') && !/^[\x20-\x7e]*$/.test(domain)) return false
  for (const label of domain.split('.')) {
    const length = punycodeLength(label)
    if (length < 1 || length > MAX_DOMAIN_LABEL_LENGTH) return false
  }
  return protocol.length + url.length <= MAX_URL_LENGTH
}

// twitter-text checks each label's punycode length (RFC 3492), not IDNA validity: encode as
// punycode.js `toASCII` does, without mapping or rejecting anything.
function punycodeLength(label: string): number {
  if (!/[^\0-\x7e]/.test(label)) return label.length
  return 'xn--'.length + encodePunycode(label).length
}

function encodePunycode(input: string): string {
  const codePoints = [...input].map((character) => character.codePointAt(0) ?? 0)
  const base = 36
  const adapt = (delta: number, points: number, first: boolean) => {
    let scaled = first ? Math.floor(delta / 700) : delta >> 1
    scaled += Math.floor(scaled / points)
    let k = 0
    for (; scaled > ((base - 1) * 26) >> 1; k += base) scaled = Math.floor(scaled / (base - 1))
    return Math.floor(k + ((base - 1 + 1) * scaled) / (scaled + 38))
  }
  const digit = (value: number) => String.fromCharCode(value + 22 + 75 * Number(value < 26))
  let output = codePoints
    .filter((point) => point < 0x80)
    .map((point) => String.fromCharCode(point))
    .join('')
  const basicLength = output.length
  if (basicLength > 0) output += '-'
  let handled = basicLength
  let n = 0x80
  let delta = 0
  let bias = 72
  while (handled < codePoints.length) {
    const next = Math.min(...codePoints.filter((point) => point >= n))
    delta += (next - n) * (handled + 1)
    n = next
    for (const point of codePoints) {
      if (point < n) delta++
      if (point !== n) continue
      let q = delta
      for (let k = base; ; k += base) {
        const t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias
        if (q < t) break
        output += digit(t + ((q - t) % (base - t)))
        q = Math.floor((q - t) / (base - t))
      }
      output += digit(q)
      bias = adapt(delta, handled + 1, handled === basicLength)
      delta = 0
      handled++
    }
    delta++
    n++
  }
  return output
}

/**
 * Counts text the way X does (twitter-text v3 `parseTweet(text).weightedLength`): NFC-normalised;
 * every URL 23; every emoji sequence (skin tones, ZWJ families, flags, keycaps) 2; every other
 * code point 1 in U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F and U+2032–U+2037, else 2 (CJK,
 * most non-Latin scripts). No dependencies; safe in browsers (needs RegExp `v`: Chrome 112,
 * Safari 17, Firefox 116).
 *
 * Emoji are recognised with twitter-text's own table (twemoji 11), quirks included, so the count
 * equals `parseTweet` for everything it knows. One deliberate difference: an emoji *sequence*
 * newer than that table (❤️‍🔥, 🫱🏻‍🫲🏿) counts by its parts in twitter-text 3.1.0 and as 2 here, per
 * X's rule that any emoji sequence counts as 2 (a lone newer emoji weighs 2 either way).
 *
 * @example
 * ```ts
 * countXText('Hello, world! 👋') // 16
 * countXText('日本語 https://example.com/a-long-path') // 6 + 1 + 23 = 30
 * ```
 */
export function countXText(text: string): number {
  const normalized = text.normalize('NFC')
  const spans = new Map<number, { end: number; weight: number; url?: true }>()
  for (const url of extractXURLs(normalized)) {
    spans.set(url.start, {
      end: url.end,
      weight: xTextWeights.transformedURLLength * xTextWeights.scale,
      url: true,
    })
  }
  for (const emoji of normalized.matchAll(
    new RegExp(patterns.emoji.source, patterns.emoji.flags),
  )) {
    if (!spans.has(emoji.index)) {
      spans.set(emoji.index, {
        end: emoji.index + emoji[0].length,
        weight: xTextWeights.defaultWeight,
      })
    }
  }
  const recent = new RegExp(RECENT_EMOJI_SEQUENCE, 'v')
  for (let index = 0; index < normalized.length; ) {
    const known = spans.get(index)
    const end = known?.end ?? index + ((normalized.codePointAt(index) ?? 0) > 0xffff ? 2 : 1)
    const sequence = known?.url ? undefined : recent.exec(normalized.slice(index, index + 64))?.[0]
    // A sequence twemoji 11 does not know as one (❤️‍🔥): one emoji, weighing 2, not its parts.
    if (sequence && index + sequence.length > end && !overlapsURL(spans, index, sequence.length)) {
      for (let inner = index; inner < index + sequence.length; inner++) spans.delete(inner)
      spans.set(index, { end: index + sequence.length, weight: xTextWeights.defaultWeight })
      index += sequence.length
      continue
    }
    index = end
  }
  let weight = 0
  for (let index = 0; index < normalized.length; ) {
    const span = spans.get(index)
    if (span) {
      weight += span.weight
      index = span.end
      continue
    }
    const codePoint = normalized.codePointAt(index) ?? 0
    weight += weightOf(codePoint)
    index += codePoint > 0xffff ? 2 : 1
  }
  return weight / xTextWeights.scale
}

function overlapsURL(
  spans: Map<number, { end: number; url?: true }>,
  start: number,
  length: number,
): boolean {
  for (let index = start; index < start + length; index++) if (spans.get(index)?.url) return true
  return false
}

function weightOf(codePoint: number): number {
  for (const range of xTextWeights.ranges) {
    if (codePoint >= range.start && codePoint <= range.end) return range.weight
  }
  return xTextWeights.defaultWeight
}
