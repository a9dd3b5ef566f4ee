import { sql } from 'drizzle-orm'
import { boolean, foreignKey, index, integer, primaryKey, text } from 'drizzle-orm/pg-core'
import { events } from './events.ts'
import { workspaces } from './identity.ts'
import { createdAt, instant, postScheduler } from './namespace.ts'

/**
 * Where a workspace wants its events sent (Standard Webhooks). The signing secret is a vault
 * envelope bound to the row; during a rotation the previous secret still signs until
 * `previousSecretExpiresAt`, so receivers can switch without losing a delivery.
 */
export const webhookEndpoints = postScheduler.table(
  'webhook_endpoints',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    description: text('description').notNull().default(''),
    /** Event types sent; empty for every type. */
    eventTypes: text('event_types').array().notNull().default(sql`'{}'::text[]`),
    /** Profiles whose events are sent; empty for every profile. Workspace-wide events always go. */
    profileIds: text('profile_ids').array().notNull().default(sql`'{}'::text[]`),
    enabled: boolean('enabled').notNull().default(true),
    /** Why it is disabled: `manual`, `gone` (the receiver answered 410) or `failing`. */
    disabledReason: text('disabled_reason', { enum: ['manual', 'gone', 'failing'] }),
    disabledAt: instant('disabled_at'),
    secretSealed: text('secret_sealed').notNull(),
    previousSecretSealed: text('previous_secret_sealed'),
    previousSecretExpiresAt: instant('previous_secret_expires_at'),
    /** The first failed attempt since the last success; an endpoint failing for days is disabled. */
    failingSince: instant('failing_since'),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [index('webhook_endpoints_workspace_idx').on(t.workspaceId, t.createdAt, t.id)],
)

/**
 * One event for one endpoint: the unit of delivery, with its own state machine
 * (`pending → delivering → succeeded | failed`, back to `pending` for each retry). A worker claims
 * it with a conditional update that sets `claimId`; a claim past `claimExpiresAt` (the worker
 * died) is taken back by the sweeper and delivered again, with the same `webhook-id`.
 */
export const webhookDeliveries = postScheduler.table(
  'webhook_deliveries',
  {
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    eventId: text('event_id')
      .notNull()
      .references(() => events.id, { onDelete: 'cascade' }),
    workspaceId: text('workspace_id').notNull(),
    status: text('status', { enum: ['pending', 'delivering', 'succeeded', 'failed'] })
      .notNull()
      .default('pending'),
    /** Attempts made, manual redeliveries included. */
    attempts: integer('attempts').notNull().default(0),
    /** Position in the retry schedule of the next attempt; a redelivery starts it again. */
    step: integer('step').notNull().default(0),
    nextAttemptAt: instant('next_attempt_at').notNull().defaultNow(),
    /** When a job was sent for the current due time; null until then. */
    enqueuedAt: instant('enqueued_at'),
    claimId: text('claim_id'),
    claimExpiresAt: instant('claim_expires_at'),
    lastAttemptAt: instant('last_attempt_at'),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    createdAt: createdAt(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.endpointId, t.eventId] }),
    index('webhook_deliveries_event_idx').on(t.eventId),
    index('webhook_deliveries_endpoint_idx').on(t.endpointId, t.createdAt),
    index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index('webhook_deliveries_claims_idx')
      .on(t.claimExpiresAt)
      .where(sql`${t.status} = 'delivering'`),
  ],
)

/** Each HTTP attempt of a delivery: what the receiver answered and how long it took. */
export const webhookAttempts = postScheduler.table(
  'webhook_attempts',
  {
    id: text('id').primaryKey(),
    endpointId: text('endpoint_id').notNull(),
    eventId: text('event_id').notNull(),
    workspaceId: text('workspace_id').notNull(),
    attemptedAt: instant('attempted_at').notNull(),
    durationMs: integer('duration_ms').notNull(),
    outcome: text('outcome', { enum: ['succeeded', 'failed'] }).notNull(),
    /** The receiver's HTTP status; null when no answer came (network, timeout, refused address). */
    statusCode: integer('status_code'),
    error: text('error'),
    /** The start of the receiver's answer, truncated. */
    responseBody: text('response_body'),
  },
  (t) => [
    foreignKey({
      columns: [t.endpointId, t.eventId],
      foreignColumns: [webhookDeliveries.endpointId, webhookDeliveries.eventId],
    }).onDelete('cascade'),
    index('webhook_attempts_endpoint_idx').on(t.endpointId, t.attemptedAt, t.id),
    index('webhook_attempts_delivery_idx').on(t.endpointId, t.eventId),
  ],
)
