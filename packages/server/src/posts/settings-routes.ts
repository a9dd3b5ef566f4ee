import { createRoute, z } from '@hono/zod-openapi'
import { requireTenant } from '../auth/middleware.ts'
import { AUTHENTICATED, idSchema, jsonBody, jsonResponse } from '../http/openapi-helpers.ts'
import { problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import { getPublishingSettings, updatePublishingSettings } from './publishing-settings.ts'

const MAX_WINDOW_SECONDS = 30 * 24 * 60 * 60

const PublishingSettingsSchema = z
  .object({
    dailyCaps: z.record(z.string(), z.number().int()).openapi({
      description:
        'Publications per connected account per UTC day, by platform: the workspace’s own values over the defaults taken from each platform’s documented limits',
      example: { x: 2400, linkedin: 150, sandbox: 10000 },
    }),
    duplicateWindowSeconds: z.number().int().openapi({
      description:
        'The same text may not go to the same account twice within this window; 0 turns the guard off',
      example: 86400,
    }),
    missedAfterSeconds: z.number().int().nullable().openapi({
      description:
        'What happens to a post missed while Post Scheduler was down: a publication first reached more than this many seconds after its time fails with code `MISSED` (retry it to publish anyway) instead of being published late. `null`, the default, publishes it whatever the delay.',
      example: 3600,
    }),
    overrides: z
      .object({
        dailyCaps: z.record(z.string(), z.number().int()),
        duplicateWindowSeconds: z.number().int().nullable(),
      })
      .openapi({ description: 'What the workspace set itself (null: the default)' }),
  })
  .openapi('PublishingSettings')

const WorkspaceParams = z.object({ workspaceId: idSchema('ws') })

const getSettingsRoute = createRoute({
  method: 'get',
  path: '/workspaces/{workspaceId}/publishing-settings',
  tags: ['Posts'],
  summary: 'Get the publishing guards',
  description:
    'Daily caps per connected account and the duplicate-content window that posts are checked against when created, changed or published now, and the policy for posts missed while everything was down.',
  security: AUTHENTICATED,
  request: { params: WorkspaceParams },
  responses: {
    200: jsonResponse('The effective settings', PublishingSettingsSchema),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND'),
  },
})

const patchSettingsRoute = createRoute({
  method: 'patch',
  path: '/workspaces/{workspaceId}/publishing-settings',
  tags: ['Posts'],
  summary: 'Change the publishing guards',
  description:
    'Needs the admin scope. A number sets the workspace’s own value; `null` goes back to the default. Posts already scheduled are not re-checked.',
  security: AUTHENTICATED,
  request: {
    params: WorkspaceParams,
    body: jsonBody(
      z
        .object({
          dailyCaps: z
            .record(z.string().max(50), z.number().int().min(0).max(100_000).nullable())
            .optional(),
          duplicateWindowSeconds: z
            .number()
            .int()
            .min(0)
            .max(MAX_WINDOW_SECONDS)
            .nullable()
            .optional(),
          missedAfterSeconds: z
            .number()
            .int()
            .min(60)
            .max(MAX_WINDOW_SECONDS)
            .nullable()
            .optional(),
        })
        .strict()
        .openapi('PublishingSettingsUpdate'),
    ),
  },
  responses: {
    200: jsonResponse('The effective settings', PublishingSettingsSchema),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'VALIDATION_FAILED'),
  },
})

/** A workspace's publishing guards: daily caps, the duplicate-content window, the missed-post policy. */
export function publishingSettingsRoutes() {
  return createRouter()
    .openapi(getSettingsRoute, async (c) => {
      const { workspaceId } = c.req.valid('param')
      const tenant = await requireTenant(c, 'read', { workspaceId })
      return c.json(await getPublishingSettings(c.var.services, tenant.workspaceId), 200)
    })
    .openapi(patchSettingsRoute, async (c) => {
      const { workspaceId } = c.req.valid('param')
      const tenant = await requireTenant(c, 'admin', { workspaceId })
      return c.json(
        await updatePublishingSettings(
          c.var.services,
          tenant.workspaceId,
          c.req.valid('json'),
          tenant.actor,
        ),
        200,
      )
    })
}
