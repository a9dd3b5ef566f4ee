import { createRoute, z } from '@hono/zod-openapi'
import { requireTenant } from '../auth/middleware.ts'
import { AUTHENTICATED, idSchema, jsonBody, jsonResponse } from '../http/openapi-helpers.ts'
import { PageQuerySchema, pageSchema } from '../http/pagination.ts'
import { problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import {
  createProfile,
  deleteProfile,
  getProfile,
  listProfiles,
  mintProfileToken,
  PROFILE_TOKEN_SCOPES,
  revokeProfileTokens,
  updateProfile,
} from './service.ts'

const ExternalIdSchema = z.string().trim().min(1).max(255).openapi({
  description: 'Your own id for this customer; unique within the workspace',
  example: 'customer-42',
})

const NameSchema = z.string().trim().min(1).max(200).openapi({ example: 'Acme Bakery' })

export const ProfileSchema = z
  .object({
    id: z.string().openapi({ example: 'prof_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    externalId: z.string().nullable(),
    name: z.string(),
    isDefault: z
      .boolean()
      .openapi({ description: 'The profile the workspace works in when used directly' }),
    createdAt: z.iso.datetime({ offset: true }),
    updatedAt: z.iso.datetime({ offset: true }),
  })
  .openapi('Profile')

const ProfileParams = z.object({ profileId: idSchema('prof') })

const createProfileRoute = createRoute({
  method: 'post',
  path: '/profiles',
  tags: ['Profiles'],
  summary: 'Create a profile',
  description: 'An end customer or brand of your product. Needs the write scope.',
  security: AUTHENTICATED,
  request: {
    body: jsonBody(
      z
        .object({ name: NameSchema, externalId: ExternalIdSchema.nullable().optional() })
        .strict()
        .openapi('ProfileCreate'),
    ),
  },
  responses: {
    201: jsonResponse('The new profile', ProfileSchema),
    ...problemResponses(
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'CONFLICT',
      'VALIDATION_FAILED',
      'WORKSPACE_REQUIRED',
    ),
  },
})

const listProfilesRoute = createRoute({
  method: 'get',
  path: '/profiles',
  tags: ['Profiles'],
  summary: 'List profiles',
  description:
    'Newest first. Needs the read scope; a profile token sees only its own profile. Filter by `externalId` to find the profile of one of your customers.',
  security: AUTHENTICATED,
  request: {
    query: PageQuerySchema.extend({ externalId: ExternalIdSchema.optional() }),
  },
  responses: {
    200: jsonResponse('A page of profiles', pageSchema(ProfileSchema).openapi('ProfilePage')),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'VALIDATION_FAILED', 'WORKSPACE_REQUIRED'),
  },
})

const getProfileRoute = createRoute({
  method: 'get',
  path: '/profiles/{profileId}',
  tags: ['Profiles'],
  summary: 'Get a profile',
  description: 'Needs the read scope; a profile token can read only its own profile.',
  security: AUTHENTICATED,
  request: { params: ProfileParams },
  responses: {
    200: jsonResponse('The profile', ProfileSchema),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'WORKSPACE_REQUIRED'),
  },
})

const updateProfileRoute = createRoute({
  method: 'patch',
  path: '/profiles/{profileId}',
  tags: ['Profiles'],
  summary: 'Update a profile',
  description: 'Rename it, or change or clear (`null`) its `externalId`. Needs the write scope.',
  security: AUTHENTICATED,
  request: {
    params: ProfileParams,
    body: jsonBody(
      z
        .object({
          name: NameSchema.optional(),
          externalId: ExternalIdSchema.nullable().optional(),
        })
        .strict()
        .openapi('ProfileUpdate'),
    ),
  },
  responses: {
    200: jsonResponse('The updated profile', ProfileSchema),
    ...problemResponses(
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'VALIDATION_FAILED',
      'WORKSPACE_REQUIRED',
    ),
  },
})

const deleteProfileRoute = createRoute({
  method: 'delete',
  path: '/profiles/{profileId}',
  tags: ['Profiles'],
  summary: 'Delete a profile',
  description:
    'With everything it owns. The workspace’s default profile cannot be deleted (409). Needs the write scope.',
  security: AUTHENTICATED,
  request: { params: ProfileParams },
  responses: {
    204: { description: 'The profile is deleted' },
    ...problemResponses(
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'WORKSPACE_REQUIRED',
    ),
  },
})

const mintTokenRoute = createRoute({
  method: 'post',
  path: '/profiles/{profileId}/tokens',
  tags: ['Profiles'],
  summary: 'Mint a profile token',
  description:
    'A short-lived token (`pst_…`) for the browser widgets, limited to this profile. Mint it on your server with an API key (or as a member) with the write scope and hand it to the browser; it never has more scopes than you, nor `admin`. Only its hash is kept.',
  security: AUTHENTICATED,
  request: {
    params: ProfileParams,
    body: jsonBody(
      z
        .object({
          scopes: z
            .array(z.enum(PROFILE_TOKEN_SCOPES))
            .min(1)
            .optional()
            .openapi({
              description: 'Defaults to those of `read` and `write` you have',
              example: ['read'],
            }),
          expiresInSeconds: z.number().int().min(60).max(86_400).optional().openapi({
            description: 'Lifetime, 60 to 86400 seconds; defaults to PROFILE_TOKEN_TTL_SECONDS',
            example: 900,
          }),
        })
        .strict()
        .openapi('ProfileTokenCreate'),
    ),
  },
  responses: {
    201: jsonResponse(
      'The token, shown this once',
      z
        .object({
          token: z.string().openapi({ example: 'pst_…' }),
          expiresAt: z.iso.datetime({ offset: true }),
          scopes: z.array(z.enum(PROFILE_TOKEN_SCOPES)),
        })
        .openapi('ProfileToken'),
    ),
    ...problemResponses(
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'NOT_FOUND',
      'VALIDATION_FAILED',
      'WORKSPACE_REQUIRED',
    ),
  },
})

const revokeTokensRoute = createRoute({
  method: 'delete',
  path: '/profiles/{profileId}/tokens',
  tags: ['Profiles'],
  summary: 'Revoke a profile’s tokens',
  description: 'Every live token of the profile stops working at once. Needs the write scope.',
  security: AUTHENTICATED,
  request: { params: ProfileParams },
  responses: {
    200: jsonResponse(
      'How many tokens were revoked',
      z.object({ revoked: z.number().int() }).openapi('ProfileTokensRevoked'),
    ),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'WORKSPACE_REQUIRED'),
  },
})

/** Profiles of the caller's workspace and their tokens for the browser widgets. */
export function profileRoutes() {
  return createRouter()
    .openapi(createProfileRoute, async (c) => {
      const tenant = await requireTenant(c, 'write')
      return c.json(
        await createProfile(c.var.services, tenant.workspaceId, c.req.valid('json'), tenant.actor),
        201,
      )
    })
    .openapi(listProfilesRoute, async (c) => {
      const tenant = await requireTenant(c, 'read', { profileTokens: true })
      return c.json(await listProfiles(c.var.services, tenant, c.req.valid('query')), 200)
    })
    .openapi(getProfileRoute, async (c) => {
      const tenant = await requireTenant(c, 'read', { profileTokens: true })
      return c.json(await getProfile(c.var.services, tenant, c.req.valid('param').profileId), 200)
    })
    .openapi(updateProfileRoute, async (c) => {
      const tenant = await requireTenant(c, 'write')
      return c.json(
        await updateProfile(
          c.var.services,
          tenant,
          c.req.valid('param').profileId,
          c.req.valid('json'),
          tenant.actor,
        ),
        200,
      )
    })
    .openapi(deleteProfileRoute, async (c) => {
      const tenant = await requireTenant(c, 'write')
      await deleteProfile(c.var.services, tenant, c.req.valid('param').profileId, tenant.actor)
      return c.body(null, 204)
    })
    .openapi(mintTokenRoute, async (c) => {
      const tenant = await requireTenant(c, 'write')
      const body = c.req.valid('json')
      return c.json(
        await mintProfileToken(
          c.var.services,
          tenant.workspaceId,
          c.req.valid('param').profileId,
          {
            scopes: body.scopes,
            expiresInSeconds: body.expiresInSeconds ?? c.var.services.config.profileTokenTTLSeconds,
          },
          tenant.scopes,
          tenant.actor,
        ),
        201,
      )
    })
    .openapi(revokeTokensRoute, async (c) => {
      const tenant = await requireTenant(c, 'write')
      return c.json(
        await revokeProfileTokens(
          c.var.services,
          tenant.workspaceId,
          c.req.valid('param').profileId,
          tenant.actor,
        ),
        200,
      )
    })
}
