import { createRoute, z } from '@hono/zod-openapi'
import { requireTenant } from '../auth/middleware.ts'
import { AUTHENTICATED, jsonBody, jsonResponse } from '../http/openapi-helpers.ts'
import { problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import { deleteOAuthApp, listOAuthApps, listPlatforms, putOAuthApp } from './service.ts'

const PlatformSchema = z
  .object({
    id: z.string().openapi({ example: 'sandbox' }),
    displayName: z.string().openapi({ example: 'Sandbox' }),
    configured: z.boolean().openapi({
      description:
        'Whether accounts can be connected: an OAuth app is registered for the workspace or the server',
    }),
    emulated: z.boolean().openapi({
      description:
        'Whether this server connects the platform to the emulator it hosts (`PLATFORM_EMULATORS`, development only) instead of the real platform: posts reach no real network',
    }),
    capabilities: z.record(z.string(), z.unknown()).openapi({
      description:
        'Text, media, thread and feature limits; `optionsSchema` is a JSON Schema of the per-post options',
    }),
  })
  .openapi('Platform')

const OAuthAppSchema = z
  .object({
    platform: z.string(),
    clientId: z.string(),
    createdAt: z.iso.datetime({ offset: true }),
    updatedAt: z.iso.datetime({ offset: true }),
  })
  .openapi('OAuthApp')

const PlatformParams = z.object({ platform: z.string().max(50) })

const listPlatformsRoute = createRoute({
  method: 'get',
  path: '/platforms',
  tags: ['Platforms'],
  summary: 'List platforms',
  description:
    'Every installed platform with its capabilities, and whether the workspace can connect accounts to it. Profile tokens may call it.',
  security: AUTHENTICATED,
  responses: {
    200: jsonResponse('The platforms', z.object({ data: z.array(PlatformSchema) })),
    ...problemResponses('UNAUTHENTICATED'),
  },
})

const putAppRoute = createRoute({
  method: 'put',
  path: '/oauth-apps/{platform}',
  tags: ['Platforms'],
  summary: 'Register your own OAuth app for a platform',
  description:
    'Connections of this workspace then use your app instead of the server’s. The client secret is encrypted at rest and never shown again. Needs the admin scope.',
  security: AUTHENTICATED,
  request: {
    params: PlatformParams,
    body: jsonBody(
      z
        .object({ clientId: z.string().min(1).max(500), clientSecret: z.string().min(1).max(2000) })
        .openapi('OAuthAppInput'),
    ),
  },
  responses: {
    200: jsonResponse('The registered app, without its secret', OAuthAppSchema),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'VALIDATION_FAILED'),
  },
})

const listAppsRoute = createRoute({
  method: 'get',
  path: '/oauth-apps',
  tags: ['Platforms'],
  summary: 'List your own OAuth apps',
  security: AUTHENTICATED,
  responses: {
    200: jsonResponse(
      'The workspace’s apps, without secrets',
      z.object({ data: z.array(OAuthAppSchema) }),
    ),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN'),
  },
})

const deleteAppRoute = createRoute({
  method: 'delete',
  path: '/oauth-apps/{platform}',
  tags: ['Platforms'],
  summary: 'Remove your own OAuth app for a platform',
  description: 'Later connections use the server’s app, if there is one. Needs the admin scope.',
  security: AUTHENTICATED,
  request: { params: PlatformParams },
  responses: {
    204: { description: 'Removed' },
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND'),
  },
})

/** Installed platforms, and the workspace's own OAuth apps for them. */
export function platformRoutes() {
  return createRouter()
    .openapi(listPlatformsRoute, async (c) => {
      const tenant = await requireTenant(c, 'read', { profileTokens: true })
      return c.json({ data: await listPlatforms(c.var.services, tenant.workspaceId) }, 200)
    })
    .openapi(putAppRoute, async (c) => {
      const tenant = await requireTenant(c, 'admin')
      const platform = c.var.services.platforms.get(c.req.valid('param').platform)
      return c.json(
        await putOAuthApp(
          c.var.services,
          tenant.workspaceId,
          platform,
          c.req.valid('json'),
          tenant.actor,
        ),
        200,
      )
    })
    .openapi(listAppsRoute, async (c) => {
      const tenant = await requireTenant(c, 'admin')
      return c.json({ data: await listOAuthApps(c.var.services, tenant.workspaceId) }, 200)
    })
    .openapi(deleteAppRoute, async (c) => {
      const tenant = await requireTenant(c, 'admin')
      await deleteOAuthApp(
        c.var.services,
        tenant.workspaceId,
        c.req.valid('param').platform,
        tenant.actor,
      )
      return c.body(null, 204)
    })
}
