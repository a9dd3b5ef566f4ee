import { createRoute, z } from '@hono/zod-openapi'
import { requireTenant } from '../auth/middleware.ts'
import { POST_STATUSES, PUBLICATION_STATUSES } from '../db/schema/index.ts'
import { PublicationErrorData } from '../events/schemas.ts'
import { IdempotencyHeaders } from '../http/idempotency.ts'
import {
  AUTHENTICATED,
  idSchema,
  jsonBody,
  jsonResponse,
  TimezoneSchema,
} from '../http/openapi-helpers.ts'
import { PageQuerySchema, pageSchema } from '../http/pagination.ts'
import { IssueSchema, problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import { RecurrenceInputSchema, RecurrenceSchema } from '../scheduling/routes.ts'
import { cancelPost, publishPostNow, retryPublication, updatePost } from './changes.ts'
import { createPost, validatePost } from './create.ts'
import { deletePost } from './deletion.ts'
import { getPost, listPosts } from './list.ts'

const PublicationErrorSchema = PublicationErrorData.openapi('PublicationError')

const PublicationSchema = z
  .object({
    id: z.string().openapi({ example: 'pub_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    accountId: z.string(),
    platform: z.string(),
    status: z.enum(PUBLICATION_STATUSES),
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
            '`published`, `failed`, `unconfirmed`, `retry`, `reconciled`, `unknown`, `processing` (the platform accepted the post and finishes it later; each later check is an attempt too), or null while running',
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
    status: z.enum(POST_STATUSES),
    content: ContentSchema,
    overrides: z.record(z.string(), OverrideSchema),
    accountIds: z.array(z.string()).openapi({ description: 'The connected accounts it targets' }),
    scheduledAt: z.iso.datetime({ offset: true }).nullable(),
    timezone: z.string(),
    seriesId: z
      .string()
      .nullable()
      .openapi({ description: 'The recurring series this post is an occurrence of' }),
    recurrence: RecurrenceSchema.nullable()
      .optional()
      .openapi({ description: 'The series’ rule and state (on create and get)' }),
    createdAt: z.iso.datetime({ offset: true }),
    updatedAt: z.iso.datetime({ offset: true }),
    publications: z.array(PublicationSchema),
  })
  .openapi('Post')

export const PostCreateSchema = z
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
    queue: z.boolean().optional().openapi({
      description:
        'Take the next free slot of the profile’s posting schedule (instead of scheduledAt)',
    }),
    recurrence: RecurrenceInputSchema.optional(),
  })
  .strict()
  .openapi('PostCreate')

const createPostRoute = createRoute({
  method: 'post',
  path: '/posts',
  tags: ['Posts'],
  summary: 'Create a post',
  description:
    'For one or more connected accounts of a profile: shared content, per-platform overrides, and when — `scheduledAt` (an instant with its offset, plus the IANA `timezone` it was written in), `publishNow`, `queue` (the next free slot of the profile’s posting schedule), or `draft`; `recurrence` repeats it by an RRULE. Every problem for every target platform is answered at once with `422` and its path.',
  security: AUTHENTICATED,
  request: {
    headers: IdempotencyHeaders,
    body: jsonBody(PostCreateSchema),
  },
  responses: {
    201: jsonResponse('The post with its publications', PostSchema),
    ...problemResponses(
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'VALIDATION_FAILED',
      'IDEMPOTENCY_KEY_REUSED',
    ),
  },
})

const PostParams = z.object({ postId: idSchema('post') })

const getPostRoute = createRoute({
  method: 'get',
  path: '/posts/{postId}',
  tags: ['Posts'],
  summary: 'Get a post',
  description:
    'With each publication’s status, platform id and URL, error, and the timeline of its attempts.',
  security: AUTHENTICATED,
  request: { params: PostParams },
  responses: {
    200: jsonResponse('The post', PostSchema),
    ...problemResponses('UNAUTHENTICATED', 'NOT_FOUND'),
  },
})

const listPostsRoute = createRoute({
  method: 'get',
  path: '/posts',
  tags: ['Posts'],
  summary: 'List posts',
  description:
    'Newest first, with their publications. Filters combine; `from`/`to` bound `scheduledAt` (drafts have none, so a window leaves them out). A profile token sees its own profile’s posts only.',
  security: AUTHENTICATED,
  request: {
    query: PageQuerySchema.extend({
      status: z.enum(POST_STATUSES).optional(),
      profileId: idSchema('prof').optional(),
      accountId: idSchema('acct').optional(),
      platform: z.string().max(50).optional(),
      from: z.iso.datetime({ offset: true }).optional().openapi({
        description: 'Scheduled at or after this instant',
      }),
      to: z.iso
        .datetime({ offset: true })
        .optional()
        .openapi({ description: 'Scheduled before this instant' }),
    }),
  },
  responses: {
    200: jsonResponse('A page of posts', pageSchema(PostSchema).openapi('PostPage')),
    ...problemResponses('UNAUTHENTICATED', 'VALIDATION_FAILED'),
  },
})

const validatePostRoute = createRoute({
  method: 'post',
  path: '/posts/validate',
  tags: ['Posts'],
  summary: 'Validate a post (dry run)',
  description:
    'Checks a post exactly as create would — accounts, every target platform’s rules, daily caps and the duplicate guard — and creates nothing. A missing time is no issue here: the post is checked as if published now. Create answers `422` with the same issues.',
  security: AUTHENTICATED,
  request: { headers: IdempotencyHeaders, body: jsonBody(PostCreateSchema) },
  responses: {
    200: jsonResponse(
      'Every issue, overall and per target',
      z
        .object({
          valid: z.boolean(),
          issues: z.array(IssueSchema),
          targets: z.array(
            z.object({
              accountId: z.string(),
              platform: z.string().nullable(),
              valid: z.boolean(),
              issues: z.array(IssueSchema),
            }),
          ),
        })
        .openapi('PostValidation'),
    ),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'VALIDATION_FAILED'),
  },
})

const updatePostRoute = createRoute({
  method: 'patch',
  path: '/posts/{postId}',
  tags: ['Posts'],
  summary: 'Update or reschedule a post',
  description:
    'Changes content, overrides, accounts, `scheduledAt` or `timezone` until publishing starts (then `409`). Giving a draft a `scheduledAt` schedules it; `scheduledAt: null` turns a post back into a draft. Checked like a new post (`422` with every issue).',
  security: AUTHENTICATED,
  request: {
    params: PostParams,
    body: jsonBody(
      z
        .object({
          accountIds: z.array(z.string().max(100)).min(1).max(50).optional(),
          content: ContentSchema.optional(),
          overrides: z.record(z.string().max(50), OverrideSchema).optional(),
          scheduledAt: z.iso.datetime({ offset: true }).nullable().optional(),
          timezone: TimezoneSchema.optional(),
        })
        .strict()
        .openapi('PostUpdate'),
    ),
  },
  responses: {
    200: jsonResponse('The updated post', PostSchema),
    ...problemResponses(
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'VALIDATION_FAILED',
    ),
  },
})

const deletePostRoute = createRoute({
  method: 'delete',
  path: '/posts/{postId}',
  tags: ['Posts'],
  summary: 'Delete a post',
  description:
    'Deletes the post and its publications (pending ones are canceled first). With `fromPlatforms=true`, published copies are also deleted from their platforms where the platform allows it; each outcome is reported and a failure never keeps the post. `409` while a publication is being published.',
  security: AUTHENTICATED,
  request: {
    params: PostParams,
    query: z.object({
      fromPlatforms: z
        .enum(['true', 'false'])
        .optional()
        .openapi({ description: 'Also delete published copies from the platforms' }),
    }),
  },
  responses: {
    200: jsonResponse(
      'The post is gone',
      z
        .object({
          id: z.string(),
          deleted: z.literal(true),
          platformDeletions: z.array(
            z.object({
              publicationId: z.string(),
              accountId: z.string(),
              platform: z.string(),
              platformPostId: z.string(),
              outcome: z.enum(['deleted', 'not_supported', 'failed']),
              error: PublicationErrorSchema.nullable(),
            }),
          ),
        })
        .openapi('PostDeletion'),
    ),
    ...problemResponses(
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'VALIDATION_FAILED',
    ),
  },
})

const cancelPostRoute = createRoute({
  method: 'post',
  path: '/posts/{postId}/cancel',
  tags: ['Posts'],
  summary: 'Cancel a post',
  description:
    'Publications not yet publishing become `canceled`; those publishing or finished stay as they are. `409` when nothing is left to cancel. Canceling a canceled post changes nothing.',
  security: AUTHENTICATED,
  request: { params: PostParams, headers: IdempotencyHeaders },
  responses: {
    200: jsonResponse('The post', PostSchema),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT'),
  },
})

const publishNowRoute = createRoute({
  method: 'post',
  path: '/posts/{postId}/publish-now',
  tags: ['Posts'],
  summary: 'Publish a post now',
  description:
    'Its pending publications become due at once (a draft gets its publications), checked against today’s caps and the duplicate guard. `409` when nothing is pending.',
  security: AUTHENTICATED,
  request: { params: PostParams, headers: IdempotencyHeaders },
  responses: {
    200: jsonResponse('The post', PostSchema),
    ...problemResponses(
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'VALIDATION_FAILED',
    ),
  },
})

const retryPublicationRoute = createRoute({
  method: 'post',
  path: '/posts/{postId}/publications/{publicationId}/retry',
  tags: ['Posts'],
  summary: 'Retry a publication',
  description:
    'Only a `failed` or `unconfirmed` one (else `409`). For an unconfirmed publication the platform is asked first whether the earlier attempt made the post; it is published again only if not.',
  security: AUTHENTICATED,
  request: {
    params: PostParams.extend({ publicationId: idSchema('pub') }),
    headers: IdempotencyHeaders,
  },
  responses: {
    200: jsonResponse('The post', PostSchema),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT'),
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
    .openapi(listPostsRoute, async (c) => {
      const tenant = await requireTenant(c, 'read', { profileTokens: true })
      return c.json(await listPosts(c.var.services, tenant, c.req.valid('query')), 200)
    })
    .openapi(validatePostRoute, async (c) => {
      const tenant = await requireTenant(c, 'read', { profileTokens: true })
      return c.json(await validatePost(c.var.services, tenant, c.req.valid('json')), 200)
    })
    .openapi(updatePostRoute, async (c) => {
      const tenant = await requireTenant(c, 'write', { profileTokens: true })
      const { postId } = c.req.valid('param')
      return c.json(await updatePost(c.var.services, tenant, postId, c.req.valid('json')), 200)
    })
    .openapi(deletePostRoute, async (c) => {
      const tenant = await requireTenant(c, 'write', { profileTokens: true })
      const { postId } = c.req.valid('param')
      const fromPlatforms = c.req.valid('query').fromPlatforms === 'true'
      return c.json(await deletePost(c.var.services, tenant, postId, { fromPlatforms }), 200)
    })
    .openapi(cancelPostRoute, async (c) => {
      const tenant = await requireTenant(c, 'write', { profileTokens: true })
      return c.json(await cancelPost(c.var.services, tenant, c.req.valid('param').postId), 200)
    })
    .openapi(publishNowRoute, async (c) => {
      const tenant = await requireTenant(c, 'write', { profileTokens: true })
      return c.json(await publishPostNow(c.var.services, tenant, c.req.valid('param').postId), 200)
    })
    .openapi(retryPublicationRoute, async (c) => {
      const tenant = await requireTenant(c, 'write', { profileTokens: true })
      const { postId, publicationId } = c.req.valid('param')
      return c.json(await retryPublication(c.var.services, tenant, postId, publicationId), 200)
    })
}
