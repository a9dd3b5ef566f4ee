import { createRoute, z } from '@hono/zod-openapi'
import { requireTenant } from '../auth/middleware.ts'
import { AnyIdSchema, AUTHENTICATED, jsonResponse } from '../http/openapi-helpers.ts'
import { PageQuerySchema, pageSchema } from '../http/pagination.ts'
import { problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import { listAuditLog } from './service.ts'

const AuditEntrySchema = z
  .object({
    id: z.string(),
    action: z.string().openapi({ example: 'api_key.created' }),
    actor: z.object({
      type: z.enum(['user', 'api_key', 'profile_token', 'system', 'anonymous']),
      id: z.string().nullable(),
    }),
    target: z.object({ type: z.string(), id: z.string().nullable() }).nullable(),
    subjectUserId: z.string().nullable().openapi({ description: 'The person the event concerns' }),
    ip: z.string().nullable(),
    requestId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    createdAt: z.iso.datetime({ offset: true }),
  })
  .openapi('AuditEntry')

const listRoute = createRoute({
  method: 'get',
  path: '/audit-log',
  tags: ['Audit log'],
  summary: 'Read the audit log',
  description:
    'Sign-ins, keys and tokens created or revoked, member changes and access to personal data, newest first. Entries cannot be changed or deleted. Needs the admin scope.',
  security: AUTHENTICATED,
  request: {
    query: PageQuerySchema.extend({
      action: z
        .string()
        .max(100)
        .optional()
        .openapi({ description: 'Exact action, or a prefix ending in `.*`', example: 'api_key.*' }),
      actorId: AnyIdSchema.optional(),
      targetId: AnyIdSchema.optional(),
      since: z.iso.datetime({ offset: true }).optional(),
      until: z.iso.datetime({ offset: true }).optional(),
    }),
  },
  responses: {
    200: jsonResponse('A page of entries', pageSchema(AuditEntrySchema).openapi('AuditLogPage')),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'VALIDATION_FAILED', 'WORKSPACE_REQUIRED'),
  },
})

/** The workspace's audit log, for its admins. */
export function auditRoutes() {
  return createRouter().openapi(listRoute, async (c) => {
    const tenant = await requireTenant(c, 'admin')
    return c.json(
      await listAuditLog(c.var.services, tenant.workspaceId, c.req.valid('query'), tenant.actor),
      200,
    )
  })
}
