// LinkedIn's "little text" format reserves these characters for markup (mentions, hashtags);
// unescaped, some of them silently cut the commentary short.
// https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format
const RESERVED = /[\\|{}@[\]()<>#*_~]/g
const ESCAPED = /\\([\\|{}@[\]()<>#*_~])/g

/**
 * Escapes plain text for the Posts API's `commentary` (little text format), so every character
 * the person wrote is shown as written.
 *
 * @example
 * ```ts
 * escapeLittleText('Launch (beta) #1') // 'Launch \\(beta\\) \\#1'
 * ```
 */
export function escapeLittleText(text: string): string {
  return text.replace(RESERVED, (character) => `\\${character}`)
}

/**
 * Reverses {@link escapeLittleText}: the plain text of a commentary LinkedIn returns.
 *
 * @example
 * ```ts
 * unescapeLittleText('Launch \\(beta\\)') // 'Launch (beta)'
 * ```
 */
export function unescapeLittleText(commentary: string): string {
  return commentary.replace(ESCAPED, '$1')
}

/**
 * A SHA-256 digest (hex) of a post's text, normalised (NFC, trimmed), to recognise the post
 * later without storing what the person wrote in the publication's handles.
 *
 * @example
 * ```ts
 * await digestText('Hello') === await digestText('Hello ') // true
 * ```
 */
export async function digestText(text: string): Promise<string> {
  const bytes = new TextEncoder().encode(text.normalize('NFC').trim())
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('')
}
