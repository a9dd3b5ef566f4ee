import { rm } from 'node:fs/promises'
import { createRoute, z } from '@hono/zod-openapi'
import { requireTenant } from '../auth/middleware.ts'
import { AUTHENTICATED, idSchema, jsonBody, jsonResponse } from '../http/openapi-helpers.ts'
import { PageQuerySchema, pageSchema } from '../http/pagination.ts'
import { IssueSchema, problemResponses } from '../http/problem.ts'
import { createRouter, refuseUnstorableText } from '../http/router.ts'
import { receiveMultipart } from './receive.ts'
import {
  abortUpload,
  assertRoomFor,
  completeUpload,
  createUpload,
  deleteMedia,
  getMedia,
  getUpload,
  importMedia,
  listMedia,
  putUploadPart,
  resolveMediaProfile,
  storeMedia,
  updateMedia,
  validateMediaForPlatforms,
} from './service.ts'

const KINDS = ['image', 'gif', 'video'] as const

const AltTextSchema = z.string().trim().max(1000).openapi({
  description: 'Alternative text for screen readers, where the platform takes it',
  example: 'A croissant on a blue plate',
})

const FilenameSchema = z.string().trim().min(1).max(255).openapi({ example: 'launch.mp4' })

const ProfileIdSchema = idSchema('prof').openapi({
  description:
    'The profile the media belongs to; the workspace’s default profile when absent (a profile token’s own profile always)',
  example: 'prof_mzxw6ytboi2dkmzvgq3tqnrvhe',
})

const Sha256Schema = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal digits')
  .openapi({ description: 'SHA-256 of the whole file, hexadecimal' })

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

export const MediaSchema = z
  .object({
    id: z.string().openapi({ example: 'med_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    profileId: z.string(),
    kind: z.enum(KINDS),
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

const MediaDetailSchema = MediaSchema.extend({
  usedBy: z
    .array(ReferenceSchema)
    .openapi({ description: 'What uses this media; deleting it then needs `force=true`' }),
}).openapi('MediaDetail')

const UploadSchema = z
  .object({
    id: z.string().openapi({ example: 'mup_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    profileId: z.string(),
    filename: z.string().nullable(),
    sizeBytes: z.number().int(),
    partSizeBytes: z.number().int().openapi({
      description: 'Every part but the last has exactly this size',
    }),
    partCount: z.number().int(),
    receivedParts: z.array(
      z.object({ partNumber: z.number().int(), sizeBytes: z.number().int(), sha256: z.string() }),
    ),
    missingParts: z.array(z.number().int()),
    receivedBytes: z.number().int(),
    status: z.enum(['open', 'completing', 'completed']),
    mediaId: z.string().nullable(),
    expiresAt: z.iso.datetime({ offset: true }),
    createdAt: z.iso.datetime({ offset: true }),
  })
  .openapi('MediaUpload')

const MediaParams = z.object({ mediaId: idSchema('med') })
const UploadParams = z.object({ uploadId: idSchema('mup') })

const COMMON = ['UNAUTHENTICATED', 'FORBIDDEN', 'WORKSPACE_REQUIRED'] as const

const uploadRoute = createRoute({
  method: 'post',
  path: '/media',
  tags: ['Media'],
  summary: 'Upload a media file',
  description:
    'Send the file as `multipart/form-data` in a field named `file` (and optionally `altText`). It is streamed to storage, never held in memory; its type is found from its content. JPEG, PNG, WebP, GIF, MP4 and MOV are accepted; SVG, HTML and executables are refused. EXIF (GPS included), XMP and IPTC metadata are removed from images, which are turned upright. Up to `MEDIA_MAX_FILE_BYTES`; for large videos prefer a resumable upload. Needs the write scope; profile tokens upload to their own profile.',
  security: AUTHENTICATED,
  request: {
    query: z.object({ profileId: ProfileIdSchema.optional(), altText: AltTextSchema.optional() }),
    body: {
      required: true,
      content: {
        // A plain schema object, not zod: the route streams the body itself instead of parsing it.
        'multipart/form-data': {
          schema: {
            type: 'object',
            required: ['file'],
            properties: {
              file: { type: 'string', format: 'binary' },
              altText: { type: 'string', maxLength: 1000 },
            },
          },
        },
      },
    },
  },
  responses: {
    201: jsonResponse('The stored media', MediaSchema),
    ...problemResponses(
      ...COMMON,
      'MALFORMED_REQUEST',
      'NOT_FOUND',
      'PAYLOAD_TOO_LARGE',
      'QUOTA_EXCEEDED',
      'UNSUPPORTED_MEDIA',
      'VALIDATION_FAILED',
    ),
  },
})

const importRoute = createRoute({
  method: 'post',
  path: '/media/import',
  tags: ['Media'],
  summary: 'Import a media file from a URL',
  description:
    'The server fetches a public http(s) URL (following up to 5 redirects) and stores the file as an upload would. Private, loopback, link-local and reserved addresses are refused, whatever the notation and on every redirect; the download is limited by `MEDIA_MAX_FILE_BYTES` and `MEDIA_IMPORT_TIMEOUT_SECONDS`. Needs the write scope.',
  security: AUTHENTICATED,
  request: {
    body: jsonBody(
      z
        .object({
          url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048),
          profileId: ProfileIdSchema.optional(),
          altText: AltTextSchema.optional(),
          filename: FilenameSchema.optional(),
        })
        .strict()
        .openapi('MediaImport'),
    ),
  },
  responses: {
    201: jsonResponse('The stored media', MediaSchema),
    ...problemResponses(
      ...COMMON,
      'NOT_FOUND',
      'PAYLOAD_TOO_LARGE',
      'QUOTA_EXCEEDED',
      'UNSUPPORTED_MEDIA',
      'IMPORT_FAILED',
      'VALIDATION_FAILED',
    ),
  },
})

const createUploadRoute = createRoute({
  method: 'post',
  path: '/media/uploads',
  tags: ['Media'],
  summary: 'Start a resumable upload',
  description:
    'For large files and unreliable connections. Declare the size; the answer gives `partSizeBytes` and `partCount`. Send each part with `PUT /v1/media/uploads/{uploadId}/parts/{partNumber}` (in any order, in parallel, again after a failure: `GET` the upload to see which parts are missing), then complete it. The size is reserved against the workspace quota until then; the upload expires after `MEDIA_UPLOAD_TTL_HOURS`. Needs the write scope.',
  security: AUTHENTICATED,
  request: {
    body: jsonBody(
      z
        .object({
          sizeBytes: z.number().int().min(1).openapi({ example: 1_073_741_824 }),
          filename: FilenameSchema.optional(),
          altText: AltTextSchema.optional(),
          profileId: ProfileIdSchema.optional(),
          sha256: Sha256Schema.optional(),
        })
        .strict()
        .openapi('MediaUploadCreate'),
    ),
  },
  responses: {
    201: jsonResponse('The upload, waiting for its parts', UploadSchema),
    ...problemResponses(
      ...COMMON,
      'NOT_FOUND',
      'PAYLOAD_TOO_LARGE',
      'QUOTA_EXCEEDED',
      'VALIDATION_FAILED',
    ),
  },
})

const getUploadRoute = createRoute({
  method: 'get',
  path: '/media/uploads/{uploadId}',
  tags: ['Media'],
  summary: 'Get a resumable upload',
  description: 'Which parts arrived and which are missing. Needs the read scope.',
  security: AUTHENTICATED,
  request: { params: UploadParams },
  responses: {
    200: jsonResponse('The upload', UploadSchema),
    ...problemResponses(...COMMON, 'NOT_FOUND'),
  },
})

const putPartRoute = createRoute({
  method: 'put',
  path: '/media/uploads/{uploadId}/parts/{partNumber}',
  tags: ['Media'],
  summary: 'Send one part of a resumable upload',
  description:
    'The body is the part’s bytes: bytes `(partNumber − 1) × partSizeBytes` onwards of the file, exactly `partSizeBytes` of them (the last part: the rest). A part whose transfer breaks off is not kept; send it again. Sending a part again replaces it. Needs the write scope.',
  security: AUTHENTICATED,
  request: {
    params: UploadParams.extend({
      partNumber: z.coerce.number().int().min(1).max(100_000).openapi({ example: 1 }),
    }),
    body: {
      required: true,
      content: {
        'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
      },
    },
  },
  responses: {
    200: jsonResponse(
      'The part is stored',
      z
        .object({ partNumber: z.number().int(), sizeBytes: z.number().int(), sha256: z.string() })
        .openapi('MediaUploadPart'),
    ),
    ...problemResponses(
      ...COMMON,
      'MALFORMED_REQUEST',
      'NOT_FOUND',
      'CONFLICT',
      'PAYLOAD_TOO_LARGE',
      'VALIDATION_FAILED',
    ),
  },
})

const completeUploadRoute = createRoute({
  method: 'post',
  path: '/media/uploads/{uploadId}/complete',
  tags: ['Media'],
  summary: 'Complete a resumable upload',
  description:
    'Joins the parts, checks the SHA-256 when one was announced (here or at creation), inspects the file and stores it as a media. Completing again answers the same media (200), so a completion whose answer was lost can be retried. Needs the write scope.',
  security: AUTHENTICATED,
  request: {
    params: UploadParams,
    body: {
      required: false,
      content: {
        'application/json': {
          schema: z
            .object({ sha256: Sha256Schema.optional() })
            .strict()
            .openapi('MediaUploadComplete'),
        },
      },
    },
  },
  responses: {
    200: jsonResponse('The media this upload already made', MediaDetailSchema),
    201: jsonResponse('The stored media', MediaDetailSchema),
    ...problemResponses(
      ...COMMON,
      'NOT_FOUND',
      'CONFLICT',
      'QUOTA_EXCEEDED',
      'UNSUPPORTED_MEDIA',
      'VALIDATION_FAILED',
    ),
  },
})

const abortUploadRoute = createRoute({
  method: 'delete',
  path: '/media/uploads/{uploadId}',
  tags: ['Media'],
  summary: 'Abandon a resumable upload',
  description: 'Its parts are deleted and its reserved quota freed. Needs the write scope.',
  security: AUTHENTICATED,
  request: { params: UploadParams },
  responses: {
    204: { description: 'The upload is gone' },
    ...problemResponses(...COMMON, 'NOT_FOUND', 'CONFLICT'),
  },
})

const listRoute = createRoute({
  method: 'get',
  path: '/media',
  tags: ['Media'],
  summary: 'List media',
  description:
    'The media library, newest first. Needs the read scope; a profile token sees its own profile’s media only.',
  security: AUTHENTICATED,
  request: {
    query: PageQuerySchema.extend({
      profileId: ProfileIdSchema.optional(),
      kind: z.enum(KINDS).optional(),
    }),
  },
  responses: {
    200: jsonResponse('A page of media', pageSchema(MediaSchema).openapi('MediaPage')),
    ...problemResponses(...COMMON, 'VALIDATION_FAILED'),
  },
})

const getRoute = createRoute({
  method: 'get',
  path: '/media/{mediaId}',
  tags: ['Media'],
  summary: 'Get a media file',
  description:
    'Its metadata, signed URLs of the file and its variants, and what uses it. Needs the read scope.',
  security: AUTHENTICATED,
  request: { params: MediaParams },
  responses: {
    200: jsonResponse('The media', MediaDetailSchema),
    ...problemResponses(...COMMON, 'NOT_FOUND'),
  },
})

const updateRoute = createRoute({
  method: 'patch',
  path: '/media/{mediaId}',
  tags: ['Media'],
  summary: 'Update a media file',
  description: 'Change or clear (`null`) its alternative text. Needs the write scope.',
  security: AUTHENTICATED,
  request: {
    params: MediaParams,
    body: jsonBody(
      z.object({ altText: AltTextSchema.nullable().optional() }).strict().openapi('MediaUpdate'),
    ),
  },
  responses: {
    200: jsonResponse('The media', MediaSchema),
    ...problemResponses(...COMMON, 'NOT_FOUND', 'VALIDATION_FAILED'),
  },
})

const deleteRoute = createRoute({
  method: 'delete',
  path: '/media/{mediaId}',
  tags: ['Media'],
  summary: 'Delete a media file',
  description:
    'Refused with 409 `MEDIA_IN_USE` while a scheduled post uses it, unless `force=true`. Its stored files are deleted too. Needs the write scope.',
  security: AUTHENTICATED,
  request: {
    params: MediaParams,
    query: z.object({
      force: z
        .enum(['true', 'false'])
        .default('false')
        .transform((value) => value === 'true')
        .openapi({ description: 'Delete even while in use' }),
    }),
  },
  responses: {
    204: { description: 'The media is deleted' },
    ...problemResponses(...COMMON, 'NOT_FOUND', 'MEDIA_IN_USE'),
  },
})

const validateRoute = createRoute({
  method: 'post',
  path: '/media/validate',
  tags: ['Media'],
  summary: 'Check media against platforms',
  description:
    'Whether these media, in this order, can be published together on each platform: formats, sizes, dimensions, aspect ratios, durations and combinations, with the same rules as post validation. Each issue names the platform and the path of the offending value. Needs the read scope.',
  security: AUTHENTICATED,
  request: {
    body: jsonBody(
      z
        .object({
          mediaIds: z.array(z.string().max(100)).max(50),
          platforms: z
            .array(z.string().max(50))
            .min(1)
            .max(20)
            .openapi({ example: ['x', 'linkedin'] }),
        })
        .strict()
        .openapi('MediaValidate'),
    ),
  },
  responses: {
    200: jsonResponse(
      'The issues found; empty when every platform takes the media',
      z
        .object({
          valid: z.boolean(),
          issues: z.array(
            IssueSchema.omit({ location: true }).extend({
              platform: z.string().optional(),
            }),
          ),
        })
        .openapi('MediaValidation'),
    ),
    ...problemResponses(...COMMON, 'NOT_FOUND', 'VALIDATION_FAILED'),
  },
})

/** The media library: uploads (direct, resumable, imported), listing, reading, deleting. */
export function mediaRoutes() {
  return createRouter()
    .openapi(uploadRoute, async (c) => {
      const tenant = await requireTenant(c, 'write', { profileTokens: true })
      const query = c.req.valid('query')
      const services = c.var.services
      const profileId = await resolveMediaProfile(services.db, tenant, query.profileId)
      const declared = Number(c.req.header('content-length') ?? 0)
      // Refuse what cannot fit before reading a byte of it.
      await assertRoomFor(
        services,
        tenant.workspaceId,
        Math.min(declared, services.config.media.maxFileBytes),
      )
      const upload = await receiveMultipart(
        c.req.raw,
        services.media.temporaryDir,
        services.config.media.maxFileBytes,
      )
      try {
        refuseUnstorableText({ altText: upload.fields.altText, filename: upload.filename }, 'body')
      } catch (error) {
        await rm(upload.file.path, { force: true })
        throw error
      }
      const altText = AltTextSchema.optional().safeParse(upload.fields.altText ?? query.altText)
      const created = await storeMedia(
        services,
        { workspaceId: tenant.workspaceId, profileId },
        upload.file,
        {
          filename: upload.filename?.slice(0, 255) || undefined,
          altText: altText.success ? altText.data || undefined : undefined,
          source: 'upload',
        },
        tenant.actor,
      )
      return c.json(created, 201)
    })
    .openapi(importRoute, async (c) => {
      const tenant = await requireTenant(c, 'write', { profileTokens: true })
      const body = c.req.valid('json')
      const profileId = await resolveMediaProfile(c.var.services.db, tenant, body.profileId)
      return c.json(
        await importMedia(
          c.var.services,
          { workspaceId: tenant.workspaceId, profileId },
          body,
          tenant.actor,
        ),
        201,
      )
    })
    .openapi(createUploadRoute, async (c) => {
      const tenant = await requireTenant(c, 'write', { profileTokens: true })
      return c.json(
        await createUpload(c.var.services, tenant, c.req.valid('json'), tenant.actor),
        201,
      )
    })
    .openapi(getUploadRoute, async (c) => {
      const tenant = await requireTenant(c, 'read', { profileTokens: true })
      return c.json(await getUpload(c.var.services, tenant, c.req.valid('param').uploadId), 200)
    })
    .openapi(putPartRoute, async (c) => {
      const tenant = await requireTenant(c, 'write', { profileTokens: true })
      const { uploadId, partNumber } = c.req.valid('param')
      return c.json(
        await putUploadPart(c.var.services, tenant, uploadId, partNumber, c.req.raw),
        200,
      )
    })
    .openapi(completeUploadRoute, async (c) => {
      const tenant = await requireTenant(c, 'write', { profileTokens: true })
      const sha256 = (c.req.valid('json') as { sha256?: string } | undefined)?.sha256
      const result = await completeUpload(
        c.var.services,
        tenant,
        c.req.valid('param').uploadId,
        { sha256 },
        tenant.actor,
      )
      return result.created ? c.json(result.media, 201) : c.json(result.media, 200)
    })
    .openapi(abortUploadRoute, async (c) => {
      const tenant = await requireTenant(c, 'write', { profileTokens: true })
      await abortUpload(c.var.services, tenant, c.req.valid('param').uploadId)
      return c.body(null, 204)
    })
    .openapi(listRoute, async (c) => {
      const tenant = await requireTenant(c, 'read', { profileTokens: true })
      return c.json(await listMedia(c.var.services, tenant, c.req.valid('query')), 200)
    })
    .openapi(validateRoute, async (c) => {
      const tenant = await requireTenant(c, 'read', { profileTokens: true })
      const body = c.req.valid('json')
      const issues = await validateMediaForPlatforms(
        c.var.services,
        tenant.workspaceId,
        body.mediaIds,
        body.platforms,
      )
      return c.json({ valid: issues.length === 0, issues }, 200)
    })
    .openapi(getRoute, async (c) => {
      const tenant = await requireTenant(c, 'read', { profileTokens: true })
      return c.json(await getMedia(c.var.services, tenant, c.req.valid('param').mediaId), 200)
    })
    .openapi(updateRoute, async (c) => {
      const tenant = await requireTenant(c, 'write', { profileTokens: true })
      return c.json(
        await updateMedia(
          c.var.services,
          tenant,
          c.req.valid('param').mediaId,
          c.req.valid('json'),
          tenant.actor,
        ),
        200,
      )
    })
    .openapi(deleteRoute, async (c) => {
      const tenant = await requireTenant(c, 'write', { profileTokens: true })
      await deleteMedia(
        c.var.services,
        tenant,
        c.req.valid('param').mediaId,
        { force: c.req.valid('query').force },
        tenant.actor,
      )
      return c.body(null, 204)
    })
}

/**
 * Whether a request is one of the media uploads that stream a large body (`POST /v1/media`,
 * `PUT /v1/media/uploads/{id}/parts/{n}`): the app's global body limit leaves those to the media
 * limits, which are enforced while streaming. Matched at the end of the path, so it holds when the
 * app is mounted under a prefix.
 */
export function isMediaUploadRequest(method: string, path: string): boolean {
  return (
    (method === 'POST' && /\/v1\/media\/?$/.test(path)) ||
    (method === 'PUT' && /\/v1\/media\/uploads\/[^/]+\/parts\/[^/]+\/?$/.test(path))
  )
}
