import { createRoute, z } from '@hono/zod-openapi'
import { requireTenant, requireUser } from '../auth/middleware.ts'
import {
  AUTHENTICATED,
  EmailSchema,
  idSchema,
  jsonBody,
  jsonResponse,
} from '../http/openapi-helpers.ts'
import { PageQuerySchema, pageSchema } from '../http/pagination.ts'
import { problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import {
  acceptInvitation,
  changeMemberRole,
  createInvitation,
  listInvitations,
  listMembers,
  removeMember,
  revokeInvitation,
} from './service.ts'

const RoleSchema = z
  .enum(['owner', 'admin', 'member'])
  .openapi({ description: 'Owners and admins administer; only owners manage owners' })

export const MemberSchema = z
  .object({
    workspaceId: z.string().openapi({ example: 'ws_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    userId: z.string().openapi({ example: 'usr_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    name: z.string(),
    email: z.string(),
    role: RoleSchema,
    joinedAt: z.iso.datetime({ offset: true }),
  })
  .openapi('Member')

export const InvitationSchema = z
  .object({
    id: z.string().openapi({ example: 'inv_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    workspaceId: z.string(),
    email: z.string(),
    role: z.enum(['admin', 'member']),
    invitedBy: z
      .string()
      .nullable()
      .openapi({ description: 'The person who invited; null when an API key did' }),
    createdAt: z.iso.datetime({ offset: true }),
    expiresAt: z.iso.datetime({ offset: true }),
    acceptedAt: z.iso.datetime({ offset: true }).nullable(),
    revokedAt: z.iso.datetime({ offset: true }).nullable(),
  })
  .openapi('Invitation')

const WorkspaceParams = z.object({ workspaceId: idSchema('ws') })
const MemberParams = WorkspaceParams.extend({ userId: idSchema('usr') })
const InvitationParams = WorkspaceParams.extend({ invitationId: idSchema('inv') })

const listMembersRoute = createRoute({
  method: 'get',
  path: '/workspaces/{workspaceId}/members',
  tags: ['Members'],
  summary: 'List members',
  description: 'In the order they joined. Needs the read scope.',
  security: AUTHENTICATED,
  request: { params: WorkspaceParams, query: PageQuerySchema },
  responses: {
    200: jsonResponse('A page of members', pageSchema(MemberSchema).openapi('MemberPage')),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'VALIDATION_FAILED'),
  },
})

const changeRoleRoute = createRoute({
  method: 'patch',
  path: '/workspaces/{workspaceId}/members/{userId}',
  tags: ['Members'],
  summary: 'Change a member’s role',
  description:
    'Needs the admin scope. Only an owner can make or unmake owners, and the last owner cannot be demoted (409).',
  security: AUTHENTICATED,
  request: {
    params: MemberParams,
    body: jsonBody(z.object({ role: RoleSchema }).strict().openapi('MemberUpdate')),
  },
  responses: {
    200: jsonResponse('The member with their new role', MemberSchema),
    ...problemResponses(
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'VALIDATION_FAILED',
    ),
  },
})

const removeMemberRoute = createRoute({
  method: 'delete',
  path: '/workspaces/{workspaceId}/members/{userId}',
  tags: ['Members'],
  summary: 'Remove a member, or leave',
  description:
    'Removing someone else needs the admin scope, and an owner to remove an owner. Anyone can leave (their own user id). The last owner can neither leave nor be removed (409).',
  security: AUTHENTICATED,
  request: { params: MemberParams },
  responses: {
    204: { description: 'The member is removed' },
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT'),
  },
})

const createInvitationRoute = createRoute({
  method: 'post',
  path: '/workspaces/{workspaceId}/invitations',
  tags: ['Members'],
  summary: 'Invite someone',
  description:
    'Emails a code valid for 7 days; only its hash is kept. A new invitation to the same address replaces a pending one. Needs the admin scope.',
  security: AUTHENTICATED,
  request: {
    params: WorkspaceParams,
    body: jsonBody(
      z
        .object({ email: EmailSchema, role: z.enum(['admin', 'member']) })
        .strict()
        .openapi('InvitationCreate'),
    ),
  },
  responses: {
    201: jsonResponse('The invitation (without its code)', InvitationSchema),
    ...problemResponses(
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'VALIDATION_FAILED',
    ),
  },
})

const listInvitationsRoute = createRoute({
  method: 'get',
  path: '/workspaces/{workspaceId}/invitations',
  tags: ['Members'],
  summary: 'List pending invitations',
  description: 'Neither accepted, revoked nor expired; newest first. Needs the admin scope.',
  security: AUTHENTICATED,
  request: { params: WorkspaceParams, query: PageQuerySchema },
  responses: {
    200: jsonResponse(
      'A page of pending invitations',
      pageSchema(InvitationSchema).openapi('InvitationPage'),
    ),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'VALIDATION_FAILED'),
  },
})

const revokeInvitationRoute = createRoute({
  method: 'delete',
  path: '/workspaces/{workspaceId}/invitations/{invitationId}',
  tags: ['Members'],
  summary: 'Revoke an invitation',
  description: 'Its code stops working at once. Needs the admin scope.',
  security: AUTHENTICATED,
  request: { params: InvitationParams },
  responses: {
    200: jsonResponse('The revoked invitation', InvitationSchema),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND'),
  },
})

const acceptInvitationRoute = createRoute({
  method: 'post',
  path: '/invitations/accept',
  tags: ['Members'],
  summary: 'Accept an invitation',
  description:
    'The signed-in person becomes a member with the invited role, if their confirmed email address is the invited one. A code works once.',
  security: AUTHENTICATED,
  request: {
    body: jsonBody(
      z.object({ token: z.string().trim().min(1).max(200) }).openapi('InvitationAccept'),
    ),
  },
  responses: {
    200: jsonResponse('Your membership', MemberSchema),
    ...problemResponses(
      'TOKEN_INVALID',
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'CONFLICT',
      'VALIDATION_FAILED',
    ),
  },
})

/** Members of a workspace and invitations to join it. */
export function memberRoutes() {
  return createRouter()
    .openapi(listMembersRoute, async (c) => {
      const tenant = await requireTenant(c, 'read', c.req.valid('param'))
      return c.json(
        await listMembers(c.var.services, tenant.workspaceId, c.req.valid('query'), tenant.actor),
        200,
      )
    })
    .openapi(changeRoleRoute, async (c) => {
      const { workspaceId, userId } = c.req.valid('param')
      const tenant = await requireTenant(c, 'admin', { workspaceId })
      const principal = c.var.principal
      return c.json(
        await changeMemberRole(
          c.var.services,
          tenant.workspaceId,
          userId,
          c.req.valid('json').role,
          principal?.type === 'user' ? principal.userId : undefined,
          tenant.actor,
        ),
        200,
      )
    })
    .openapi(removeMemberRoute, async (c) => {
      const { workspaceId, userId } = c.req.valid('param')
      const principal = c.var.principal
      const callerUserId = principal?.type === 'user' ? principal.userId : undefined
      const tenant = await requireTenant(c, callerUserId === userId ? 'read' : 'admin', {
        workspaceId,
      })
      await removeMember(c.var.services, tenant.workspaceId, userId, callerUserId, tenant.actor)
      return c.body(null, 204)
    })
    .openapi(createInvitationRoute, async (c) => {
      const tenant = await requireTenant(c, 'admin', c.req.valid('param'))
      const principal = c.var.principal
      return c.json(
        await createInvitation(
          c.var.services,
          tenant.workspaceId,
          c.req.valid('json'),
          principal?.type === 'user' ? principal.userId : undefined,
          tenant.actor,
        ),
        201,
      )
    })
    .openapi(listInvitationsRoute, async (c) => {
      const tenant = await requireTenant(c, 'admin', c.req.valid('param'))
      return c.json(
        await listInvitations(c.var.services, tenant.workspaceId, c.req.valid('query')),
        200,
      )
    })
    .openapi(revokeInvitationRoute, async (c) => {
      const { workspaceId, invitationId } = c.req.valid('param')
      const tenant = await requireTenant(c, 'admin', { workspaceId })
      return c.json(
        await revokeInvitation(c.var.services, tenant.workspaceId, invitationId, tenant.actor),
        200,
      )
    })
    .openapi(acceptInvitationRoute, async (c) => {
      const user = requireUser(c)
      return c.json(
        await acceptInvitation(c.var.services, c.req.valid('json').token, user.userId, user.actor),
        200,
      )
    })
}
