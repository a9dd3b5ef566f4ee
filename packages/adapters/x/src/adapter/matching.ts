import { extractXURLs } from '../text/count.ts'

/** The parts of a post X returns that tell whether it is one we sent. */
export interface TimelinePost {
  id: string
  text: string
  created_at?: string
  note_tweet?: { text: string; entities?: { urls?: URLEntity[] } }
  entities?: { urls?: URLEntity[] }
  attachments?: { media_keys?: string[] }
  referenced_tweets?: { type: string; id: string }[]
}

interface URLEntity {
  start: number
  end: number
  url: string
  expanded_url?: string
  media_key?: string
}

/**
 * The text of a post as we sent it, recovered from what X returns: the full text of a long
 * post (`note_tweet`), `&amp;`/`&lt;`/`&gt;` unescaped, and the trailing t.co link X appends for
 * attached media removed. Links stay t.co links: `digestPostText` treats every link alike.
 */
export function recoverSentText(post: TimelinePost): string {
  const text = post.note_tweet?.text ?? post.text
  const urls = post.note_tweet?.entities?.urls ?? post.entities?.urls ?? []
  const chars = [...text]
  // Entity offsets count code points. Remove media links from the end backwards.
  const media = urls
    .filter((entity) => entity.media_key !== undefined)
    .sort((a, b) => b.start - a.start)
  for (const entity of media) chars.splice(entity.start, entity.end - entity.start)
  return unescapeHTML(chars.join(''))
}

function unescapeHTML(text: string): string {
  return text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&')
}

/**
 * A digest of a post's text that survives X's rewriting: NFC, trimmed, every link (whether we sent
 * `example.com` or X returns `https://t.co/…`) replaced by one placeholder. Handles store the
 * digest, not the text: the handle store need not hold the person's words twice.
 */
export async function digestPostText(text: string): Promise<string> {
  const normalized = text.normalize('NFC').trim()
  let placeholderText = ''
  let last = 0
  for (const url of extractXURLs(normalized)) {
    placeholderText += `${normalized.slice(last, url.start)}\u0000`
    last = url.end
  }
  placeholderText += normalized.slice(last)
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(placeholderText))
  return btoa(String.fromCharCode(...new Uint8Array(digest)))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '')
}
