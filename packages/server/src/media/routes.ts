import { rm } from 'node:fs/promises'
import { createRoute, z } from '@hono/zod-openapi'
import { requireTenant } from '../auth/middleware.ts'
import { MEDIA_KINDS } from '../db/schema/index.ts'
import { AUTHENTICATED, idSchema, jsonBody, jsonResponse } from '../http/openapi-helpers.ts'
import { PageQuerySchema, pageSchema } from '../http/pagination.ts'
import { IssueSchema, problemResponses } from '../http/problem.ts'
import { createRouter, refuseUnstorableText } from '../http/router.ts'
import { resolveProfileId } from '../profiles/resolve.ts'
import { importMedia, storeMedia } from './intake.ts'
import { deleteMedia, getMedia, listMedia, updateMedia } from './library.ts'
import { validateMediaForPlatforms } from './publishing.ts'
import { assertRoomFor } from './quota.ts'
import { receiveMultipart } from './receive.ts'
import {
  AltTextSchema,
  COMMON,
  FilenameSchema,
  MediaDetailSchema,
  MediaSchema,
  ProfileIdSchema,
} from './schemas.ts'
import { uploadRoutes } from './upload-routes.ts'

const MediaParams = z.object({ mediaId: idSchema('med') })

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
      kind: z.enum(MEDIA_KINDS).optional(),
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
      const profileId = await resolveProfileId(services.db, tenant, query.profileId)
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
      const profileId = await resolveProfileId(c.var.services.db, tenant, body.profileId)
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
    .route('/', uploadRoutes())
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
