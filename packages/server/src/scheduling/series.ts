import { and, eq, inArray, isNotNull, lte, or, sql } from 'drizzle-orm'
import type { PgBoss } from 'pg-boss'
import { type Actor, recordAudit } from '../audit/record.ts'
import type { TenantContext } from '../auth/principal.ts'
import type { Database, Transaction } from '../db/client.ts'
import { generateId } from '../db/ids.ts'
import {
  connectedAccounts,
  type PlatformOverride,
  type PostContentData,
  postSeries,
  posts,
  publications,
} from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import { recordPostEvent } from '../events/emit.ts'
import { lockPosts, refreshPostStatus } from '../publishing/post-status.ts'
import { buildPublications } from '../publishing/publications.ts'
import { enqueuePublication, HORIZON_SECONDS } from '../publishing/queue.ts'
import type { Services } from '../services.ts'
import { occurrencesAfter, parseRecurrenceRule, type SeriesClock } from './recurrence.ts'
import { formatInZone } from './wall-time.ts'

type Series = typeof postSeries.$inferSelect

const SYSTEM: Actor = { type: 'system', id: undefined, ip: undefined, requestId: undefined }

/**
 * An occurrence missed by more than this while no worker ran is skipped rather than published late
 * (the occurrence already materialised before the outage is published late, like any post).
 */
export const MISSED_OCCURRENCE_GRACE_SECONDS = HORIZON_SECONDS

function clockOf(series: Pick<Series, 'rule' | 'timezone' | 'startsAt'>): SeriesClock {
  const { rule } = parseRecurrenceRule(series.rule)
  if (!rule) throw new Error(`the stored rule "${series.rule}" no longer parses`)
  return { rule, timezone: series.timezone, startsAt: series.startsAt }
}

/** What the API shows of a series. */
export function presentSeries(series: Series) {
  const upcoming =
    series.status === 'active' && series.nextOccurrenceAt
      ? [series.nextOccurrenceAt, ...occurrencesAfter(clockOf(series), series.nextOccurrenceAt, 4)]
      : []
  return {
    id: series.id,
    profileId: series.profileId,
    status: series.status,
    rule: series.rule,
    timezone: series.timezone,
    startsAt: formatInZone(series.startsAt, series.timezone),
    accountIds: series.accountIds,
    occurrences: series.occurrences,
    lastOccurrenceAt: series.lastOccurrenceAt
      ? formatInZone(series.lastOccurrenceAt, series.timezone)
      : null,
    upcoming: upcoming.map((instant) => formatInZone(instant, series.timezone)),
    createdAt: series.createdAt.toISOString(),
    canceledAt: series.canceledAt?.toISOString() ?? null,
  }
}

/** The `recurrence` of a post: the rule and state of its series, or null. */
export async function recurrenceOf(db: Database, seriesId: string | null) {
  if (!seriesId) return null
  const [series] = await db.select().from(postSeries).where(eq(postSeries.id, seriesId))
  if (!series) return null
  return {
    seriesId: series.id,
    rule: series.rule,
    timezone: series.timezone,
    status: series.status,
    nextOccurrenceAt: series.nextOccurrenceAt
      ? formatInZone(series.nextOccurrenceAt, series.timezone)
      : null,
  }
}

/**
 * Inserts a series whose first occurrence (`firstAt`) the caller is creating as a post in the same
 * transaction; the sweeper materialises the next ones.
 *
 * @returns the new series id.
 */
export async function insertSeries(
  tx: Transaction,
  values: {
    workspaceId: string
    profileId: string
    rule: string
    timezone: string
    startsAt: Date
    firstAt: Date
    accountIds: string[]
    content: PostContentData
    overrides: Record<string, PlatformOverride>
    createdBy: string | null
  },
): Promise<string> {
  const { firstAt, ...rest } = values
  const [next] = occurrencesAfter(clockOf(values), firstAt, 1)
  const id = generateId('ser')
  await tx.insert(postSeries).values({
    ...rest,
    id,
    status: next ? 'active' : 'ended',
    occurrences: 1,
    lastOccurrenceAt: firstAt,
    nextOccurrenceAt: next ?? null,
  })
  return id
}

/**
 * Materialises the occurrences of active series as posts, each with its publications: the next
 * occurrence as soon as the latest one's time has come, and every occurrence due within the
 * publishing horizon. Those due within the horizon get their job in the same transaction. Run by
 * every worker's sweeper; concurrent runs are harmless (series rows are locked, `SKIP LOCKED`).
 * A series whose accounts are all gone ends.
 *
 * @returns how many posts were created.
 * @example
 * ```ts
 * await materialiseSeries(services, { expireInSeconds: 120 })
 * ```
 */
export async function materialiseSeries(
  services: Pick<Services, 'db' | 'queue'>,
  options: { expireInSeconds: number; now?: Date; batch?: number },
): Promise<number> {
  const now = options.now ?? new Date()
  const horizon = new Date(now.getTime() + HORIZON_SECONDS * 1000)
  return services.db.transaction(async (tx) => {
    const due = await tx
      .select()
      .from(postSeries)
      .where(
        and(
          eq(postSeries.status, 'active'),
          isNotNull(postSeries.nextOccurrenceAt),
          or(lte(postSeries.nextOccurrenceAt, horizon), lte(postSeries.lastOccurrenceAt, now)),
        ),
      )
      .orderBy(postSeries.nextOccurrenceAt)
      .limit(options.batch ?? 100)
      .for('update', { skipLocked: true })
    let created = 0
    for (const series of due) {
      created += await materialiseOne(tx, services.queue, series, now, horizon, options)
    }
    return created
  })
}

async function materialiseOne(
  tx: Transaction,
  boss: PgBoss,
  series: Series,
  now: Date,
  horizon: Date,
  options: { expireInSeconds: number },
) {
  const clock = clockOf(series)
  const accounts = await tx
    .select()
    .from(connectedAccounts)
    .where(
      and(
        eq(connectedAccounts.profileId, series.profileId),
        inArray(connectedAccounts.id, series.accountIds),
      ),
    )
  let { lastOccurrenceAt, occurrences } = series
  let next = series.nextOccurrenceAt
  let created = 0
  const graceStart = now.getTime() - MISSED_OCCURRENCE_GRACE_SECONDS * 1000
  while (
    next &&
    accounts.length > 0 &&
    created < 50 &&
    (next <= horizon || (lastOccurrenceAt !== null && lastOccurrenceAt <= now))
  ) {
    const at = next
    if (at.getTime() >= graceStart) {
      await insertOccurrence(tx, boss, series, accounts, at, horizon, options)
      created += 1
    }
    occurrences += 1
    lastOccurrenceAt = at
    next = occurrencesAfter(clock, at, 1)[0] ?? null
  }
  await tx
    .update(postSeries)
    .set({
      occurrences,
      lastOccurrenceAt,
      nextOccurrenceAt: next,
      status: next && accounts.length > 0 ? 'active' : 'ended',
      updatedAt: sql`now()`,
    })
    .where(eq(postSeries.id, series.id))
  return created
}

async function insertOccurrence(
  tx: Transaction,
  boss: PgBoss,
  series: Series,
  accounts: (typeof connectedAccounts.$inferSelect)[],
  at: Date,
  horizon: Date,
  options: { expireInSeconds: number },
) {
  const postId = generateId('post')
  await tx.insert(posts).values({
    id: postId,
    workspaceId: series.workspaceId,
    profileId: series.profileId,
    status: 'scheduled',
    content: series.content,
    overrides: series.overrides,
    accountIds: accounts.map((account) => account.id),
    scheduledAt: at,
    timezone: series.timezone,
    createdBy: series.createdBy,
    seriesId: series.id,
  })
  const rows = await tx
    .insert(publications)
    .values(
      buildPublications({ id: postId, workspaceId: series.workspaceId }, accounts, at, horizon),
    )
    .returning()
  for (const publication of rows) {
    if (publication.status === 'queued') await enqueuePublication(tx, boss, publication, options)
  }
  await recordPostEvent(tx, postId, 'post.scheduled')
  await recordAudit(tx, SYSTEM, {
    action: 'post.created',
    workspaceId: series.workspaceId,
    targetType: 'post',
    targetId: postId,
    details: { seriesId: series.id, accounts: accounts.length, status: 'scheduled' },
  })
}

async function findSeries(
  db: Database | Transaction,
  tenant: TenantContext,
  seriesId: string,
  options: { lock?: boolean } = {},
) {
  const query = db
    .select()
    .from(postSeries)
    .where(
      and(
        eq(postSeries.id, seriesId),
        eq(postSeries.workspaceId, tenant.workspaceId),
        tenant.profileId === undefined ? undefined : eq(postSeries.profileId, tenant.profileId),
      ),
    )
  const [series] = options.lock ? await query.for('update') : await query
  if (!series) throw new ProblemError('NOT_FOUND', `No series ${seriesId}`)
  return series
}

/** A series of the caller's workspace (a profile token's own profile only). */
export async function getSeries(services: Services, tenant: TenantContext, seriesId: string) {
  return presentSeries(await findSeries(services.db, tenant, seriesId))
}

/**
 * Cancels a series: no further occurrence is materialised, and its posts that have not started
 * publishing are canceled. Published posts stay. Canceling twice changes nothing.
 */
export async function cancelSeries(services: Services, tenant: TenantContext, seriesId: string) {
  const { db } = services
  return db.transaction(async (tx) => {
    const current = await findSeries(tx, tenant, seriesId, { lock: true })
    if (current.status === 'canceled') return { ...presentSeries(current), canceledPosts: 0 }
    const [series] = await tx
      .update(postSeries)
      .set({
        status: 'canceled',
        canceledAt: sql`now()`,
        nextOccurrenceAt: null,
        updatedAt: sql`now()`,
      })
      .where(eq(postSeries.id, seriesId))
      .returning()
    // Posts first, then their publications (the engine's lock order).
    const waiting = await tx
      .select({ id: posts.id })
      .from(posts)
      .where(and(eq(posts.seriesId, seriesId), eq(posts.status, 'scheduled')))
    await lockPosts(
      tx,
      waiting.map((row) => row.id),
    )
    const canceled = await tx
      .update(publications)
      .set({ status: 'canceled', updatedAt: sql`now()` })
      .where(
        and(
          inArray(publications.status, ['scheduled', 'queued']),
          inArray(
            publications.postId,
            waiting.map((row) => row.id),
          ),
        ),
      )
      .returning({ postId: publications.postId })
    const postIds = [...new Set(canceled.map((row) => row.postId))]
    for (const postId of postIds) await refreshPostStatus(tx, postId)
    if (postIds.length > 0) {
      await tx
        .update(posts)
        .set({ canceledAt: sql`now()` })
        .where(and(inArray(posts.id, postIds), eq(posts.status, 'canceled')))
    }
    await recordAudit(tx, tenant.actor, {
      action: 'series.canceled',
      workspaceId: tenant.workspaceId,
      targetType: 'series',
      targetId: seriesId,
      details: { canceledPosts: postIds.length },
    })
    if (!series) throw new Error('the series update returned no row')
    return { ...presentSeries(series), canceledPosts: postIds.length }
  })
}
