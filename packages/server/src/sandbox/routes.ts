import { createRoute, z } from '@hono/zod-openapi'
import { requireTenant } from '../auth/middleware.ts'
import { AUTHENTICATED, jsonResponse } from '../http/openapi-helpers.ts'
import { PageQuerySchema } from '../http/pagination.ts'
import { problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import { listSandboxPosts } from './store.ts'

const SandboxPostSchema = z
  .object({
    id: z
      .string()
      .openapi({ description: 'The sandbox’s id of the post: the publication’s platformPostId' }),
    accountId: z.string().openapi({ description: 'The sandbox account (platformAccountId)' }),
    text: z.string(),
    media: z.array(
      z.object({ id: z.string(), kind: z.string(), mimeType: z.string(), sizeBytes: z.number() }),
    ),
    thread: z.array(z.object({ id: z.string(), text: z.string() })),
    idempotencyKey: z.string(),
    createdAt: z.iso.datetime({ offset: true }),
    deletedAt: z.iso.datetime({ offset: true }).nullable(),
  })
  .openapi('SandboxPost')

const listRoute = createRoute({
  method: 'get',
  path: '/sandbox/posts',
  tags: ['Platforms'],
  summary: 'What reached the sandbox platform',
  description:
    'Every post the sandbox received for the caller’s connected sandbox accounts, newest first, and how many were received twice (`duplicates`, which should always be 0): for tests and demos.',
  security: AUTHENTICATED,
  request: {
    query: PageQuerySchema.extend({ includeDeleted: z.enum(['true', 'false']).optional() }),
  },
  responses: {
    200: jsonResponse(
      'A page of sandbox posts',
      z
        .object({
          data: z.array(SandboxPostSchema),
          nextCursor: z.string().nullable(),
          duplicates: z.number().int(),
        })
        .openapi('SandboxPostPage'),
    ),
    ...problemResponses('UNAUTHENTICATED', 'VALIDATION_FAILED'),
  },
})

/** What reached the sandbox platform, for the caller's sandbox accounts. */
export function sandboxRoutes() {
  return createRouter().openapi(listRoute, async (c) => {
    const tenant = await requireTenant(c, 'read', { profileTokens: true })
    return c.json(await listSandboxPosts(c.var.services.db, tenant, c.req.valid('query')), 200)
  })
}
