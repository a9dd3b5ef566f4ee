import { and, eq, gte, notInArray, sql } from 'drizzle-orm'
import { recordAudit } from '../audit/record.ts'
import type { TenantContext } from '../auth/principal.ts'
import type { Database, Transaction } from '../db/client.ts'
import { lockKey } from '../db/locks.ts'
import { postingSchedules, posts, profiles, type WeeklySlot } from '../db/schema/index.ts'
import { type Issue, ProblemError } from '../errors/problem.ts'
import type { Services } from '../services.ts'
import { nextFreeSlot, nextSlots, type PostingSchedule, SLOT_TIME } from './slots.ts'
import { formatInZone, isTimezone } from './wall-time.ts'

type ScheduleRow = typeof postingSchedules.$inferSelect

/** A profile of the caller's workspace (a profile token's own only), or `NOT_FOUND`. */
export async function findProfile(services: Services, tenant: TenantContext, profileId: string) {
  if (tenant.profileId !== undefined && tenant.profileId !== profileId) {
    throw new ProblemError('NOT_FOUND', `No profile ${profileId}`)
  }
  const [profile] = await services.db
    .select({ id: profiles.id })
    .from(profiles)
    .where(and(eq(profiles.id, profileId), eq(profiles.workspaceId, tenant.workspaceId)))
  if (!profile) throw new ProblemError('NOT_FOUND', `No profile ${profileId}`)
  return profile.id
}

function presentSchedule(profileId: string, row: ScheduleRow | undefined) {
  return {
    profileId,
    timezone: row?.timezone ?? 'UTC',
    slots: row?.slots ?? [],
    updatedAt: row?.updatedAt.toISOString() ?? null,
  }
}

const slotOrder = (a: WeeklySlot, b: WeeklySlot) =>
  a.weekday - b.weekday || a.time.localeCompare(b.time)

/** A profile's posting schedule; a profile without one has no slots, in UTC. */
export async function getPostingSchedule(
  services: Services,
  tenant: TenantContext,
  profileId: string,
) {
  const id = await findProfile(services, tenant, profileId)
  const [row] = await services.db
    .select()
    .from(postingSchedules)
    .where(eq(postingSchedules.profileId, id))
  return presentSchedule(id, row)
}

/**
 * Replaces a profile's posting schedule: weekly slots (`weekday` 1 = Monday … 7 = Sunday, `time`
 * `HH:mm`) in an IANA timezone. Posts already queued keep their time.
 *
 * @throws {ProblemError} `VALIDATION_FAILED` for an unknown timezone, a malformed or repeated slot.
 */
export async function putPostingSchedule(
  services: Services,
  tenant: TenantContext,
  profileId: string,
  input: PostingSchedule,
) {
  const id = await findProfile(services, tenant, profileId)
  const issues: Issue[] = []
  if (!isTimezone(input.timezone)) {
    issues.push({
      location: 'body',
      path: ['timezone'],
      code: 'unknown_timezone',
      message: 'Use an IANA timezone name such as Europe/Berlin',
    })
  }
  const seen = new Set<string>()
  input.slots.forEach((slot, index) => {
    const key = `${slot.weekday} ${slot.time}`
    if (!Number.isInteger(slot.weekday) || slot.weekday < 1 || slot.weekday > 7) {
      issues.push({
        location: 'body',
        path: ['slots', index, 'weekday'],
        code: 'invalid_weekday',
        message: 'weekday is 1 (Monday) to 7 (Sunday)',
      })
    } else if (!SLOT_TIME.test(slot.time)) {
      issues.push({
        location: 'body',
        path: ['slots', index, 'time'],
        code: 'invalid_time',
        message: 'time is HH:mm, 00:00 to 23:59',
      })
    } else if (seen.has(key)) {
      issues.push({
        location: 'body',
        path: ['slots', index],
        code: 'duplicate_slot',
        message: `weekday ${slot.weekday} at ${slot.time} is given twice`,
      })
    }
    seen.add(key)
  })
  if (issues.length > 0) {
    throw new ProblemError('VALIDATION_FAILED', 'The posting schedule is invalid; see issues', {
      issues,
    })
  }
  const slots = input.slots.map(({ weekday, time }) => ({ weekday, time })).sort(slotOrder)
  const row = await services.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(postingSchedules)
      .values({ profileId: id, workspaceId: tenant.workspaceId, timezone: input.timezone, slots })
      .onConflictDoUpdate({
        target: postingSchedules.profileId,
        set: { timezone: input.timezone, slots, updatedAt: sql`now()` },
      })
      .returning()
    await recordAudit(tx, tenant.actor, {
      action: 'posting_schedule.updated',
      workspaceId: tenant.workspaceId,
      targetType: 'profile',
      targetId: id,
      details: { timezone: input.timezone, slots: slots.length },
    })
    return row
  })
  return presentSchedule(id, row)
}

/** Instants given to the profile's posts from `from` on (drafts and canceled posts take none). */
async function takenInstants(db: Database | Transaction, profileId: string, from: Date) {
  const rows = await db
    .select({ scheduledAt: posts.scheduledAt })
    .from(posts)
    .where(
      and(
        eq(posts.profileId, profileId),
        gte(posts.scheduledAt, from),
        notInArray(posts.status, ['draft', 'canceled']),
      ),
    )
  return rows.flatMap((row) => (row.scheduledAt ? [row.scheduledAt] : []))
}

/**
 * The next `count` free slots of a profile's schedule: slots from now on that none of its posts
 * has, as instants with the offset of the schedule's timezone.
 */
export async function previewFreeSlots(
  services: Services,
  tenant: TenantContext,
  profileId: string,
  count: number,
  now = new Date(),
) {
  const schedule = await getPostingSchedule(services, tenant, profileId)
  const taken = await takenInstants(services.db, schedule.profileId, now)
  return {
    timezone: schedule.timezone,
    data: nextSlots(schedule, now, count, taken).map((instant) => ({
      at: formatInZone(instant, schedule.timezone),
    })),
  }
}

/**
 * The next free slot of a profile's schedule, for a post created with `queue: true` in the same
 * transaction. A transaction-scoped advisory lock on the profile serialises queued posts, so two
 * created at once never take the same slot.
 *
 * @throws {ProblemError} `VALIDATION_FAILED` on `queue` when the profile has no slots or no free one.
 */
export async function takeQueueSlot(
  tx: Transaction,
  profileId: string,
  from: Date,
): Promise<{ scheduledAt: Date; timezone: string }> {
  await lockKey(tx, `post_scheduler.queue:${profileId}`)
  const [row] = await tx
    .select()
    .from(postingSchedules)
    .where(eq(postingSchedules.profileId, profileId))
  const at = row ? nextFreeSlot(row, from, await takenInstants(tx, profileId, from)) : undefined
  if (!row || !at) {
    throw new ProblemError('VALIDATION_FAILED', 'The post cannot be queued; see issues', {
      issues: [
        {
          location: 'body',
          path: ['queue'],
          code: row?.slots.length ? 'queue_full' : 'no_posting_schedule',
          message: row?.slots.length
            ? 'Every slot of the posting schedule is taken; add slots or give scheduledAt'
            : 'The profile has no posting slots; PUT /v1/profiles/{profileId}/schedule first',
        },
      ],
    })
  }
  return { scheduledAt: at, timezone: row.timezone }
}
