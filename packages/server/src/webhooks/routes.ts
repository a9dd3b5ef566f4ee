import { createRoute, z } from '@hono/zod-openapi'
import { requireTenant } from '../auth/middleware.ts'
import { EventTypeSchema } from '../events/schemas.ts'
import { IdempotencyHeaders } from '../http/idempotency.ts'
import { AUTHENTICATED, idSchema, jsonBody, jsonResponse } from '../http/openapi-helpers.ts'
import { PageQuerySchema, pageSchema } from '../http/pagination.ts'
import { problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import {
  createEndpoint,
  deleteEndpoint,
  findEndpoint,
  listAttempts,
  listDeliveries,
  listEndpoints,
  MAX_GRACE_PERIOD_SECONDS,
  presentEndpoint,
  redeliver,
  rotateSecret,
  sendTestEvent,
  updateEndpoint,
} from './service.ts'

const TAG = 'Webhooks'

const URLSchema = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2000)
  .openapi({ example: 'https://app.example.com/webhooks/post-scheduler' })

const EndpointSchema = z
  .object({
    id: z.string().openapi({ example: 'whe_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    url: z.string(),
    description: z.string(),
    eventTypes: z
      .array(EventTypeSchema)
      .openapi({ description: 'Event types sent; empty for every type' }),
    profileIds: z.array(z.string()).openapi({
      description:
        'Profiles whose events are sent; empty for every profile. Workspace-wide events (no profile) always go.',
    }),
    enabled: z.boolean(),
    disabledReason: z.enum(['manual', 'gone', 'failing']).nullable().openapi({
      description:
        '`manual`, `gone` (the receiver answered 410), or `failing` (every attempt failed for three days)',
    }),
    disabledAt: z.iso.datetime({ offset: true }).nullable(),
    failingSince: z.iso
      .datetime({ offset: true })
      .nullable()
      .openapi({ description: 'The first failed attempt since the last success' }),
    previousSecretExpiresAt: z.iso.datetime({ offset: true }).nullable().openapi({
      description: 'During a secret rotation: until when the previous secret also signs',
    }),
    createdAt: z.iso.datetime({ offset: true }),
    updatedAt: z.iso.datetime({ offset: true }),
  })
  .openapi('WebhookEndpoint')

const EndpointWithSecretSchema = EndpointSchema.extend({
  secret: z.string().openapi({
    description: 'The signing secret (Standard Webhooks `whsec_…`), shown this once',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  }),
}).openapi('WebhookEndpointWithSecret')

const EndpointParams = z.object({ endpointId: idSchema('whe') })

const Filters = {
  description: z.string().max(500).optional(),
  eventTypes: z.array(EventTypeSchema).max(50).optional(),
  profileIds: z.array(z.string().max(100)).max(100).optional(),
  enabled: z.boolean().optional(),
}

const createEndpointRoute = createRoute({
  method: 'post',
  path: '/webhook-endpoints',
  tags: [TAG],
  summary: 'Create a webhook endpoint',
  description:
    'Events of the workspace are POSTed to `url`, signed the Standard Webhooks way, filtered by `eventTypes` and `profileIds` (empty: all). The signing secret is in this answer only. The URL must reach a public address unless the operator allows private networks (`WEBHOOK_ALLOWED_NETWORKS`). At most 50 per workspace (`409`). Needs the write scope.',
  security: AUTHENTICATED,
  request: {
    headers: IdempotencyHeaders,
    body: jsonBody(
      z
        .object({ url: URLSchema, ...Filters })
        .strict()
        .openapi('WebhookEndpointCreate'),
    ),
  },
  responses: {
    201: jsonResponse('The endpoint with its secret, shown this once', EndpointWithSecretSchema),
    ...problemResponses(
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'CONFLICT',
      'VALIDATION_FAILED',
      'WORKSPACE_REQUIRED',
    ),
  },
})

const listEndpointsRoute = createRoute({
  method: 'get',
  path: '/webhook-endpoints',
  tags: [TAG],
  summary: 'List webhook endpoints',
  description: 'Newest first, without their secrets.',
  security: AUTHENTICATED,
  request: { query: PageQuerySchema },
  responses: {
    200: jsonResponse(
      'A page of endpoints',
      pageSchema(EndpointSchema).openapi('WebhookEndpointPage'),
    ),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'VALIDATION_FAILED', 'WORKSPACE_REQUIRED'),
  },
})

const getEndpointRoute = createRoute({
  method: 'get',
  path: '/webhook-endpoints/{endpointId}',
  tags: [TAG],
  summary: 'Get a webhook endpoint',
  security: AUTHENTICATED,
  request: { params: EndpointParams },
  responses: {
    200: jsonResponse('The endpoint', EndpointSchema),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'WORKSPACE_REQUIRED'),
  },
})

const updateEndpointRoute = createRoute({
  method: 'patch',
  path: '/webhook-endpoints/{endpointId}',
  tags: [TAG],
  summary: 'Update a webhook endpoint',
  description:
    'Changes the URL, description or filters, or disables and enables it (`enabled`). Enabling clears its failure streak: deliveries that waited resume, and events of the time it was disabled can be redelivered with `redeliver` and `since`.',
  security: AUTHENTICATED,
  request: {
    params: EndpointParams,
    body: jsonBody(
      z
        .object({ url: URLSchema.optional(), ...Filters })
        .strict()
        .openapi('WebhookEndpointUpdate'),
    ),
  },
  responses: {
    200: jsonResponse('The endpoint', EndpointSchema),
    ...problemResponses(
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'NOT_FOUND',
      'VALIDATION_FAILED',
      'WORKSPACE_REQUIRED',
    ),
  },
})

const deleteEndpointRoute = createRoute({
  method: 'delete',
  path: '/webhook-endpoints/{endpointId}',
  tags: [TAG],
  summary: 'Delete a webhook endpoint',
  description: 'With its deliveries and their log. Events stay in the event log.',
  security: AUTHENTICATED,
  request: { params: EndpointParams },
  responses: {
    200: jsonResponse(
      'The endpoint is gone',
      z.object({ id: z.string(), deleted: z.literal(true) }).openapi('WebhookEndpointDeletion'),
    ),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'WORKSPACE_REQUIRED'),
  },
})

const rotateSecretRoute = createRoute({
  method: 'post',
  path: '/webhook-endpoints/{endpointId}/rotate-secret',
  tags: [TAG],
  summary: 'Rotate the signing secret',
  description:
    'A new secret, shown this once. For `gracePeriodSeconds` (default a day, at most 7 days; 0 ends the old secret at once) every request carries two signatures, one per secret, so the receiver can switch without rejecting a delivery.',
  security: AUTHENTICATED,
  request: {
    params: EndpointParams,
    headers: IdempotencyHeaders,
    body: {
      required: false,
      content: {
        'application/json': {
          schema: z
            .object({
              gracePeriodSeconds: z.number().int().min(0).max(MAX_GRACE_PERIOD_SECONDS).optional(),
            })
            .strict()
            .openapi('WebhookSecretRotation'),
        },
      },
    },
  },
  responses: {
    200: jsonResponse('The endpoint with its new secret', EndpointWithSecretSchema),
    ...problemResponses(
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'NOT_FOUND',
      'VALIDATION_FAILED',
      'WORKSPACE_REQUIRED',
    ),
  },
})

const testRoute = createRoute({
  method: 'post',
  path: '/webhook-endpoints/{endpointId}/test',
  tags: [TAG],
  summary: 'Send a test event',
  description:
    'POSTs a signed `webhook.test` event to the endpoint now (whatever its filters, even disabled) and answers with what the receiver said. Nothing is recorded in the event log.',
  security: AUTHENTICATED,
  request: { params: EndpointParams, headers: IdempotencyHeaders },
  responses: {
    200: jsonResponse(
      'What the receiver answered',
      z
        .object({
          webhookId: z.string().openapi({ description: 'The `webhook-id` sent' }),
          succeeded: z.boolean().openapi({ description: 'Whether the receiver answered 2xx' }),
          statusCode: z.number().int().nullable(),
          responseBody: z.string().nullable().openapi({ description: 'Its start, truncated' }),
          error: z.string().nullable().openapi({ description: 'Why no answer came' }),
          durationMs: z.number().int(),
        })
        .openapi('WebhookTestResult'),
    ),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'WORKSPACE_REQUIRED'),
  },
})

const listDeliveriesRoute = createRoute({
  method: 'get',
  path: '/webhook-endpoints/{endpointId}/deliveries',
  tags: [TAG],
  summary: 'List deliveries',
  description:
    'One per event sent to this endpoint, newest first: `pending` (with its next attempt), `delivering`, `succeeded` or `failed` (its attempts ran out, or the receiver answered 410).',
  security: AUTHENTICATED,
  request: {
    params: EndpointParams,
    query: PageQuerySchema.extend({
      status: z.enum(['pending', 'delivering', 'succeeded', 'failed']).optional(),
      eventId: idSchema('evt').optional(),
    }),
  },
  responses: {
    200: jsonResponse(
      'A page of deliveries',
      pageSchema(
        z
          .object({
            eventId: z.string(),
            eventType: EventTypeSchema,
            status: z.enum(['pending', 'delivering', 'succeeded', 'failed']),
            attempts: z.number().int(),
            nextAttemptAt: z.iso.datetime({ offset: true }).nullable(),
            lastAttemptAt: z.iso.datetime({ offset: true }).nullable(),
            lastStatusCode: z.number().int().nullable(),
            lastError: z.string().nullable(),
            createdAt: z.iso.datetime({ offset: true }),
          })
          .openapi('WebhookDelivery'),
      ).openapi('WebhookDeliveryPage'),
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

const listAttemptsRoute = createRoute({
  method: 'get',
  path: '/webhook-endpoints/{endpointId}/attempts',
  tags: [TAG],
  summary: 'Read the delivery log',
  description:
    'Every attempt, newest first: when, the HTTP status, how long it took, the start of the answer (2 KiB), or why no answer came.',
  security: AUTHENTICATED,
  request: {
    params: EndpointParams,
    query: PageQuerySchema.extend({ eventId: idSchema('evt').optional() }),
  },
  responses: {
    200: jsonResponse(
      'A page of attempts',
      pageSchema(
        z
          .object({
            id: z.string(),
            eventId: z.string(),
            attemptedAt: z.iso.datetime({ offset: true }),
            outcome: z.enum(['succeeded', 'failed']),
            statusCode: z.number().int().nullable(),
            durationMs: z.number().int(),
            error: z.string().nullable(),
            responseBody: z.string().nullable(),
          })
          .openapi('WebhookAttempt'),
      ).openapi('WebhookAttemptPage'),
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

const redeliverRoute = createRoute({
  method: 'post',
  path: '/webhook-endpoints/{endpointId}/redeliver',
  tags: [TAG],
  summary: 'Redeliver events',
  description:
    'Delivers again, from the start of the retry schedule and with the same `webhook-id`: one event (`eventId`, whatever the filters), or every event since a time that the endpoint’s filters take (`since`). Deliveries wait while the endpoint is disabled.',
  security: AUTHENTICATED,
  request: {
    params: EndpointParams,
    headers: IdempotencyHeaders,
    body: jsonBody(
      z
        .union([
          z.object({ eventId: z.string().max(100) }).strict(),
          z.object({ since: z.iso.datetime({ offset: true }) }).strict(),
        ])
        .openapi('WebhookRedelivery'),
    ),
  },
  responses: {
    200: jsonResponse(
      'How many deliveries were queued',
      z.object({ queued: z.number().int() }).openapi('WebhookRedeliveryResult'),
    ),
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

/** Webhook endpoints, their deliveries and log. API keys and members only (no profile tokens). */
export function webhookRoutes() {
  return createRouter()
    .openapi(createEndpointRoute, async (c) => {
      const tenant = await requireTenant(c, 'write')
      return c.json(await createEndpoint(c.var.services, tenant, c.req.valid('json')), 201)
    })
    .openapi(listEndpointsRoute, async (c) => {
      const tenant = await requireTenant(c, 'read')
      return c.json(await listEndpoints(c.var.services, tenant, c.req.valid('query')), 200)
    })
    .openapi(getEndpointRoute, async (c) => {
      const tenant = await requireTenant(c, 'read')
      const { endpointId } = c.req.valid('param')
      return c.json(presentEndpoint(await findEndpoint(c.var.services, tenant, endpointId)), 200)
    })
    .openapi(updateEndpointRoute, async (c) => {
      const tenant = await requireTenant(c, 'write')
      const { endpointId } = c.req.valid('param')
      return c.json(
        await updateEndpoint(c.var.services, tenant, endpointId, c.req.valid('json')),
        200,
      )
    })
    .openapi(deleteEndpointRoute, async (c) => {
      const tenant = await requireTenant(c, 'write')
      return c.json(
        await deleteEndpoint(c.var.services, tenant, c.req.valid('param').endpointId),
        200,
      )
    })
    .openapi(rotateSecretRoute, async (c) => {
      const tenant = await requireTenant(c, 'write')
      const { endpointId } = c.req.valid('param')
      const body = c.req.valid('json') as { gracePeriodSeconds?: number } | undefined
      const gracePeriodSeconds = body?.gracePeriodSeconds ?? 86_400
      return c.json(
        await rotateSecret(c.var.services, tenant, endpointId, { gracePeriodSeconds }),
        200,
      )
    })
    .openapi(testRoute, async (c) => {
      const tenant = await requireTenant(c, 'write')
      return c.json(
        await sendTestEvent(c.var.services, tenant, c.req.valid('param').endpointId),
        200,
      )
    })
    .openapi(listDeliveriesRoute, async (c) => {
      const tenant = await requireTenant(c, 'read')
      const { endpointId } = c.req.valid('param')
      return c.json(
        await listDeliveries(c.var.services, tenant, endpointId, c.req.valid('query')),
        200,
      )
    })
    .openapi(listAttemptsRoute, async (c) => {
      const tenant = await requireTenant(c, 'read')
      const { endpointId } = c.req.valid('param')
      return c.json(
        await listAttempts(c.var.services, tenant, endpointId, c.req.valid('query')),
        200,
      )
    })
    .openapi(redeliverRoute, async (c) => {
      const tenant = await requireTenant(c, 'write')
      const { endpointId } = c.req.valid('param')
      return c.json(await redeliver(c.var.services, tenant, endpointId, c.req.valid('json')), 200)
    })
}
