import { createRoute, z } from '@hono/zod-openapi'
import { requireTenant, requireUser } from '../auth/middleware.ts'
import { AUTHENTICATED, idSchema, jsonBody, jsonResponse } from '../http/openapi-helpers.ts'
import { problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import { createWorkspace, getWorkspace, listMyWorkspaces, updateWorkspace } from './service.ts'

export const WorkspaceSchema = z
  .object({
    id: z.string().openapi({ example: 'ws_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    name: z.string(),
    corsOrigins: z.array(z.string()).openapi({
      description: 'Browser origins allowed to call the API with this workspace’s profile tokens',
    }),
    role: z
      .enum(['owner', 'admin', 'member'])
      .nullable()
      .openapi({ description: 'Your role, when listed for a person' }),
    createdAt: z.iso.datetime({ offset: true }),
  })
  .openapi('Workspace')

const OriginSchema = z
  .string()
  .refine((value) => URL.canParse(value) && new URL(value).origin === value, {
    error: 'must be an origin such as https://app.example.com (scheme, host and port only)',
  })

const WorkspaceParams = z.object({ workspaceId: idSchema('ws') })

const createRouteDefinition = createRoute({
  method: 'post',
  path: '/workspaces',
  tags: ['Workspaces'],
  summary: 'Create a workspace',
  description: 'You become its owner. It starts with a default profile.',
  security: AUTHENTICATED,
  request: {
    body: jsonBody(
      z.object({ name: z.string().trim().min(1).max(200) }).openapi('WorkspaceCreate'),
    ),
  },
  responses: {
    201: jsonResponse('The new workspace', WorkspaceSchema),
    ...problemResponses('UNAUTHENTICATED', 'VALIDATION_FAILED'),
  },
})

const listRoute = createRoute({
  method: 'get',
  path: '/workspaces',
  tags: ['Workspaces'],
  summary: 'List my workspaces',
  security: AUTHENTICATED,
  responses: {
    200: jsonResponse(
      'Your workspaces with your role in each',
      z.object({ data: z.array(WorkspaceSchema) }),
    ),
    ...problemResponses('UNAUTHENTICATED'),
  },
})

const getRoute = createRoute({
  method: 'get',
  path: '/workspaces/{workspaceId}',
  tags: ['Workspaces'],
  summary: 'Get a workspace',
  security: AUTHENTICATED,
  request: { params: WorkspaceParams },
  responses: {
    200: jsonResponse('The workspace', WorkspaceSchema),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND'),
  },
})

const patchRoute = createRoute({
  method: 'patch',
  path: '/workspaces/{workspaceId}',
  tags: ['Workspaces'],
  summary: 'Update a workspace',
  description: 'Needs the admin scope (owners and admins).',
  security: AUTHENTICATED,
  request: {
    params: WorkspaceParams,
    body: jsonBody(
      z
        .object({
          name: z.string().trim().min(1).max(200).optional(),
          corsOrigins: z.array(OriginSchema).max(50).optional(),
        })
        .strict()
        .openapi('WorkspaceUpdate'),
    ),
  },
  responses: {
    200: jsonResponse('The updated workspace', WorkspaceSchema),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'VALIDATION_FAILED'),
  },
})

/** Workspaces: the tenants. */
export function workspaceRoutes() {
  return createRouter()
    .openapi(createRouteDefinition, async (c) => {
      const user = requireUser(c)
      const workspace = await createWorkspace(
        c.var.services.db,
        { name: c.req.valid('json').name, ownerId: user.userId },
        user.actor,
      )
      return c.json(workspace, 201)
    })
    .openapi(listRoute, async (c) => {
      const user = requireUser(c)
      return c.json({ data: await listMyWorkspaces(c.var.services, user.userId) }, 200)
    })
    .openapi(getRoute, async (c) => {
      const { workspaceId } = c.req.valid('param')
      const tenant = await requireTenant(c, 'read', { workspaceId })
      return c.json(await getWorkspace(c.var.services, tenant.workspaceId), 200)
    })
    .openapi(patchRoute, async (c) => {
      const { workspaceId } = c.req.valid('param')
      const tenant = await requireTenant(c, 'admin', { workspaceId })
      return c.json(
        await updateWorkspace(
          c.var.services,
          tenant.workspaceId,
          c.req.valid('json'),
          tenant.actor,
        ),
        200,
      )
    })
}
