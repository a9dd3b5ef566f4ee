import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import type { Config } from '../src/config/config.ts'
import { loadConfig } from '../src/config/config.ts'

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'media')

/** A real MP4 (H.264 + AAC, 160×90, 1.2 s, 25 fps) or MOV (90×160, 0.6 s, 30 fps) made by ffmpeg. */
export const readVideoFixture = (name: 'clip.mp4' | 'clip.mov') => readFile(join(fixtures, name))

export { makeImage, makeNoisyPNG } from '../src/testing.ts'

/** A JPEG a phone would make: EXIF with GPS coordinates, a marker string and orientation 6. */
export function makePhoneJPEG(): Promise<Buffer> {
  return sharp({ create: { width: 40, height: 20, channels: 3, background: '#cc6633' } })
    .withExif({
      IFD0: { Copyright: 'marker-copyright', Make: 'PhoneMaker' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '48/1 51/1 2400/100',
        GPSLongitudeRef: 'E',
        GPSLongitude: '2/1 21/1 300/100',
      },
    })
    .withMetadata({ orientation: 6 })
    .jpeg()
    .toBuffer()
}

/** The bytes of the EXIF GPS IFD pointer tag (0x8825) as little- and big-endian TIFF write it. */
export const GPS_TAG = [Buffer.from([0x25, 0x88]), Buffer.from([0x88, 0x25])]

/** Media configuration for a test server: a temporary folder and the given limits. */
export async function mediaTestConfig(overrides: Partial<Config['media']> = {}) {
  const localDir = await mkdtemp(join(tmpdir(), 'post-scheduler-media-'))
  return { ...loadConfig({}).media, localDir, ...overrides }
}

/** A multipart body with one `file` field. */
export function fileForm(
  bytes: Uint8Array,
  filename: string,
  fields: Record<string, string> = {},
): FormData {
  const form = new FormData()
  for (const [name, value] of Object.entries(fields)) form.set(name, value)
  form.set('file', new Blob([new Uint8Array(bytes)]), filename)
  return form
}
