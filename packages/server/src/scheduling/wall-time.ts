import { DateTime } from 'luxon'

/** A time as a clock on the wall shows it, in no particular timezone. */
export interface WallTime {
  year: number
  /** 1–12. */
  month: number
  day: number
  hour: number
  minute: number
  second?: number | undefined
}

const MINUTE_MS = 60_000
const DAY_MS = 86_400_000

/** The UTC offset of `timezone` at `ms`, in minutes (local time = UTC + offset). */
function offsetMinutes(timezone: string, ms: number): number {
  return DateTime.fromMillis(ms, { zone: timezone }).offset
}

/**
 * The instant a wall time in an IANA timezone stands for, with the rules of RFC 5545 §3.3.5:
 *
 * - a time skipped by a forward change (02:30 on 2026-03-29 in Europe/Berlin) is read with the
 *   offset before the change, so it lands as far after the change as it was after the last valid
 *   minute: 02:30 → 03:30 CEST;
 * - a time that happens twice after a backward change (02:30 on 2026-10-25 in Europe/Berlin) is the
 *   first of the two (02:30 CEST, 00:30Z).
 *
 * @example
 * ```ts
 * instantOf({ year: 2026, month: 3, day: 30, hour: 9, minute: 0 }, 'Europe/Berlin')
 * // 2026-03-30T07:00:00.000Z
 * ```
 */
export function instantOf(wall: WallTime, timezone: string): Date {
  const asUTC = Date.UTC(
    wall.year,
    wall.month - 1,
    wall.day,
    wall.hour,
    wall.minute,
    wall.second ?? 0,
  )
  const before = offsetMinutes(timezone, asUTC - DAY_MS)
  const after = offsetMinutes(timezone, asUTC + DAY_MS)
  const candidates = [...new Set([before, after])]
    .map((offset) => ({ offset, ms: asUTC - offset * MINUTE_MS }))
    .filter((candidate) => offsetMinutes(timezone, candidate.ms) === candidate.offset)
    .map((candidate) => candidate.ms)
  if (candidates.length > 0) return new Date(Math.min(...candidates))
  // In a gap: the offset in force before it.
  return new Date(asUTC - before * MINUTE_MS)
}

/**
 * The wall time of an instant in an IANA timezone, with its ISO weekday (1 = Monday … 7 = Sunday).
 *
 * @example
 * ```ts
 * wallTimeOf(new Date('2026-03-30T07:00:00Z'), 'Europe/Berlin') // { …, hour: 9, weekday: 1 }
 * ```
 */
export function wallTimeOf(instant: Date, timezone: string): WallTime & { weekday: number } {
  const local = DateTime.fromMillis(instant.getTime(), { zone: timezone })
  return {
    year: local.year,
    month: local.month,
    day: local.day,
    hour: local.hour,
    minute: local.minute,
    second: local.second,
    weekday: local.weekday,
  }
}

/**
 * An instant as ISO 8601 with the offset it has in `timezone` (`2026-03-30T09:00:00+02:00`).
 *
 * @example
 * ```ts
 * formatInZone(new Date('2026-03-30T07:00:00Z'), 'Europe/Berlin') // '2026-03-30T09:00:00+02:00'
 * ```
 */
export function formatInZone(instant: Date, timezone: string): string {
  return DateTime.fromMillis(instant.getTime(), { zone: timezone }).toISO({
    suppressMilliseconds: true,
  }) as string
}

/** Whether `timezone` is an IANA timezone name this runtime knows. */
export function isTimezone(timezone: string): boolean {
  return timezone === 'UTC' || Intl.supportedValuesOf('timeZone').includes(timezone)
}
