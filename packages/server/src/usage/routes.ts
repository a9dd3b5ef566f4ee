import { createRoute, z } from '@hono/zod-openapi'
import { requireTenant } from '../auth/middleware.ts'
import { USAGE_EVENT_TYPES } from '../db/schema/index.ts'
import { AUTHENTICATED, jsonResponse } from '../http/openapi-helpers.ts'
import { problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import { aggregateUsage } from './service.ts'

const UsageSchema = z
  .object({
    data: z.array(
      z.object({
        month: z.string().openapi({ example: '2026-11' }),
        type: z.enum(USAGE_EVENT_TYPES),
        feature: z.string().openapi({ example: 'POST /v1/posts' }),
        count: z.number().int(),
      }),
    ),
  })
  .openapi('UsageSummary')

const usageRoute = createRoute({
  method: 'get',
  path: '/usage',
  tags: ['Usage'],
  summary: 'Usage of the workspace',
  description:
    'Calls by the workspace’s API keys and profile tokens and posts scheduled, counted by month and feature over the last 24 months (raw events are deleted after 24 months). Needs the admin scope.',
  security: AUTHENTICATED,
  responses: {
    200: jsonResponse('Counts by month, type and feature', UsageSchema),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'WORKSPACE_REQUIRED'),
  },
})

/** The workspace's aggregated usage analytics. */
export function usageRoutes() {
  return createRouter().openapi(usageRoute, async (c) => {
    const tenant = await requireTenant(c, 'admin')
    return c.json(await aggregateUsage(c.var.services.db, tenant.workspaceId, new Date()), 200)
  })
}
