import type { WeeklySlot } from '../db/schema/index.ts'
import { instantOf, wallTimeOf } from './wall-time.ts'

/** Weekly posting slots in an IANA timezone. */
export interface PostingSchedule {
  timezone: string
  slots: WeeklySlot[]
}

const DAY_MS = 86_400_000
/** How far ahead slots are searched: a schedule full for longer has no free slot. */
export const MAX_SEARCH_DAYS = 3660

/** `HH:mm`, 00:00 to 23:59. */
export const SLOT_TIME = /^([01]\d|2[0-3]):[0-5]\d$/

/**
 * Every slot instant of a schedule from `from` on (inclusive), ascending, each once. Slots are
 * wall times in the schedule's timezone, so 09:00 stays 09:00 across DST changes; one skipped by a
 * forward change moves on by the gap (02:30 → 03:30) and one that happens twice is the first of the
 * two (see {@link instantOf}). Two slots landing on the same instant give one.
 *
 * @example
 * ```ts
 * const [first] = slotInstants({ timezone: 'Europe/Berlin', slots: [{ weekday: 1, time: '09:00' }] }, new Date())
 * ```
 */
export function* slotInstants(schedule: PostingSchedule, from: Date): Generator<Date> {
  if (schedule.slots.length === 0) return
  const byWeekday = new Map<number, { hour: number; minute: number }[]>()
  for (const slot of schedule.slots) {
    const [hour, minute] = slot.time.split(':').map(Number) as [number, number]
    byWeekday.set(slot.weekday, [...(byWeekday.get(slot.weekday) ?? []), { hour, minute }])
  }
  const start = wallTimeOf(from, schedule.timezone)
  // From the day before: a slot late on it may be moved past midnight by a DST gap.
  const firstDay = Date.UTC(start.year, start.month - 1, start.day) - DAY_MS
  let last = from.getTime() - 1
  for (let day = 0; day <= MAX_SEARCH_DAYS; day++) {
    const date = new Date(firstDay + day * DAY_MS)
    const weekday = ((date.getUTCDay() + 6) % 7) + 1
    const instants = (byWeekday.get(weekday) ?? [])
      .map(({ hour, minute }) =>
        instantOf(
          {
            year: date.getUTCFullYear(),
            month: date.getUTCMonth() + 1,
            day: date.getUTCDate(),
            hour,
            minute,
          },
          schedule.timezone,
        ).getTime(),
      )
      .sort((a, b) => a - b)
    for (const instant of instants) {
      if (instant > last) {
        last = instant
        yield new Date(instant)
      }
    }
  }
}

/**
 * The next `count` slots of a schedule from `from` on that are not in `taken` (instants already
 * given to posts of the profile).
 *
 * @example
 * ```ts
 * nextSlots(schedule, new Date(), 10, takenInstants)
 * ```
 */
export function nextSlots(
  schedule: PostingSchedule,
  from: Date,
  count: number,
  taken: Iterable<Date> = [],
): Date[] {
  const takenMs = new Set([...taken].map((instant) => instant.getTime()))
  const found: Date[] = []
  if (count <= 0) return found
  for (const instant of slotInstants(schedule, from)) {
    if (takenMs.has(instant.getTime())) continue
    found.push(instant)
    if (found.length >= count) break
  }
  return found
}

/**
 * The first slot of a schedule from `from` on that no post has taken, or `undefined` when the
 * schedule has no slots or is full for the next ten years.
 *
 * @example
 * ```ts
 * const at = nextFreeSlot(schedule, new Date(), takenInstants)
 * ```
 */
export function nextFreeSlot(
  schedule: PostingSchedule,
  from: Date,
  taken: Iterable<Date> = [],
): Date | undefined {
  return nextSlots(schedule, from, 1, taken)[0]
}
