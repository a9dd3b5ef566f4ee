import { createRoute, z } from '@hono/zod-openapi'
import { and, eq, inArray, isNull, sql } from 'drizzle-orm'
import { requireTenant, type TenantContext } from '../auth/middleware.ts'
import { connectedAccounts, sandboxPosts } from '../db/schema/index.ts'
import { AUTHENTICATED, jsonResponse } from '../http/openapi-helpers.ts'
import { chronological, PageQuerySchema, toPage } from '../http/pagination.ts'
import { problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import type { Services } from '../services.ts'

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

async function listSandboxPosts(
  services: Services,
  tenant: TenantContext,
  query: {
    limit: number
    cursor?: string | undefined
    includeDeleted?: 'true' | 'false' | undefined
  },
) {
  const accounts = services.db
    .select({ id: connectedAccounts.platformAccountId })
    .from(connectedAccounts)
    .where(
      and(
        eq(connectedAccounts.workspaceId, tenant.workspaceId),
        eq(connectedAccounts.platform, 'sandbox'),
        tenant.profileId === undefined
          ? undefined
          : eq(connectedAccounts.profileId, tenant.profileId),
      ),
    )
  const order = chronological(sandboxPosts.createdAt, sandboxPosts.id, query.cursor, 'desc')
  const rows = await services.db
    .select({ post: sandboxPosts, key: order.key })
    .from(sandboxPosts)
    .where(
      and(
        inArray(sandboxPosts.accountId, accounts),
        query.includeDeleted === 'true' ? undefined : isNull(sandboxPosts.deletedAt),
        order.after,
      ),
    )
    .orderBy(...order.orderBy)
    .limit(query.limit + 1)
  const [duplicates] = await services.db.execute<{ count: number }>(sql`
    select count(*)::int as count from (
      select 1 from ${sandboxPosts}
      where ${sandboxPosts.accountId} in (${accounts}) and ${sandboxPosts.deletedAt} is null
      group by ${sandboxPosts.contentDigest} having count(*) > 1) twice`)
  return {
    ...toPage(
      rows,
      query.limit,
      (row) => ({ key: row.key, id: row.post.id }),
      ({ post: row }) => ({
        id: row.id,
        accountId: row.accountId,
        text: row.text,
        media: row.media as { id: string; kind: string; mimeType: string; sizeBytes: number }[],
        thread: row.thread as { id: string; text: string }[],
        idempotencyKey: row.idempotencyKey,
        createdAt: row.createdAt.toISOString(),
        deletedAt: row.deletedAt?.toISOString() ?? null,
      }),
    ),
    duplicates: duplicates?.count ?? 0,
  }
}

/** What reached the sandbox platform, for the caller's sandbox accounts. */
export function sandboxRoutes() {
  return createRouter().openapi(listRoute, async (c) => {
    const tenant = await requireTenant(c, 'read', { profileTokens: true })
    return c.json(await listSandboxPosts(c.var.services, tenant, c.req.valid('query')), 200)
  })
}
