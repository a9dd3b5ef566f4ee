import { randomBytes } from 'node:crypto'
import sharp from 'sharp'

/**
 * A solid image of the given format, for uploading in tests.
 *
 * @example
 * ```ts
 * const media = await client.media.upload(new Blob([await makeImage('png')]), { filename: 'a.png' })
 * ```
 */
export function makeImage(
  format: 'png' | 'jpeg' | 'gif' | 'webp',
  width = 64,
  height = 48,
): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#3366cc' } })
    .toFormat(format)
    .toBuffer()
}

/**
 * A noisy PNG (so it does not compress away), a few tens of kilobytes: large enough for a
 * resumable upload in several small parts.
 *
 * @example
 * ```ts
 * const bytes = await makeNoisyPNG(400, 300)
 * ```
 */
export function makeNoisyPNG(width = 120, height = 90): Promise<Buffer> {
  const pixels = randomBytes(width * height * 3)
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer()
}
