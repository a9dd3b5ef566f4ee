import { createRoute, z } from '@hono/zod-openapi'
import { requireTenant } from '../auth/middleware.ts'
import { AUTHENTICATED, jsonBody, jsonResponse, TimezoneSchema } from '../http/openapi-helpers.ts'
import { problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import { createPost, getPost } from './service.ts'

const PublicationErrorSchema = z
  .object({
    code: z.string().openapi({ example: 'RATE_LIMITED' }),
    message: z.string(),
    retryable: z.boolean(),
    action: z.enum(['reconnect', 'fix_content', 'retry_later']).optional(),
    platformCode: z.string().optional(),
  })
  .openapi('PublicationError')

const PublicationSchema = z
  .object({
    id: z.string().openapi({ example: 'pub_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    accountId: z.string(),
    platform: z.string(),
    status: z.enum([
      'scheduled',
      'queued',
      'publishing',
      'published',
      'failed',
      'unconfirmed',
      'canceled',
    ]),
    dueAt: z.iso.datetime({ offset: true }),
    attempts: z.number().int(),
    platformPostId: z.string().nullable(),
    url: z.string().nullable(),
    error: PublicationErrorSchema.nullable(),
    publishedAt: z.iso.datetime({ offset: true }).nullable(),
    timeline: z.array(
      z.object({
        attemptId: z.string(),
        startedAt: z.iso.datetime({ offset: true }),
        finishedAt: z.iso.datetime({ offset: true }).nullable(),
        outcome: z.string().nullable().openapi({
          description:
            '`published`, `failed`, `unconfirmed`, `retry`, `reconciled`, `unknown`, or null while running',
        }),
        error: PublicationErrorSchema.nullable(),
      }),
    ),
  })
  .openapi('Publication')

const ContentSchema = z
  .object({
    text: z.string().max(100_000),
    mediaIds: z.array(z.string().max(100)).max(20).default([]),
    firstComment: z.string().max(10_000).optional(),
    thread: z
      .array(z.object({ text: z.string().max(100_000) }))
      .max(50)
      .optional(),
  })
  .openapi('PostContent')

const OverrideSchema = z
  .object({
    text: z.string().max(100_000).optional(),
    mediaIds: z.array(z.string().max(100)).max(20).optional(),
    options: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()

export const PostSchema = z
  .object({
    id: z.string().openapi({ example: 'post_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    profileId: z.string(),
    status: z.enum([
      'draft',
      'scheduled',
      'publishing',
      'published',
      'partially_published',
      'failed',
      'canceled',
    ]),
    content: ContentSchema,
    overrides: z.record(z.string(), OverrideSchema),
    scheduledAt: z.iso.datetime({ offset: true }).nullable(),
    timezone: z.string(),
    createdAt: z.iso.datetime({ offset: true }),
    updatedAt: z.iso.datetime({ offset: true }),
    publications: z.array(PublicationSchema),
  })
  .openapi('Post')

const createPostRoute = createRoute({
  method: 'post',
  path: '/posts',
  tags: ['Posts'],
  summary: 'Create a post',
  description:
    'For one or more connected accounts of a profile: shared content, per-platform overrides, and when — `scheduledAt` (an instant with its offset, plus the IANA `timezone` it was written in), `publishNow`, or `draft`. Every problem for every target platform is answered at once with `422` and its path.',
  security: AUTHENTICATED,
  request: {
    body: jsonBody(
      z
        .object({
          profileId: z.string().max(100).optional().openapi({
            description: 'Defaults to the workspace’s default profile (a profile token’s own)',
          }),
          accountIds: z.array(z.string().max(100)).min(1).max(50),
          content: ContentSchema,
          overrides: z
            .record(z.string().max(50), OverrideSchema)
            .optional()
            .openapi({ description: 'Per platform id' }),
          scheduledAt: z.iso.datetime({ offset: true }).optional(),
          timezone: TimezoneSchema.optional(),
          publishNow: z.boolean().optional(),
          draft: z.boolean().optional(),
        })
        .strict()
        .openapi('PostCreate'),
    ),
  },
  responses: {
    201: jsonResponse('The post with its publications', PostSchema),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'VALIDATION_FAILED'),
  },
})

const getPostRoute = createRoute({
  method: 'get',
  path: '/posts/{postId}',
  tags: ['Posts'],
  summary: 'Get a post',
  description:
    'With each publication’s status, platform id and URL, error, and the timeline of its attempts.',
  security: AUTHENTICATED,
  request: { params: z.object({ postId: z.string().max(100) }) },
  responses: {
    200: jsonResponse('The post', PostSchema),
    ...problemResponses('UNAUTHENTICATED', 'NOT_FOUND'),
  },
})

/** Posts and their publications. */
export function postRoutes() {
  return createRouter()
    .openapi(createPostRoute, async (c) => {
      const tenant = await requireTenant(c, 'write', { profileTokens: true })
      return c.json(await createPost(c.var.services, tenant, c.req.valid('json')), 201)
    })
    .openapi(getPostRoute, async (c) => {
      const tenant = await requireTenant(c, 'read', { profileTokens: true })
      return c.json(await getPost(c.var.services, tenant, c.req.valid('param').postId), 200)
    })
}
