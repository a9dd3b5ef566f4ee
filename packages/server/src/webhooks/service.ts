import { and, eq, inArray, sql } from 'drizzle-orm'
import { recordAudit } from '../audit/record.ts'
import type { TenantContext } from '../auth/principal.ts'
import { generateId } from '../db/ids.ts'
import { chronological, toPage } from '../db/pagination.ts'
import {
  events,
  profiles,
  webhookAttempts,
  webhookDeliveries,
  webhookEndpoints,
  workspaces,
} from '../db/schema/index.ts'
import { type Issue, ProblemError } from '../errors/problem.ts'
import type { EventType } from '../events/schemas.ts'
import { AddressNotAllowedError, assertAllowedHost } from '../outbound/guard.ts'
import type { Services } from '../services.ts'
import { secretContext, signingSecrets } from './delivery.ts'
import { sendWebhook } from './send.ts'
import { generateWebhookSecret, signWebhook } from './signing.ts'

type Endpoint = typeof webhookEndpoints.$inferSelect
type Delivery = typeof webhookDeliveries.$inferSelect
type Attempt = typeof webhookAttempts.$inferSelect

/** Endpoints one workspace may have: every event fans out to each of them. */
export const MAX_ENDPOINTS_PER_WORKSPACE = 50

/** The longest grace period of a secret rotation. */
export const MAX_GRACE_PERIOD_SECONDS = 7 * 86_400

/** What the API shows of an endpoint: never its secret. */
export function presentEndpoint(endpoint: Endpoint, now = new Date()) {
  const rotating =
    endpoint.previousSecretExpiresAt !== null && endpoint.previousSecretExpiresAt > now
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    eventTypes: endpoint.eventTypes as EventType[],
    profileIds: endpoint.profileIds,
    enabled: endpoint.enabled,
    disabledReason: endpoint.disabledReason,
    disabledAt: endpoint.disabledAt?.toISOString() ?? null,
    failingSince: endpoint.failingSince?.toISOString() ?? null,
    previousSecretExpiresAt: rotating
      ? (endpoint.previousSecretExpiresAt?.toISOString() ?? null)
      : null,
    createdAt: endpoint.createdAt.toISOString(),
    updatedAt: endpoint.updatedAt.toISOString(),
  }
}

/** What a caller gives to create or change an endpoint. */
export interface EndpointInput {
  url: string
  description?: string | undefined
  eventTypes?: EventType[] | undefined
  profileIds?: string[] | undefined
  enabled?: boolean | undefined
}

/** Checks an endpoint's URL and profiles; every problem at once, with its path. */
async function checkEndpoint(
  services: Services,
  tenant: TenantContext,
  input: Partial<EndpointInput>,
) {
  const issues: Issue[] = []
  if (input.url !== undefined) {
    const url = new URL(input.url)
    if (url.username || url.password) {
      issues.push({
        location: 'body',
        path: ['url'],
        code: 'credentials_in_url',
        message: 'Put no credentials in the URL; verify our signature instead',
      })
    }
    try {
      assertAllowedHost(url, services.config.webhooks)
    } catch (error) {
      if (!(error instanceof AddressNotAllowedError)) throw error
      issues.push({
        location: 'body',
        path: ['url'],
        code: 'address_not_allowed',
        message: `${error.message}; webhooks go to public addresses only (see WEBHOOK_ALLOWED_NETWORKS)`,
      })
    }
  }
  if (input.profileIds?.length) {
    const found = await services.db
      .select({ id: profiles.id })
      .from(profiles)
      .where(
        and(eq(profiles.workspaceId, tenant.workspaceId), inArray(profiles.id, input.profileIds)),
      )
    input.profileIds.forEach((id, index) => {
      if (!found.some((profile) => profile.id === id)) {
        issues.push({
          location: 'body',
          path: ['profileIds', index],
          code: 'unknown_profile',
          message: `No profile ${id} in this workspace`,
        })
      }
    })
  }
  if (issues.length > 0) {
    throw new ProblemError('VALIDATION_FAILED', 'The endpoint has invalid values; see issues', {
      issues,
    })
  }
}

/**
 * Creates a webhook endpoint with a new signing secret (`whsec_…`), sealed in the vault and shown
 * in the answer this once.
 */
export async function createEndpoint(
  services: Services,
  tenant: TenantContext,
  input: EndpointInput,
) {
  await checkEndpoint(services, tenant, input)
  const id = generateId('whe')
  const secret = generateWebhookSecret()
  const endpoint = await services.db.transaction(async (tx) => {
    // Under the workspace's lock, so two creations never both take the last place.
    await tx
      .select({ id: workspaces.id })
      .from(workspaces)
      .where(eq(workspaces.id, tenant.workspaceId))
      .for('update')
    const [existing] = await tx
      .select({ count: sql<number>`count(*)::int` })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.workspaceId, tenant.workspaceId))
    if ((existing?.count ?? 0) >= MAX_ENDPOINTS_PER_WORKSPACE) {
      throw new ProblemError(
        'CONFLICT',
        `A workspace has at most ${MAX_ENDPOINTS_PER_WORKSPACE} webhook endpoints; delete one first (one endpoint can take many event types and profiles)`,
      )
    }
    const [row] = await tx
      .insert(webhookEndpoints)
      .values({
        id,
        workspaceId: tenant.workspaceId,
        url: input.url,
        description: input.description ?? '',
        eventTypes: input.eventTypes ?? [],
        profileIds: input.profileIds ?? [],
        enabled: input.enabled ?? true,
        disabledReason: input.enabled === false ? 'manual' : null,
        disabledAt: input.enabled === false ? new Date() : null,
        secretSealed: services.vault.seal(
          secret,
          secretContext({ id, workspaceId: tenant.workspaceId }, 'secret'),
        ),
        createdBy: tenant.actor.id ?? null,
      })
      .returning()
    if (!row) throw new Error('the endpoint insert returned no row')
    await recordAudit(tx, tenant.actor, {
      action: 'webhook_endpoint.created',
      workspaceId: tenant.workspaceId,
      targetType: 'webhook_endpoint',
      targetId: id,
      details: { url: input.url },
    })
    return row
  })
  return { ...presentEndpoint(endpoint), secret }
}

/** An endpoint of the caller's workspace. */
export async function findEndpoint(
  services: Services,
  tenant: TenantContext,
  endpointId: string,
): Promise<Endpoint> {
  const [endpoint] = await services.db
    .select()
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.id, endpointId),
        eq(webhookEndpoints.workspaceId, tenant.workspaceId),
      ),
    )
  if (!endpoint) throw new ProblemError('NOT_FOUND', `No webhook endpoint ${endpointId}`)
  return endpoint
}

/** The workspace's endpoints, newest first. */
export async function listEndpoints(
  services: Services,
  tenant: TenantContext,
  query: { limit: number; cursor?: string | undefined },
) {
  const order = chronological(webhookEndpoints.createdAt, webhookEndpoints.id, query.cursor, 'desc')
  const rows = await services.db
    .select({ endpoint: webhookEndpoints, key: order.key })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.workspaceId, tenant.workspaceId), order.after))
    .orderBy(...order.orderBy)
    .limit(query.limit + 1)
  return toPage(
    rows,
    query.limit,
    (row) => ({ key: row.key, id: row.endpoint.id }),
    (row) => presentEndpoint(row.endpoint),
  )
}

/**
 * Changes an endpoint's URL, description, filters, or whether it is enabled. Enabling it again
 * clears its failure streak; what waited while it was disabled is delivered, and what happened
 * meanwhile can be redelivered with {@link redeliver}.
 */
export async function updateEndpoint(
  services: Services,
  tenant: TenantContext,
  endpointId: string,
  patch: Partial<EndpointInput>,
) {
  await findEndpoint(services, tenant, endpointId)
  await checkEndpoint(services, tenant, patch)
  const endpoint = await services.db.transaction(async (tx) => {
    const [row] = await tx
      .update(webhookEndpoints)
      .set({
        ...(patch.url !== undefined && { url: patch.url }),
        ...(patch.description !== undefined && { description: patch.description }),
        ...(patch.eventTypes !== undefined && { eventTypes: patch.eventTypes }),
        ...(patch.profileIds !== undefined && { profileIds: patch.profileIds }),
        ...(patch.enabled === true && {
          enabled: true,
          disabledReason: null,
          disabledAt: null,
          failingSince: null,
        }),
        ...(patch.enabled === false && {
          enabled: false,
          disabledReason: sql`case when ${webhookEndpoints.enabled} then 'manual' else ${webhookEndpoints.disabledReason} end`,
          disabledAt: sql`coalesce(${webhookEndpoints.disabledAt}, now())`,
        }),
        updatedAt: sql`now()`,
      })
      .where(eq(webhookEndpoints.id, endpointId))
      .returning()
    if (!row) throw new ProblemError('NOT_FOUND', `No webhook endpoint ${endpointId}`)
    await recordAudit(tx, tenant.actor, {
      action: 'webhook_endpoint.updated',
      workspaceId: tenant.workspaceId,
      targetType: 'webhook_endpoint',
      targetId: endpointId,
      details: { fields: Object.keys(patch) },
    })
    return row
  })
  return presentEndpoint(endpoint)
}

/** Deletes an endpoint with its deliveries and their log. */
export async function deleteEndpoint(
  services: Services,
  tenant: TenantContext,
  endpointId: string,
) {
  await services.db.transaction(async (tx) => {
    const [row] = await tx
      .delete(webhookEndpoints)
      .where(
        and(
          eq(webhookEndpoints.id, endpointId),
          eq(webhookEndpoints.workspaceId, tenant.workspaceId),
        ),
      )
      .returning({ id: webhookEndpoints.id })
    if (!row) throw new ProblemError('NOT_FOUND', `No webhook endpoint ${endpointId}`)
    await recordAudit(tx, tenant.actor, {
      action: 'webhook_endpoint.deleted',
      workspaceId: tenant.workspaceId,
      targetType: 'webhook_endpoint',
      targetId: endpointId,
    })
  })
  return { id: endpointId, deleted: true as const }
}

/**
 * Gives an endpoint a new signing secret, shown this once. For `gracePeriodSeconds` the previous
 * secret keeps signing too — each request then carries both signatures — so the receiver can
 * switch to the new secret without rejecting a delivery. A rotation during a grace period ends the
 * older one.
 */
export async function rotateSecret(
  services: Services,
  tenant: TenantContext,
  endpointId: string,
  options: { gracePeriodSeconds: number; now?: Date | undefined },
) {
  const now = options.now ?? new Date()
  const secret = generateWebhookSecret()
  const endpoint = await services.db.transaction(async (tx) => {
    const [current] = await tx
      .select()
      .from(webhookEndpoints)
      .where(
        and(
          eq(webhookEndpoints.id, endpointId),
          eq(webhookEndpoints.workspaceId, tenant.workspaceId),
        ),
      )
      .for('update')
    if (!current) throw new ProblemError('NOT_FOUND', `No webhook endpoint ${endpointId}`)
    const previous = services.vault.open(current.secretSealed, secretContext(current, 'secret'))
    const grace = options.gracePeriodSeconds > 0
    const [row] = await tx
      .update(webhookEndpoints)
      .set({
        secretSealed: services.vault.seal(secret, secretContext(current, 'secret')),
        previousSecretSealed: grace
          ? services.vault.seal(previous, secretContext(current, 'previous_secret'))
          : null,
        previousSecretExpiresAt: grace
          ? new Date(now.getTime() + options.gracePeriodSeconds * 1000)
          : null,
        updatedAt: sql`now()`,
      })
      .where(eq(webhookEndpoints.id, endpointId))
      .returning()
    if (!row) throw new ProblemError('NOT_FOUND', `No webhook endpoint ${endpointId}`)
    await recordAudit(tx, tenant.actor, {
      action: 'webhook_endpoint.secret_rotated',
      workspaceId: tenant.workspaceId,
      targetType: 'webhook_endpoint',
      targetId: endpointId,
      details: { gracePeriodSeconds: options.gracePeriodSeconds },
    })
    return row
  })
  return { ...presentEndpoint(endpoint, now), secret }
}

/**
 * Sends a signed `webhook.test` event to the endpoint now, whatever its filters or state, and
 * answers with what the receiver said. Nothing is recorded in the event log.
 */
export async function sendTestEvent(services: Services, tenant: TenantContext, endpointId: string) {
  const endpoint = await findEndpoint(services, tenant, endpointId)
  const now = new Date()
  const id = generateId('msg')
  const body = JSON.stringify({
    id,
    type: 'webhook.test',
    version: 1,
    timestamp: now.toISOString(),
    workspaceId: endpoint.workspaceId,
    profileId: null,
    data: { endpointId: endpoint.id },
  })
  const headers = signWebhook({
    id,
    timestamp: now,
    body,
    secrets: signingSecrets(services, endpoint, now),
  })
  const { webhooks } = services.config
  const sent = await sendWebhook(
    endpoint.url,
    { headers, body },
    { policy: webhooks, timeoutSeconds: webhooks.timeoutSeconds },
  )
  const succeeded = sent.statusCode !== null && sent.statusCode >= 200 && sent.statusCode < 300
  return { webhookId: id, succeeded, ...sent }
}

/** What the API shows of a delivery. */
function presentDelivery(delivery: Delivery, eventType: string) {
  return {
    eventId: delivery.eventId,
    eventType: eventType as EventType,
    status: delivery.status,
    attempts: delivery.attempts,
    nextAttemptAt: delivery.status === 'pending' ? delivery.nextAttemptAt.toISOString() : null,
    lastAttemptAt: delivery.lastAttemptAt?.toISOString() ?? null,
    lastStatusCode: delivery.lastStatusCode,
    lastError: delivery.lastError,
    createdAt: delivery.createdAt.toISOString(),
  }
}

/** An endpoint's deliveries (one per event), newest first, optionally of one status or event. */
export async function listDeliveries(
  services: Services,
  tenant: TenantContext,
  endpointId: string,
  query: {
    limit: number
    cursor?: string | undefined
    status?: Delivery['status'] | undefined
    eventId?: string | undefined
  },
) {
  await findEndpoint(services, tenant, endpointId)
  const order = chronological(
    webhookDeliveries.createdAt,
    webhookDeliveries.eventId,
    query.cursor,
    'desc',
  )
  const rows = await services.db
    .select({ delivery: webhookDeliveries, type: events.type, key: order.key })
    .from(webhookDeliveries)
    .innerJoin(events, eq(events.id, webhookDeliveries.eventId))
    .where(
      and(
        eq(webhookDeliveries.endpointId, endpointId),
        query.status === undefined ? undefined : eq(webhookDeliveries.status, query.status),
        query.eventId === undefined ? undefined : eq(webhookDeliveries.eventId, query.eventId),
        order.after,
      ),
    )
    .orderBy(...order.orderBy)
    .limit(query.limit + 1)
  return toPage(
    rows,
    query.limit,
    (row) => ({ key: row.key, id: row.delivery.eventId }),
    (row) => presentDelivery(row.delivery, row.type),
  )
}

/** What the API shows of an attempt. */
function presentAttempt(attempt: Attempt) {
  return {
    id: attempt.id,
    eventId: attempt.eventId,
    attemptedAt: attempt.attemptedAt.toISOString(),
    outcome: attempt.outcome,
    statusCode: attempt.statusCode,
    durationMs: attempt.durationMs,
    error: attempt.error,
    responseBody: attempt.responseBody,
  }
}

/** The delivery log of an endpoint: every attempt, newest first, optionally of one event. */
export async function listAttempts(
  services: Services,
  tenant: TenantContext,
  endpointId: string,
  query: { limit: number; cursor?: string | undefined; eventId?: string | undefined },
) {
  await findEndpoint(services, tenant, endpointId)
  const order = chronological(webhookAttempts.attemptedAt, webhookAttempts.id, query.cursor, 'desc')
  const rows = await services.db
    .select({ attempt: webhookAttempts, key: order.key })
    .from(webhookAttempts)
    .where(
      and(
        eq(webhookAttempts.endpointId, endpointId),
        query.eventId === undefined ? undefined : eq(webhookAttempts.eventId, query.eventId),
        order.after,
      ),
    )
    .orderBy(...order.orderBy)
    .limit(query.limit + 1)
  return toPage(
    rows,
    query.limit,
    (row) => ({ key: row.key, id: row.attempt.id }),
    (row) => presentAttempt(row.attempt),
  )
}

/**
 * Delivers again, from the start of the retry schedule and with the same `webhook-id`: one event
 * (`eventId`, whether or not the endpoint's filters take it), or every event since a time that the
 * endpoint's filters take (`since`). A delivery being attempted right now is left to finish.
 *
 * @returns how many deliveries were queued.
 */
export async function redeliver(
  services: Services,
  tenant: TenantContext,
  endpointId: string,
  target: { eventId: string } | { since: string },
) {
  const endpoint = await findEndpoint(services, tenant, endpointId)
  const matching =
    'eventId' in target
      ? sql`event.id = ${target.eventId}`
      : sql`event.occurred_at >= ${new Date(target.since).toISOString()}::timestamptz
          and (cardinality(endpoint.event_types) = 0 or event.type = any(endpoint.event_types))
          and (cardinality(endpoint.profile_ids) = 0 or event.profile_id is null
               or event.profile_id = any(endpoint.profile_ids))`
  const queued = await services.db.transaction(async (tx) => {
    const rows = await tx.execute<{ event_id: string }>(sql`
      insert into ${webhookDeliveries} (endpoint_id, event_id, workspace_id)
      select endpoint.id, event.id, event.workspace_id
      from ${events} event
      join ${webhookEndpoints} endpoint on endpoint.id = ${endpoint.id}
      where event.workspace_id = ${tenant.workspaceId} and ${matching}
      on conflict (endpoint_id, event_id) do update
        set status = 'pending', step = 0, next_attempt_at = now(), enqueued_at = null,
            claim_id = null, claim_expires_at = null, updated_at = now()
        where ${webhookDeliveries}.status <> 'delivering'
      returning event_id`)
    await recordAudit(tx, tenant.actor, {
      action: 'webhook_endpoint.redelivered',
      workspaceId: tenant.workspaceId,
      targetType: 'webhook_endpoint',
      targetId: endpoint.id,
      details: { ...target, queued: rows.length },
    })
    return rows.length
  })
  if ('eventId' in target && queued === 0) {
    const [event] = await services.db
      .select({ id: events.id })
      .from(events)
      .where(and(eq(events.id, target.eventId), eq(events.workspaceId, tenant.workspaceId)))
    if (!event) throw new ProblemError('NOT_FOUND', `No event ${target.eventId}`)
    throw new ProblemError('CONFLICT', 'The event is being delivered right now; try again shortly')
  }
  return { queued }
}
