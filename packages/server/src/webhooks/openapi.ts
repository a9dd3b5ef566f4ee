import { type OpenAPIHono, z } from '@hono/zod-openapi'
import { EVENT_CATALOG, EVENT_SCHEMAS, EVENT_TYPES } from '../events/schemas.ts'
import { RETRY_SCHEDULE_SECONDS } from './delivery.ts'

const WebhookHeadersSchema = z.object({
  'webhook-id': z.string().openapi({
    description:
      'The event id: the same on every retry and redelivery of this event, so receivers can drop duplicates',
    example: 'evt_mzxw6ytboi2dkmzvgq3tqnrvhe',
  }),
  'webhook-timestamp': z.string().openapi({
    description: 'When this attempt was signed, in seconds since the Unix epoch',
    example: '1767225600',
  }),
  'webhook-signature': z.string().openapi({
    description:
      '`v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>" keyed with the base64-decoded secret after whsec_>`; during a secret rotation two, separated by a space',
    example: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
  }),
})

const schedule = RETRY_SCHEDULE_SECONDS.map((seconds) =>
  seconds === 0
    ? 'at once'
    : seconds < 60
      ? `${seconds} s`
      : seconds < 3600
        ? `${seconds / 60} min`
        : `${seconds / 3600} h`,
).join(', ')

/**
 * Describes every event type under the OpenAPI document's `webhooks`: the request each endpoint
 * receives (Standard Webhooks headers, the versioned payload) and what its answer means. Register
 * on the top-level app, whose paths the document is built from.
 */
export function registerEventWebhooks(registry: OpenAPIHono['openAPIRegistry']) {
  for (const type of EVENT_TYPES) {
    registry.registerWebhook({
      method: 'post',
      path: type,
      tags: ['Webhooks'],
      summary: type,
      description: `${EVENT_CATALOG[type].description} Payload version ${EVENT_CATALOG[type].version}. Verify the signature before trusting the body (see the webhooks guide).`,
      request: {
        headers: WebhookHeadersSchema,
        body: { required: true, content: { 'application/json': { schema: EVENT_SCHEMAS[type] } } },
      },
      responses: {
        '2XX': { description: 'Received: the delivery is done' },
        410: { description: 'Gone: the endpoint is disabled and nothing more is sent to it' },
        default: {
          description: `Anything else (or no answer within the timeout) is retried: ${schedule} after each failure. An endpoint failing for three days is disabled and the workspace owners are told.`,
        },
      },
    })
  }
}
