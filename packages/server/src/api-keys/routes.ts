import { createRoute, z } from '@hono/zod-openapi'
import { requireTenant } from '../auth/middleware.ts'
import { SCOPES } from '../auth/principal.ts'
import { AUTHENTICATED, idSchema, jsonBody, jsonResponse } from '../http/openapi-helpers.ts'
import { problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import { createApiKey, listApiKeys, revokeApiKey } from './service.ts'

const ScopesSchema = z
  .array(z.enum(SCOPES))
  .min(1)
  .openapi({
    description: '`read`, `write` and/or `admin` (keys, members, audit log)',
    example: ['read', 'write'],
  })

export const ApiKeySchema = z
  .object({
    id: z.string().openapi({ example: 'key_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    name: z.string(),
    mode: z.enum(['live', 'test']),
    scopes: ScopesSchema,
    masked: z.string().openapi({ example: 'psk_live_…7kqa' }),
    createdAt: z.iso.datetime({ offset: true }),
    lastUsedAt: z.iso.datetime({ offset: true }).nullable(),
    revokedAt: z.iso.datetime({ offset: true }).nullable(),
  })
  .openapi('ApiKey')

const createKeyRoute = createRoute({
  method: 'post',
  path: '/api-keys',
  tags: ['API keys'],
  summary: 'Create an API key',
  description:
    'Returns the secret once; only its hash is kept. Needs the admin scope. Owners and admins are told by email.',
  security: AUTHENTICATED,
  request: {
    body: jsonBody(
      z
        .object({
          name: z.string().trim().min(1).max(100),
          mode: z.enum(['live', 'test']).default('live'),
          scopes: ScopesSchema.default(['read', 'write']),
        })
        .openapi('ApiKeyCreate'),
    ),
  },
  responses: {
    201: jsonResponse(
      'The new key with its secret, shown this once',
      ApiKeySchema.extend({ secret: z.string().openapi({ example: 'psk_live_…' }) }).openapi(
        'ApiKeyWithSecret',
      ),
    ),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'VALIDATION_FAILED', 'WORKSPACE_REQUIRED'),
  },
})

const listKeysRoute = createRoute({
  method: 'get',
  path: '/api-keys',
  tags: ['API keys'],
  summary: 'List API keys',
  description: 'Masked, with when each was last used. Needs the admin scope.',
  security: AUTHENTICATED,
  responses: {
    200: jsonResponse(
      'The workspace’s keys, newest first',
      z.object({ data: z.array(ApiKeySchema) }),
    ),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'WORKSPACE_REQUIRED'),
  },
})

const revokeKeyRoute = createRoute({
  method: 'delete',
  path: '/api-keys/{apiKeyId}',
  tags: ['API keys'],
  summary: 'Revoke an API key',
  description: 'Takes effect at once. Needs the admin scope.',
  security: AUTHENTICATED,
  request: { params: z.object({ apiKeyId: idSchema('key') }) },
  responses: {
    200: jsonResponse('The revoked key', ApiKeySchema),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'WORKSPACE_REQUIRED'),
  },
})

/** API keys of the caller's workspace. */
export function apiKeyRoutes() {
  return createRouter()
    .openapi(createKeyRoute, async (c) => {
      const tenant = await requireTenant(c, 'admin')
      return c.json(
        await createApiKey(c.var.services, tenant.workspaceId, c.req.valid('json'), tenant.actor),
        201,
      )
    })
    .openapi(listKeysRoute, async (c) => {
      const tenant = await requireTenant(c, 'admin')
      return c.json({ data: await listApiKeys(c.var.services, tenant.workspaceId) }, 200)
    })
    .openapi(revokeKeyRoute, async (c) => {
      const tenant = await requireTenant(c, 'admin')
      return c.json(
        await revokeApiKey(
          c.var.services,
          tenant.workspaceId,
          c.req.valid('param').apiKeyId,
          tenant.actor,
        ),
        200,
      )
    })
}
