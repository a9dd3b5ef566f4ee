import { createRoute, z } from '@hono/zod-openapi'
import { requireTenant, requireUser } from '../auth/middleware.ts'
import { AUTHENTICATED, idSchema, jsonBody, jsonResponse, PUBLIC } from '../http/openapi-helpers.ts'
import { problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import { readAccessView } from './access.ts'
import { cancelDeletion, getDeletion, requestDeletion } from './deletion.ts'
import { getExport, listExports, requestExport } from './exports.ts'
import { currentPolicy, getConsents, recordConsent } from './policy.ts'
import { deletePostHistory } from './retention.ts'

const instant = () => z.iso.datetime({ offset: true })

const ExportSchema = z
  .object({
    id: z.string().openapi({ example: 'exp_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    status: z.enum(['pending', 'ready', 'failed']),
    sizeBytes: z.number().int().nullable(),
    error: z.string().nullable(),
    createdAt: instant(),
    readyAt: instant().nullable(),
    expiresAt: instant().openapi({ description: 'When the export and its file are removed' }),
    downloadURL: z.string().nullable().openapi({
      description: 'A short-lived link to the ZIP, once ready; ask again for a new one',
    }),
    downloadURLExpiresAt: instant().nullable(),
  })
  .openapi('DataExport')

const DeletionSchema = z
  .object({
    id: z.string(),
    status: z.enum(['scheduled', 'canceled', 'running', 'completed']),
    reason: z.enum(['user_request', 'child_report']),
    eraseAt: instant().openapi({ description: 'When the erasure starts; cancel before then' }),
    requestedAt: instant(),
    canceledAt: instant().nullable(),
  })
  .openapi('DeletionRequest')

const ConsentsSchema = z
  .object({
    privacyPolicy: z.object({
      currentVersion: z.number().int(),
      latestVersion: z.number().int(),
      latestEffectiveAt: instant(),
      acknowledgedVersion: z.number().int(),
      reviewNeeded: z
        .boolean()
        .openapi({ description: 'A newer policy was published that this person has not seen' }),
    }),
    usageAnalytics: z.object({ granted: z.boolean(), changedAt: instant().nullable() }),
    history: z.array(
      z.object({
        purpose: z.enum(['privacy_policy', 'usage_analytics']),
        policyVersion: z.number().int(),
        granted: z.boolean(),
        recordedAt: instant(),
      }),
    ),
  })
  .openapi('Consents')

const Rows = z.array(z.record(z.string(), z.unknown()))

const AccessViewSchema = z
  .object({
    generatedAt: instant(),
    consents: ConsentsSchema,
    data: z.record(z.string(), Rows).openapi({
      description:
        'Every table holding data about the person or owned by them (workspaces where they are an owner), by table name, without credentials. `audit_log` includes reads of their data by others.',
    }),
  })
  .openapi('PersonalData')

const PolicySchema = z
  .object({
    version: z.number().int(),
    effectiveAt: instant(),
    text: z.string(),
    upcoming: z
      .object({
        version: z.number().int(),
        effectiveAt: instant(),
        summary: z.string().openapi({ description: 'What changes' }),
        text: z.string(),
      })
      .nullable()
      .openapi({ description: 'A published version not yet in effect, to read before it is' }),
  })
  .openapi('PrivacyPolicy')

const meDataRoute = createRoute({
  method: 'get',
  path: '/me/data',
  tags: ['Privacy'],
  summary: 'Everything held about me',
  description:
    'The access view: the account, sessions, workspaces, what the workspaces you own hold (profiles, connected accounts without tokens, posts, media, keys without secrets), usage events, consents, exports, and audit entries about you — including reads of your data by others.',
  security: AUTHENTICATED,
  responses: {
    200: jsonResponse('What we hold about you', AccessViewSchema),
    ...problemResponses('UNAUTHENTICATED'),
  },
})

const createExportRoute = createRoute({
  method: 'post',
  path: '/me/exports',
  tags: ['Privacy'],
  summary: 'Export my data',
  description:
    'Builds a ZIP of everything `GET /v1/me/data` shows (one JSON file per table) plus your media files, in the background. You get an email and workspaces you own get `export.ready` when it is ready; it is removed after `PRIVACY_EXPORT_TTL_HOURS`.',
  security: AUTHENTICATED,
  responses: {
    202: jsonResponse('The export is being built', ExportSchema),
    ...problemResponses('UNAUTHENTICATED', 'CONFLICT'),
  },
})

const listExportsRoute = createRoute({
  method: 'get',
  path: '/me/exports',
  tags: ['Privacy'],
  summary: 'My exports',
  security: AUTHENTICATED,
  responses: {
    200: jsonResponse('Exports, newest first', z.object({ data: z.array(ExportSchema) })),
    ...problemResponses('UNAUTHENTICATED'),
  },
})

const getExportRoute = createRoute({
  method: 'get',
  path: '/me/exports/{exportId}',
  tags: ['Privacy'],
  summary: 'One export, with a download link once ready',
  security: AUTHENTICATED,
  request: { params: z.object({ exportId: idSchema('exp') }) },
  responses: {
    200: jsonResponse('The export', ExportSchema),
    ...problemResponses('UNAUTHENTICATED', 'NOT_FOUND'),
  },
})

const requestDeletionRoute = createRoute({
  method: 'post',
  path: '/me/deletion',
  tags: ['Privacy'],
  summary: 'Delete my account',
  description:
    'Schedules the erasure of your account and data after an undo window (`PRIVACY_DELETION_UNDO_DAYS`, 7 by default, at most 14). Then platform tokens are revoked, the workspaces you own and nobody else belongs to are deleted with everything in them, you leave every other workspace (what you made there stays, without your name), and the audit log keeps a pseudonym instead of you. Refused with `409 CONFLICT` (listing them in `workspaces`) while you are the only owner of a workspace others belong to: make one of them owner first. Needs your password.',
  security: AUTHENTICATED,
  request: {
    body: jsonBody(z.object({ password: z.string().max(256) }).openapi('DeletionConfirm')),
  },
  responses: {
    202: jsonResponse('The erasure is scheduled', DeletionSchema),
    ...problemResponses('UNAUTHENTICATED', 'INVALID_CREDENTIALS', 'CONFLICT', 'VALIDATION_FAILED'),
  },
})

const getDeletionRoute = createRoute({
  method: 'get',
  path: '/me/deletion',
  tags: ['Privacy'],
  summary: 'My scheduled deletion',
  security: AUTHENTICATED,
  responses: {
    200: jsonResponse('The scheduled deletion', DeletionSchema),
    ...problemResponses('UNAUTHENTICATED', 'NOT_FOUND'),
  },
})

const cancelDeletionRoute = createRoute({
  method: 'delete',
  path: '/me/deletion',
  tags: ['Privacy'],
  summary: 'Cancel my deletion',
  description: 'Possible until the erasure starts.',
  security: AUTHENTICATED,
  responses: {
    200: jsonResponse('The deletion is canceled', DeletionSchema),
    ...problemResponses('UNAUTHENTICATED', 'NOT_FOUND', 'CONFLICT'),
  },
})

const getConsentsRoute = createRoute({
  method: 'get',
  path: '/me/consents',
  tags: ['Privacy'],
  summary: 'My consents',
  description: 'Whether you have seen the latest privacy policy, and your usage analytics choice.',
  security: AUTHENTICATED,
  responses: {
    200: jsonResponse('Your consents', ConsentsSchema),
    ...problemResponses('UNAUTHENTICATED'),
  },
})

const recordConsentRoute = createRoute({
  method: 'post',
  path: '/me/consents',
  tags: ['Privacy'],
  summary: 'Record a consent choice',
  description:
    '`privacy_policy` with `granted: true` acknowledges the latest policy. `usage_analytics` grants or withdraws optional usage analytics; withdrawing changes nothing else.',
  security: AUTHENTICATED,
  request: {
    body: jsonBody(
      z
        .object({ purpose: z.enum(['privacy_policy', 'usage_analytics']), granted: z.boolean() })
        .openapi('ConsentChoice'),
    ),
  },
  responses: {
    200: jsonResponse('Your consents', ConsentsSchema),
    ...problemResponses('UNAUTHENTICATED', 'VALIDATION_FAILED'),
  },
})

const policyRoute = createRoute({
  method: 'get',
  path: '/privacy-policy',
  tags: ['Privacy'],
  summary: 'The privacy policy',
  description:
    'The version in effect, with its effective date, and the next one (its text and what changes) once announced.',
  security: PUBLIC,
  responses: { 200: jsonResponse('The policy', PolicySchema) },
})

const deleteHistoryRoute = createRoute({
  method: 'delete',
  path: '/post-history',
  tags: ['Posts'],
  summary: 'Delete the posted history',
  description:
    'Deletes every post of the workspace (or of one profile) that is published, partially published, failed or canceled, with its publications: text, platform ids, links. Posts still to publish stay. Profile tokens delete their own profile’s history.',
  security: AUTHENTICATED,
  request: { query: z.object({ profileId: idSchema('prof').optional() }) },
  responses: {
    200: jsonResponse('How many posts were deleted', z.object({ deleted: z.number().int() })),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'WORKSPACE_REQUIRED'),
  },
})

/** Data rights: access view, exports, deletion, consents, the policy, posted history. */
export function privacyRoutes() {
  return createRouter()
    .openapi(meDataRoute, async (c) => {
      const user = requireUser(c)
      return c.json(await readAccessView(c.var.services, user.userId), 200)
    })
    .openapi(createExportRoute, async (c) => {
      const user = requireUser(c)
      return c.json(await requestExport(c.var.services, user.userId, user.actor), 202)
    })
    .openapi(listExportsRoute, async (c) => {
      const user = requireUser(c)
      return c.json(await listExports(c.var.services, user.userId), 200)
    })
    .openapi(getExportRoute, async (c) => {
      const user = requireUser(c)
      const { exportId } = c.req.valid('param')
      return c.json(await getExport(c.var.services, user.userId, exportId, user.actor), 200)
    })
    .openapi(requestDeletionRoute, async (c) => {
      const user = requireUser(c)
      const { password } = c.req.valid('json')
      return c.json(await requestDeletion(c.var.services, user.userId, password, user.actor), 202)
    })
    .openapi(getDeletionRoute, async (c) => {
      const user = requireUser(c)
      return c.json(await getDeletion(c.var.services, user.userId), 200)
    })
    .openapi(cancelDeletionRoute, async (c) => {
      const user = requireUser(c)
      return c.json(await cancelDeletion(c.var.services, user.userId, user.actor), 200)
    })
    .openapi(getConsentsRoute, async (c) => {
      const user = requireUser(c)
      return c.json(await getConsents(c.var.services.db, user.userId, new Date()), 200)
    })
    .openapi(recordConsentRoute, async (c) => {
      const user = requireUser(c)
      const choice = c.req.valid('json')
      return c.json(
        await recordConsent(c.var.services.db, user.userId, choice, user.actor, new Date()),
        200,
      )
    })
    .openapi(policyRoute, async (c) => {
      const { current, upcoming } = await currentPolicy(c.var.services.db, new Date())
      return c.json(
        {
          version: current.version,
          effectiveAt: current.effectiveAt.toISOString(),
          text: current.text,
          upcoming: upcoming
            ? {
                version: upcoming.version,
                effectiveAt: upcoming.effectiveAt.toISOString(),
                summary: upcoming.summary,
                text: upcoming.text,
              }
            : null,
        },
        200,
      )
    })
    .openapi(deleteHistoryRoute, async (c) => {
      const tenant = await requireTenant(c, 'write', { profileTokens: true })
      return c.json(await deletePostHistory(c.var.services, tenant, c.req.valid('query')), 200)
    })
}
