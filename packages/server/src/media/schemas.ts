import { z } from '@hono/zod-openapi'
import { MEDIA_KINDS } from '../db/schema/index.ts'
import { idSchema } from '../http/openapi-helpers.ts'

export const AltTextSchema = z.string().trim().max(1000).openapi({
  description: 'Alternative text for screen readers, where the platform takes it',
  example: 'A croissant on a blue plate',
})

export const FilenameSchema = z.string().trim().min(1).max(255).openapi({ example: 'launch.mp4' })

export const ProfileIdSchema = idSchema('prof').openapi({
  description:
    'The profile the media belongs to; the workspace’s default profile when absent (a profile token’s own profile always)',
  example: 'prof_mzxw6ytboi2dkmzvgq3tqnrvhe',
})

const VariantSchema = z
  .object({
    name: z.enum(['thumbnail']),
    mimeType: z.string(),
    sizeBytes: z.number().int(),
    width: z.number().int(),
    height: z.number().int(),
    url: z.string().openapi({ description: 'Signed URL, valid until `urlExpiresAt`' }),
  })
  .openapi('MediaVariant')

const ReferenceSchema = z
  .object({
    kind: z.string().openapi({ example: 'post' }),
    refId: z.string().openapi({ example: 'post_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
  })
  .openapi('MediaReference')

/** A media file as the API shows it. */
export const MediaSchema = z
  .object({
    id: z.string().openapi({ example: 'med_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    profileId: z.string(),
    kind: z.enum(MEDIA_KINDS),
    mimeType: z.string().openapi({
      description: 'Found from the content (magic bytes), never from the name or header',
      example: 'video/mp4',
    }),
    sizeBytes: z.number().int().openapi({ description: 'Size of the stored copy' }),
    sha256: z.string().openapi({ description: 'SHA-256 of the stored copy, hexadecimal' }),
    filename: z.string().nullable(),
    altText: z.string().nullable(),
    width: z.number().int().nullable().openapi({ description: 'Displayed width in pixels' }),
    height: z.number().int().nullable(),
    durationSeconds: z.number().nullable(),
    frameRate: z.number().nullable().openapi({ description: 'Frames per second (videos)' }),
    bitRate: z.number().int().nullable().openapi({ description: 'Bits per second (videos)' }),
    hasAudio: z.boolean().nullable(),
    container: z.string().openapi({ example: 'mp4' }),
    videoCodec: z.string().nullable().openapi({ example: 'avc1.64001f' }),
    audioCodec: z.string().nullable().openapi({ example: 'mp4a.40.2' }),
    metadataRemoved: z.boolean().openapi({
      description:
        'Whether EXIF (GPS included), XMP or IPTC metadata was removed from the stored copy',
    }),
    source: z.enum(['upload', 'resumable', 'import']),
    url: z.string().openapi({ description: 'Signed URL of the file, valid until `urlExpiresAt`' }),
    urlExpiresAt: z.iso.datetime({ offset: true }),
    variants: z.array(VariantSchema),
    createdAt: z.iso.datetime({ offset: true }),
  })
  .openapi('Media')

/** A media file with what uses it. */
export const MediaDetailSchema = MediaSchema.extend({
  usedBy: z
    .array(ReferenceSchema)
    .openapi({ description: 'What uses this media; deleting it then needs `force=true`' }),
}).openapi('MediaDetail')

/** Problems every media route can answer. */
export const COMMON = ['UNAUTHENTICATED', 'FORBIDDEN', 'WORKSPACE_REQUIRED'] as const
