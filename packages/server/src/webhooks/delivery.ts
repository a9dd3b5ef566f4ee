import { and, eq, sql } from 'drizzle-orm'
import { fromDrizzle, type PgBoss } from 'pg-boss'
import { recordAudit } from '../audit/record.ts'
import type { Database } from '../db/client.ts'
import { generateId } from '../db/ids.ts'
import {
  events,
  users,
  webhookAttempts,
  webhookDeliveries,
  webhookEndpoints,
  workspaceMembers,
  workspaces,
} from '../db/schema/index.ts'
import { presentEvent } from '../events/service.ts'
import { messages } from '../mail/messages.ts'
import { deliver } from '../mail/transport.ts'
import type { Services } from '../services.ts'
import { sendWebhook } from './send.ts'
import { signWebhook } from './signing.ts'

/** The queue of delivery attempts; payloads are `{ endpointId, eventId }` and nothing else. */
export const WEBHOOK_QUEUE = 'webhooks.deliver'

/**
 * When each attempt of a delivery is made, in seconds after the previous one failed: at once,
 * then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h — ten attempts over about three
 * days and three hours (the Standard Webhooks schedule, stretched to three days).
 */
export const RETRY_SCHEDULE_SECONDS = [
  0,
  5,
  5 * 60,
  30 * 60,
  2 * 3600,
  5 * 3600,
  10 * 3600,
  14 * 3600,
  20 * 3600,
  24 * 3600,
] as const

/** An endpoint whose attempts have all failed for this long is disabled, and its owners told. */
export const DISABLE_AFTER_FAILING_SECONDS = 3 * 86_400

/** Deliveries sent to the queue but not started after this long are sent again. */
const REENQUEUE_AFTER_SECONDS = 60

const SYSTEM = { type: 'system', id: undefined, ip: undefined, requestId: undefined } as const

/** What delivering needs of the services. */
export type WebhookServices = Pick<Services, 'db' | 'vault' | 'config' | 'logger' | 'mail'>

/** The vault context of an endpoint's secrets: bound to the row, the tenant and the column. */
export const secretContext = (
  endpoint: { id: string; workspaceId: string },
  column: 'secret' | 'previous_secret',
) => `webhook_endpoint:${endpoint.id}:${endpoint.workspaceId}:${column}`

/** The secrets that sign a request at `now`: the current one, and the previous one in its grace period. */
export function signingSecrets(
  services: Pick<Services, 'vault'>,
  endpoint: typeof webhookEndpoints.$inferSelect,
  now: Date,
): string[] {
  const current = services.vault.open(endpoint.secretSealed, secretContext(endpoint, 'secret'))
  const previous =
    endpoint.previousSecretSealed &&
    endpoint.previousSecretExpiresAt &&
    endpoint.previousSecretExpiresAt > now
      ? services.vault.open(
          endpoint.previousSecretSealed,
          secretContext(endpoint, 'previous_secret'),
        )
      : undefined
  return previous ? [current, previous] : [current]
}

const at = (instant: Date) => sql`${instant.toISOString()}::timestamptz`

/**
 * Gives every delivery that is due a job: those due by `now` with no job yet (or whose job never
 * started), and those whose worker died mid-attempt (claim expired) — delivered again, with the
 * same `webhook-id`. Deliveries of disabled endpoints wait. Run by every worker every second;
 * concurrent sweeps are harmless (rows locked with `SKIP LOCKED`, claims are conditional).
 *
 * @returns how many deliveries were enqueued.
 */
export async function sweepWebhookDeliveries(
  db: Database,
  boss: PgBoss,
  options: { now: Date; expireInSeconds: number; batch?: number },
): Promise<number> {
  const { now } = options
  await db
    .update(webhookDeliveries)
    .set({
      status: 'pending',
      claimId: null,
      claimExpiresAt: null,
      nextAttemptAt: now,
      enqueuedAt: null,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(webhookDeliveries.status, 'delivering'),
        sql`${webhookDeliveries.claimExpiresAt} < ${at(now)}`,
      ),
    )
  return db.transaction(async (tx) => {
    const due = await tx.execute<{ endpoint_id: string; event_id: string }>(sql`
      update ${webhookDeliveries} delivery set enqueued_at = ${at(now)}, updated_at = now()
      from (
        select pending.endpoint_id, pending.event_id
        from ${webhookDeliveries} pending
        join ${webhookEndpoints} endpoint on endpoint.id = pending.endpoint_id and endpoint.enabled
        where pending.status = 'pending'
          and pending.next_attempt_at <= ${at(now)}
          and (pending.enqueued_at is null
               or pending.enqueued_at < ${at(now)} - make_interval(secs => ${REENQUEUE_AFTER_SECONDS}))
        order by pending.next_attempt_at
        limit ${options.batch ?? 500}
        for update of pending skip locked
      ) due
      where delivery.endpoint_id = due.endpoint_id and delivery.event_id = due.event_id
      returning delivery.endpoint_id, delivery.event_id`)
    if (due.length > 0) {
      await boss.insert(
        WEBHOOK_QUEUE,
        due.map((row) => ({
          data: { endpointId: row.endpoint_id, eventId: row.event_id },
          // Retries are ours (the schedule, the claim), never pg-boss's.
          retryLimit: 0,
          expireInSeconds: options.expireInSeconds,
        })),
        { db: fromDrizzle(tx, sql) },
      )
    }
    return due.length
  })
}

/** How an attempt went, as {@link attemptDelivery} reports it. */
export type AttemptOutcome = 'succeeded' | 'retry' | 'failed' | 'skipped'

/**
 * Makes one attempt of a delivery: claims it (a conditional update with a new claim id and a lease
 * past the request's timeout; another worker's claim or a delivery not due at `now` means
 * `skipped`), signs the event with the endpoint's secrets, POSTs it through the SSRF guard and
 * records the attempt. A 2xx succeeds; `410 Gone` fails the delivery and disables the endpoint;
 * anything else is retried on {@link RETRY_SCHEDULE_SECONDS}, and an endpoint failing for
 * {@link DISABLE_AFTER_FAILING_SECONDS} is disabled. Disabling tells the workspace's owners.
 *
 * `now` is the clock: due times, the `webhook-timestamp` and every time written come from it.
 */
export async function attemptDelivery(
  services: WebhookServices,
  key: { endpointId: string; eventId: string },
  options: { now: Date },
): Promise<AttemptOutcome> {
  const { db, config } = services
  const { now } = options
  const claimId = generateId('whc')
  const leaseSeconds = config.webhooks.timeoutSeconds * 2 + 5
  const [claim] = await db
    .update(webhookDeliveries)
    .set({
      status: 'delivering',
      claimId,
      claimExpiresAt: new Date(now.getTime() + leaseSeconds * 1000),
      attempts: sql`${webhookDeliveries.attempts} + 1`,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(webhookDeliveries.endpointId, key.endpointId),
        eq(webhookDeliveries.eventId, key.eventId),
        eq(webhookDeliveries.status, 'pending'),
        sql`${webhookDeliveries.nextAttemptAt} <= ${at(now)}`,
        sql`exists (select 1 from ${webhookEndpoints} where ${webhookEndpoints.id} = ${key.endpointId} and ${webhookEndpoints.enabled})`,
      ),
    )
    .returning()
  if (!claim) return 'skipped'
  const [row] = await db
    .select({ event: events, endpoint: webhookEndpoints })
    .from(events)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, key.endpointId))
    .where(eq(events.id, key.eventId))
  if (!row) return 'skipped'
  const { event, endpoint } = row

  const body = JSON.stringify(presentEvent(event))
  const headers = signWebhook({
    id: event.id,
    timestamp: now,
    body,
    secrets: signingSecrets(services, endpoint, now),
  })
  const sent = await sendWebhook(
    endpoint.url,
    { headers, body },
    { policy: config.webhooks, timeoutSeconds: config.webhooks.timeoutSeconds },
  )
  const succeeded = sent.statusCode !== null && sent.statusCode >= 200 && sent.statusCode < 300
  const gone = sent.statusCode === 410
  const nextStep = claim.step + 1
  const retryIn = RETRY_SCHEDULE_SECONDS[nextStep]
  const outcome: AttemptOutcome = succeeded
    ? 'succeeded'
    : !gone && retryIn !== undefined
      ? 'retry'
      : 'failed'

  const disabled = await db.transaction(async (tx) => {
    const [finished] = await tx
      .update(webhookDeliveries)
      .set({
        status: outcome === 'retry' ? 'pending' : outcome === 'succeeded' ? 'succeeded' : 'failed',
        claimId: null,
        claimExpiresAt: null,
        enqueuedAt: null,
        lastAttemptAt: now,
        lastStatusCode: sent.statusCode,
        lastError: sent.error,
        updatedAt: sql`now()`,
        ...(outcome === 'retry' && {
          step: nextStep,
          nextAttemptAt: new Date(now.getTime() + (retryIn ?? 0) * 1000),
        }),
      })
      .where(
        and(
          eq(webhookDeliveries.endpointId, endpoint.id),
          eq(webhookDeliveries.eventId, event.id),
          eq(webhookDeliveries.claimId, claimId),
        ),
      )
      .returning({ endpointId: webhookDeliveries.endpointId })
    // The claim expired and the delivery was taken back (or the endpoint was deleted meanwhile):
    // the newer attempt decides, and logs itself.
    if (!finished) return undefined
    await tx.insert(webhookAttempts).values({
      id: generateId('wha'),
      endpointId: endpoint.id,
      eventId: event.id,
      workspaceId: endpoint.workspaceId,
      attemptedAt: now,
      durationMs: sent.durationMs,
      outcome: succeeded ? 'succeeded' : 'failed',
      statusCode: sent.statusCode,
      error: sent.error,
      responseBody: sent.responseBody,
    })
    if (succeeded) {
      await tx
        .update(webhookEndpoints)
        .set({ failingSince: null })
        .where(eq(webhookEndpoints.id, endpoint.id))
      return undefined
    }
    const failingSince = endpoint.failingSince ?? now
    const reason = gone
      ? ('gone' as const)
      : now.getTime() - failingSince.getTime() >= DISABLE_AFTER_FAILING_SECONDS * 1000
        ? ('failing' as const)
        : undefined
    await tx
      .update(webhookEndpoints)
      .set({ failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${at(now)})` })
      .where(eq(webhookEndpoints.id, endpoint.id))
    if (!reason) return undefined
    const [disabled] = await tx
      .update(webhookEndpoints)
      .set({ enabled: false, disabledReason: reason, disabledAt: now, updatedAt: sql`now()` })
      .where(and(eq(webhookEndpoints.id, endpoint.id), eq(webhookEndpoints.enabled, true)))
      .returning({ id: webhookEndpoints.id })
    if (!disabled) return undefined
    await recordAudit(tx, SYSTEM, {
      action: 'webhook_endpoint.disabled',
      workspaceId: endpoint.workspaceId,
      targetType: 'webhook_endpoint',
      targetId: endpoint.id,
      details: { reason, statusCode: sent.statusCode },
    })
    return reason
  })
  if (disabled) await tellOwners(services, endpoint, disabled)
  return outcome
}

/** Finished deliveries and their attempts are kept this long in the delivery log. */
export const DELIVERY_LOG_RETENTION_DAYS = 30

/**
 * Deletes finished deliveries (`succeeded`, `failed`) last changed more than
 * {@link DELIVERY_LOG_RETENTION_DAYS} before `now`, with their attempts. Events stay in the event
 * log, so any of them can still be redelivered.
 *
 * @returns how many deliveries were deleted.
 */
export async function purgeDeliveryLog(db: Database, options: { now: Date }): Promise<number> {
  const cutoff = new Date(options.now.getTime() - DELIVERY_LOG_RETENTION_DAYS * 86_400_000)
  const deleted = await db
    .delete(webhookDeliveries)
    .where(
      and(
        sql`${webhookDeliveries.status} in ('succeeded', 'failed')`,
        sql`${webhookDeliveries.updatedAt} < ${at(cutoff)}`,
      ),
    )
    .returning({ eventId: webhookDeliveries.eventId })
  return deleted.length
}

/** Emails the workspace's owners that an endpoint was disabled, and why. */
async function tellOwners(
  services: WebhookServices,
  endpoint: typeof webhookEndpoints.$inferSelect,
  reason: 'gone' | 'failing',
) {
  const owners = await services.db
    .select({ email: users.email, workspace: workspaces.name })
    .from(workspaceMembers)
    .innerJoin(users, eq(users.id, workspaceMembers.userId))
    .innerJoin(workspaces, eq(workspaces.id, workspaceMembers.workspaceId))
    .where(
      and(
        eq(workspaceMembers.workspaceId, endpoint.workspaceId),
        eq(workspaceMembers.role, 'owner'),
      ),
    )
  for (const owner of owners) {
    await deliver(
      services,
      messages.webhookEndpointDisabled(owner.email, {
        workspace: owner.workspace,
        url: endpoint.url,
        endpointId: endpoint.id,
        reason,
      }),
    )
  }
}
