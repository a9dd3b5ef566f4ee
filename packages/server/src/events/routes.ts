import { createRoute, z } from '@hono/zod-openapi'
import { requireTenant } from '../auth/middleware.ts'
import { AUTHENTICATED, idSchema, jsonResponse } from '../http/openapi-helpers.ts'
import { PageQuerySchema, pageSchema } from '../http/pagination.ts'
import { problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import { EVENT_TYPES, EventSchema, EventTypeSchema } from './schemas.ts'
import { getEvent, listEvents } from './service.ts'

const listEventsRoute = createRoute({
  method: 'get',
  path: '/events',
  tags: ['Events'],
  summary: 'List events',
  description:
    'The event log: every state change webhooks announce, with the same payloads, so an integrator can poll or catch up after downtime. Newest first; `order=asc` with `from` reads forward from a point in time. An event becomes visible when the change it describes commits, so a poller reading forward should start a minute before its last event and skip ids it has seen. A profile token sees its own profile’s events only.',
  security: AUTHENTICATED,
  request: {
    query: PageQuerySchema.extend({
      type: z
        .string()
        .max(1000)
        .transform((value) => value.split(',').map((type) => type.trim()))
        .pipe(z.array(EventTypeSchema))
        .optional()
        .openapi({
          description: `One or more types, comma-separated: ${EVENT_TYPES.map((type) => `\`${type}\``).join(', ')}`,
          example: 'post.published,post.failed',
        }),
      profileId: idSchema('prof').optional(),
      from: z.iso.datetime({ offset: true }).optional().openapi({
        description: 'At or after this instant',
      }),
      to: z.iso
        .datetime({ offset: true })
        .optional()
        .openapi({ description: 'Before this instant' }),
      order: z.enum(['asc', 'desc']).default('desc'),
    }),
  },
  responses: {
    200: jsonResponse('A page of events', pageSchema(EventSchema).openapi('EventPage')),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'VALIDATION_FAILED', 'WORKSPACE_REQUIRED'),
  },
})

const getEventRoute = createRoute({
  method: 'get',
  path: '/events/{eventId}',
  tags: ['Events'],
  summary: 'Get an event',
  description:
    'By its id, which is also the `webhook-id` of its deliveries. A profile token sees its own profile’s events only.',
  security: AUTHENTICATED,
  request: { params: z.object({ eventId: idSchema('evt') }) },
  responses: {
    200: jsonResponse('The event', EventSchema),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'WORKSPACE_REQUIRED'),
  },
})

/** The event log. */
export function eventRoutes() {
  return createRouter()
    .openapi(listEventsRoute, async (c) => {
      const tenant = await requireTenant(c, 'read', { profileTokens: true })
      const { type, ...query } = c.req.valid('query')
      return c.json(await listEvents(c.var.services, tenant, { ...query, types: type }), 200)
    })
    .openapi(getEventRoute, async (c) => {
      const tenant = await requireTenant(c, 'read', { profileTokens: true })
      return c.json(await getEvent(c.var.services, tenant, c.req.valid('param').eventId), 200)
    })
}
