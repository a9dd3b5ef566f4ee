import { createRoute, z } from '@hono/zod-openapi'
import { requireTenant } from '../auth/middleware.ts'
import { MEDIA_UPLOAD_STATUSES } from '../db/schema/index.ts'
import { AUTHENTICATED, idSchema, jsonBody, jsonResponse } from '../http/openapi-helpers.ts'
import { problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import {
  AltTextSchema,
  COMMON,
  FilenameSchema,
  MediaDetailSchema,
  ProfileIdSchema,
} from './schemas.ts'
import { abortUpload, completeUpload, createUpload, getUpload, putUploadPart } from './uploads.ts'

const Sha256Schema = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal digits')
  .openapi({ description: 'SHA-256 of the whole file, hexadecimal' })

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
    status: z.enum(MEDIA_UPLOAD_STATUSES),
    mediaId: z.string().nullable(),
    expiresAt: z.iso.datetime({ offset: true }),
    createdAt: z.iso.datetime({ offset: true }),
  })
  .openapi('MediaUpload')

const UploadParams = z.object({ uploadId: idSchema('mup') })

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

/** Resumable uploads: start, send parts (in any order, again after a failure), complete, abandon. */
export function uploadRoutes() {
  return createRouter()
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
}
