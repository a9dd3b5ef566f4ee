import { createRoute, z } from '@hono/zod-openapi'
import { requireTenant } from '../auth/middleware.ts'
import { ACCOUNT_STATUSES } from '../db/schema/index.ts'
import { AUTHENTICATED, idSchema, jsonBody, jsonResponse, PUBLIC } from '../http/openapi-helpers.ts'
import { PageQuerySchema, pageSchema } from '../http/pagination.ts'
import { problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import { disconnectAccount, getAccount, listAccounts, presentAccount } from './accounts.ts'
import {
  chooseAccounts,
  completeConnection,
  getAttempt,
  presentAttempt,
  returnLocation,
  startConnection,
} from './service.ts'

const AccountSchema = z
  .object({
    id: z.string().openapi({ example: 'acct_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    profileId: z.string(),
    platform: z.string().openapi({ example: 'sandbox' }),
    platformAccountId: z.string(),
    kind: z.string().openapi({ example: 'personal' }),
    displayName: z.string(),
    username: z.string().nullable(),
    avatarURL: z.string().nullable(),
    profileURL: z.string().nullable(),
    scopes: z.array(z.string()),
    status: z.enum(ACCOUNT_STATUSES),
    statusReason: z.string().nullable(),
    accessTokenExpiresAt: z.iso.datetime({ offset: true }).nullable(),
    connectedAt: z.iso.datetime({ offset: true }),
    disconnectedAt: z.iso.datetime({ offset: true }).nullable(),
  })
  .openapi('ConnectedAccount')

const ChoiceSchema = z.object({
  id: z.string(),
  kind: z.string(),
  name: z.string(),
  username: z.string().optional(),
  avatarURL: z.string().optional(),
  profileURL: z.string().optional(),
})

const ConnectionSchema = z
  .object({
    id: z.string().openapi({ example: 'conn_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    profileId: z.string(),
    platform: z.string(),
    status: z.enum(['pending', 'choosing', 'connected', 'failed']),
    choices: z
      .array(ChoiceSchema)
      .openapi({ description: 'Accounts the login offers, while `choosing`' }),
    connectedAccounts: z.array(AccountSchema),
    error: z.string().nullable(),
    expiresAt: z.iso.datetime({ offset: true }),
    createdAt: z.iso.datetime({ offset: true }),
  })
  .openapi('Connection')

const startRoute = createRoute({
  method: 'post',
  path: '/profiles/{profileId}/connections',
  tags: ['Connections'],
  summary: 'Start connecting accounts',
  description:
    'Returns the platform’s authorization URL to send the person to (valid 15 minutes). After consent the platform returns them to this server, which connects the account — or, when the login gives several (pages, organisations), waits for the choice — and then sends them to `returnURL` with `connection`, `status` (`connected`, `choosing`, `error`) and `error` in the query. `returnURL` must be on one of the workspace’s `corsOrigins`. Profile tokens may start connections for their own profile.',
  security: AUTHENTICATED,
  request: {
    params: z.object({ profileId: idSchema('prof') }),
    body: jsonBody(
      z
        .object({
          platform: z.string().max(50).openapi({ example: 'sandbox' }),
          returnURL: z.url().max(2000).optional(),
          scopes: z.array(z.string().max(200)).max(50).optional(),
        })
        .openapi('ConnectionStart'),
    ),
  },
  responses: {
    201: jsonResponse(
      'Send the person to authorizationURL',
      ConnectionSchema.extend({ authorizationURL: z.url() }).openapi('ConnectionStarted'),
    ),
    ...problemResponses(
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'VALIDATION_FAILED',
    ),
  },
})

const callbackRoute = createRoute({
  method: 'get',
  path: '/oauth/{platform}/callback',
  tags: ['Connections'],
  summary: 'OAuth callback',
  description:
    'Where platforms send people back after consent. Register `<PUBLIC_URL>/v1/oauth/<platform>/callback` as the redirect URI of your app. Redirects to the connection’s `returnURL`, or shows a short page when it has none.',
  security: PUBLIC,
  request: {
    params: z.object({ platform: z.string().max(50) }),
    query: z.object({
      state: z.string().max(500).optional(),
      code: z.string().max(4000).optional(),
      error: z.string().max(200).optional(),
      error_description: z.string().max(2000).optional(),
    }),
  },
  responses: {
    302: { description: 'Back to the returnURL with the outcome' },
    200: {
      description: 'The outcome, when the connection has no returnURL',
      content: { 'text/html': { schema: z.string() } },
    },
    ...problemResponses('TOKEN_INVALID', 'NOT_FOUND'),
  },
})

const getConnectionRoute = createRoute({
  method: 'get',
  path: '/connections/{connectionId}',
  tags: ['Connections'],
  summary: 'Get a connection',
  description: 'Its status and, while `choosing`, the accounts the login offers (headless flow).',
  security: AUTHENTICATED,
  request: { params: z.object({ connectionId: idSchema('conn') }) },
  responses: {
    200: jsonResponse('The connection', ConnectionSchema),
    ...problemResponses('UNAUTHENTICATED', 'NOT_FOUND'),
  },
})

const chooseRoute = createRoute({
  method: 'post',
  path: '/connections/{connectionId}/accounts',
  tags: ['Connections'],
  summary: 'Choose the accounts to connect',
  description:
    'For a login that gives several accounts; within an hour of consent. The login’s tokens are then forgotten.',
  security: AUTHENTICATED,
  request: {
    params: z.object({ connectionId: idSchema('conn') }),
    body: jsonBody(
      z
        .object({ accountIds: z.array(z.string().max(200)).min(1).max(50) })
        .openapi('AccountChoice'),
    ),
  },
  responses: {
    200: jsonResponse('The connection, now connected', ConnectionSchema),
    ...problemResponses(
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'NOT_FOUND',
      'CONFLICT',
      'VALIDATION_FAILED',
    ),
  },
})

const listAccountsRoute = createRoute({
  method: 'get',
  path: '/accounts',
  tags: ['Connections'],
  summary: 'List connected accounts',
  security: AUTHENTICATED,
  request: {
    query: PageQuerySchema.extend({
      profileId: idSchema('prof').optional(),
      platform: z.string().max(50).optional(),
      status: z.enum(ACCOUNT_STATUSES).optional(),
    }),
  },
  responses: {
    200: jsonResponse(
      'A page of accounts, newest first',
      pageSchema(AccountSchema).openapi('ConnectedAccountPage'),
    ),
    ...problemResponses('UNAUTHENTICATED', 'VALIDATION_FAILED'),
  },
})

const getAccountRoute = createRoute({
  method: 'get',
  path: '/accounts/{accountId}',
  tags: ['Connections'],
  summary: 'Get a connected account',
  description: 'With its health: `active`, `reauth_required` (reconnect it) or `revoked`.',
  security: AUTHENTICATED,
  request: { params: z.object({ accountId: idSchema('acct') }) },
  responses: {
    200: jsonResponse('The account', AccountSchema),
    ...problemResponses('UNAUTHENTICATED', 'NOT_FOUND'),
  },
})

const disconnectRoute = createRoute({
  method: 'delete',
  path: '/accounts/{accountId}',
  tags: ['Connections'],
  summary: 'Disconnect an account',
  description:
    'Revokes the token at the platform where it can be revoked (a failure there is recorded, never blocking), deletes the encrypted tokens and marks the account `revoked`.',
  security: AUTHENTICATED,
  request: { params: z.object({ accountId: idSchema('acct') }) },
  responses: {
    200: jsonResponse('The disconnected account', AccountSchema),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND'),
  },
})

const escapeHTML = (value: string) =>
  value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)

/** Connecting platform accounts (hosted and headless flows) and the connected accounts. */
export function connectionRoutes() {
  return createRouter()
    .openapi(startRoute, async (c) => {
      const tenant = await requireTenant(c, 'write', { profileTokens: true })
      const started = await startConnection(
        c.var.services,
        tenant,
        c.req.valid('param').profileId,
        c.req.valid('json'),
      )
      return c.json(started, 201)
    })
    .openapi(callbackRoute, async (c) => {
      const { platform } = c.req.valid('param')
      const attempt = await completeConnection(c.var.services, platform, c.req.valid('query'))
      const location = returnLocation(attempt)
      if (location) return c.redirect(location, 302)
      const message =
        attempt.status === 'connected'
          ? 'Your account is connected. You can close this window.'
          : attempt.status === 'choosing'
            ? 'Almost done: choose which accounts to connect in the app that sent you here.'
            : `The connection failed (${attempt.error ?? 'unknown error'}). Close this window and try again.`
      return c.html(
        `<!doctype html><html><head><meta charset="utf-8"><title>Post Scheduler</title></head><body><p>${escapeHTML(message)}</p></body></html>`,
        200,
      )
    })
    .openapi(getConnectionRoute, async (c) => {
      const tenant = await requireTenant(c, 'read', { profileTokens: true })
      return c.json(
        presentAttempt(await getAttempt(c.var.services, tenant, c.req.valid('param').connectionId)),
        200,
      )
    })
    .openapi(chooseRoute, async (c) => {
      const tenant = await requireTenant(c, 'write', { profileTokens: true })
      const { attempt, accounts } = await chooseAccounts(
        c.var.services,
        tenant,
        c.req.valid('param').connectionId,
        c.req.valid('json').accountIds,
      )
      return c.json(presentAttempt(attempt, accounts), 200)
    })
    .openapi(listAccountsRoute, async (c) => {
      const tenant = await requireTenant(c, 'read', { profileTokens: true })
      return c.json(await listAccounts(c.var.services, tenant, c.req.valid('query')), 200)
    })
    .openapi(getAccountRoute, async (c) => {
      const tenant = await requireTenant(c, 'read', { profileTokens: true })
      return c.json(
        presentAccount(await getAccount(c.var.services, tenant, c.req.valid('param').accountId)),
        200,
      )
    })
    .openapi(disconnectRoute, async (c) => {
      const tenant = await requireTenant(c, 'write', { profileTokens: true })
      return c.json(
        await disconnectAccount(c.var.services, tenant, c.req.valid('param').accountId),
        200,
      )
    })
}
