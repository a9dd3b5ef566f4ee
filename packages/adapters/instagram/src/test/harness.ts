// Test-only (no entry reaches it): the Graph spec validator built from specs/, and the
// media fixtures Instagram accepts (JPEG 1:1 and MP4 9:16 reels, with a public URL).
import { readFileSync } from 'node:fs'
import type { PublishMedia } from '@post-scheduler/adapter-core'
import {
  createGraphSpecValidator,
  type GraphEnumType,
  type GraphNodeSpec,
} from '@post-scheduler/adapter-core/emulator'

const spec = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../../specs/meta/${name}.json`, import.meta.url), 'utf8')) as T

const MEDIA_REFERENCE =
  'https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media'

/** Meta's node specs for both logins, with what the docs say where the specs are loose. */
export const graphSpec = createGraphSpecValidator({
  nodes: Object.fromEntries(
    [
      'IGUser',
      'IGUserForIGOnlyAPI',
      'IGMedia',
      'IGMediaForIGOnlyAPI',
      'ShadowIGMediaBuilder',
      'IGAccessTokenForIGOnlyAPI',
      'IGRefreshAccessTokenForIGOnlyAPI',
      'Page',
      'User',
    ].map((name) => [name, spec<GraphNodeSpec>(name)]),
  ),
  enumTypes: spec<GraphEnumType[]>('enum_types'),
  documented: [
    ...['IGUser', 'IGUserForIGOnlyAPI'].map((node) => ({
      node,
      method: 'POST',
      edge: 'media',
      params: [{ name: 'media_type', values: ['CAROUSEL', 'REELS', 'STORIES', 'VIDEO'] }],
      source: MEDIA_REFERENCE,
    })),
    {
      node: 'IGUserForIGOnlyAPI',
      method: 'POST',
      edge: 'media_publish',
      params: [{ name: 'creation_id', type: 'unsigned int', required: true }],
      source: 'The IG-Login spec names the edge mediapublish; the docs call it media_publish',
    },
  ],
})

/** A JPEG Instagram accepts, handed over by URL. */
export function jpeg(index: number, extra: Partial<PublishMedia> = {}): PublishMedia {
  const bytes = new Blob([new Uint8Array(64).fill(index)])
  return {
    id: `photo-${index}`,
    kind: 'image',
    mimeType: 'image/jpeg',
    sizeBytes: 64,
    width: 1080,
    height: 1080,
    publicURL: `https://media.app.test/photo-${index}.jpg`,
    open: async () => bytes,
    ...extra,
  }
}

/** An MP4 reel Instagram accepts (9:16, 10 s), handed over by URL. */
export function mp4(index: number, extra: Partial<PublishMedia> = {}): PublishMedia {
  const bytes = new Blob([new Uint8Array(128).fill(index)])
  return {
    id: `video-${index}`,
    kind: 'video',
    mimeType: 'video/mp4',
    sizeBytes: 128,
    width: 1080,
    height: 1920,
    durationSeconds: 10,
    publicURL: `https://media.app.test/video-${index}.mp4`,
    open: async () => bytes,
    ...extra,
  }
}
