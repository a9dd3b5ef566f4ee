import rrule, { type Options } from 'rrule'
import { instantOf, type WallTime, wallTimeOf } from './wall-time.ts'

// rrule is CommonJS: Node's ESM loader sees only its default export, so take the names from it.
const { Frequency, RRule } = rrule

/** At most this many occurrences in a rule that ends (`COUNT` or `UNTIL`). */
export const MAX_OCCURRENCES = 1000
/** Occurrences are looked for at most this many years after the start. */
export const MAX_SPAN_YEARS = 10
/** Occurrences closer together than this are refused: a series is not a stream. */
export const MIN_GAP_SECONDS = 3600

const PROPERTIES = new Set([
  'FREQ',
  'INTERVAL',
  'COUNT',
  'UNTIL',
  'BYDAY',
  'BYMONTHDAY',
  'BYMONTH',
  'BYYEARDAY',
  'BYWEEKNO',
  'BYHOUR',
  'BYMINUTE',
  'BYSETPOS',
  'WKST',
])
const FREQUENCIES = ['YEARLY', 'MONTHLY', 'WEEKLY', 'DAILY', 'HOURLY']

/** Why a rule was refused: a stable code and a message saying how to fix it. */
export interface RuleIssue {
  code: string
  message: string
}

/** A checked recurrence rule, ready to be evaluated from a start in a timezone. */
export interface RecurrenceRule {
  /** The rule as given, without an `RRULE:` prefix. */
  text: string
  options: Partial<Options>
  /** `UNTIL` as an instant (`…Z`) or as a wall time in the series' timezone. */
  until?: { instant: Date } | { wall: WallTime } | undefined
}

/**
 * Parses an RRULE (RFC 5545 `RECUR`, e.g. `FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10`) without evaluating
 * it. The series' start is its first post's time, so `DTSTART`/`TZID` are refused, as are
 * `SECONDLY`/`MINUTELY` frequencies, `BYSECOND`, unknown properties, `COUNT` with `UNTIL`, and
 * counts over {@link MAX_OCCURRENCES}.
 *
 * @example
 * ```ts
 * const { rule, issues } = parseRecurrenceRule('FREQ=DAILY;COUNT=5')
 * ```
 */
export function parseRecurrenceRule(input: string): {
  rule?: RecurrenceRule
  issues: RuleIssue[]
} {
  const text = input.trim().replace(/^RRULE:/i, '')
  const issues: RuleIssue[] = []
  const parts = new Map<string, string>()
  for (const part of text.split(';').filter(Boolean)) {
    const [name = '', value, ...rest] = part.split('=')
    const key = name.toUpperCase()
    if (value === undefined || value === '' || rest.length > 0) {
      issues.push({ code: 'invalid_rule', message: `"${part}" is not NAME=VALUE` })
    } else if (key === 'DTSTART' || key === 'TZID') {
      issues.push({
        code: 'dtstart_not_allowed',
        message: `Remove ${key}: the series starts at scheduledAt, in the post's timezone`,
      })
    } else if (key === 'BYSECOND') {
      issues.push({ code: 'frequency_too_high', message: 'BYSECOND is not supported' })
    } else if (!PROPERTIES.has(key)) {
      issues.push({ code: 'invalid_rule', message: `Unknown RRULE property ${key}` })
    } else if (parts.has(key)) {
      issues.push({ code: 'invalid_rule', message: `${key} is given twice` })
    } else {
      parts.set(key, value.toUpperCase())
    }
  }
  const freq = parts.get('FREQ')
  if (freq === undefined) {
    issues.push({ code: 'invalid_rule', message: 'FREQ is required, e.g. FREQ=WEEKLY' })
  } else if (freq === 'SECONDLY' || freq === 'MINUTELY') {
    issues.push({
      code: 'frequency_too_high',
      message: `FREQ=${freq} is refused: occurrences must be at least an hour apart`,
    })
  } else if (!FREQUENCIES.includes(freq)) {
    issues.push({ code: 'invalid_rule', message: `FREQ must be one of ${FREQUENCIES.join(', ')}` })
  }
  const count = parts.get('COUNT')
  if (count !== undefined && !(/^\d+$/.test(count) && +count >= 1 && +count <= MAX_OCCURRENCES)) {
    issues.push({
      code: 'count_out_of_range',
      message: `COUNT must be 1 to ${MAX_OCCURRENCES}`,
    })
  }
  const interval = parts.get('INTERVAL')
  if (interval !== undefined && !(/^\d+$/.test(interval) && +interval >= 1 && +interval <= 1000)) {
    issues.push({ code: 'invalid_rule', message: 'INTERVAL must be 1 to 1000' })
  }
  const untilText = parts.get('UNTIL')
  const untilMatch = untilText?.match(/^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?$/)
  if (untilText !== undefined && !untilMatch) {
    issues.push({
      code: 'invalid_rule',
      message: 'UNTIL must be a date (20261231) or date-time (20261231T235959Z)',
    })
  }
  if (count !== undefined && untilText !== undefined) {
    issues.push({ code: 'invalid_rule', message: 'Give COUNT or UNTIL, not both' })
  }
  if (issues.length > 0) return { issues }

  let options: Partial<Options>
  try {
    const withoutUntil = [...parts]
      .filter(([key]) => key !== 'UNTIL')
      .map(([key, value]) => `${key}=${value}`)
      .join(';')
    options = RRule.parseString(withoutUntil)
  } catch (error) {
    return { issues: [{ code: 'invalid_rule', message: (error as Error).message }] }
  }
  const lists = [options.byweekday, options.bymonthday, options.bymonth, options.byhour]
  if (
    lists.some((list) => Array.isArray(list) && list.some((value) => value == null)) ||
    (options.byweekday != null && !Array.isArray(options.byweekday))
  ) {
    return {
      issues: [{ code: 'invalid_rule', message: 'A BY… list has a value RRULE does not know' }],
    }
  }
  const until = untilMatch ? toUntil(untilMatch) : undefined
  return { rule: { text, options, until }, issues: [] }
}

function toUntil(match: RegExpMatchArray): RecurrenceRule['until'] {
  const [, year, month, day, hour = '23', minute = '59', second = '59', utc] = match
  const wall = {
    year: Number(year),
    month: Number(month),
    day: Number(day),
    hour: Number(hour),
    minute: Number(minute),
    second: Number(second),
  }
  if (utc) {
    return {
      instant: new Date(
        Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second),
      ),
    }
  }
  return { wall }
}

/** A series to evaluate: its rule, the IANA timezone of its wall times, and its start. */
export interface SeriesClock {
  rule: RecurrenceRule
  timezone: string
  startsAt: Date
}

/**
 * Occurrences of a series after `after` (exclusive), ascending, at most `limit` of them. The rule
 * runs on the wall time of `startsAt` in the series' timezone and each occurrence is then turned
 * into an instant there, so 09:00 Europe/Berlin stays 09:00 local across both DST changes; a wall
 * time skipped by a forward change moves on by the gap and one that happens twice is the first
 * (RFC 5545 §3.3.5). Occurrences landing on an instant already given are dropped. Nothing is looked
 * for beyond {@link MAX_SPAN_YEARS} after the start.
 *
 * @example
 * ```ts
 * const [next] = occurrencesAfter(series, lastOccurrenceAt, 1)
 * ```
 */
export function occurrencesAfter(series: SeriesClock, after: Date | undefined, limit: number) {
  const start = wallTimeOf(series.startsAt, series.timezone)
  const floating = (wall: WallTime) =>
    new Date(
      Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second ?? 0),
    )
  const dtstart = floating(start)
  const untilInstant =
    series.rule.until === undefined
      ? undefined
      : 'instant' in series.rule.until
        ? series.rule.until.instant
        : instantOf(series.rule.until.wall, series.timezone)
  const end = new Date(dtstart)
  end.setUTCFullYear(end.getUTCFullYear() + MAX_SPAN_YEARS)
  // A floating bound two days past UNTIL is safely past it whatever the offset.
  const bound =
    untilInstant === undefined
      ? end
      : new Date(Math.min(end.getTime(), untilInstant.getTime() + 2 * 86_400_000))
  const afterMs = after?.getTime() ?? Number.NEGATIVE_INFINITY
  // Floating times more than two days before `after` cannot be after it, whatever the offset.
  const skipBefore = after ? after.getTime() - 2 * 86_400_000 : Number.NEGATIVE_INFINITY
  const found: Date[] = []
  let last = Number.NEGATIVE_INFINITY
  const rrule = new RRule({ ...series.rule.options, dtstart, tzid: null, until: null })
  rrule.all((date) => {
    if (date.getTime() > bound.getTime()) return false
    if (date.getTime() < skipBefore) return true
    const instant = instantOf(
      {
        year: date.getUTCFullYear(),
        month: date.getUTCMonth() + 1,
        day: date.getUTCDate(),
        hour: date.getUTCHours(),
        minute: date.getUTCMinutes(),
        second: date.getUTCSeconds(),
      },
      series.timezone,
    ).getTime()
    if (untilInstant !== undefined && instant > untilInstant.getTime()) return false
    if (instant <= last) return true
    last = instant
    if (instant > afterMs) found.push(new Date(instant))
    return found.length < limit
  })
  return found
}

/**
 * Checks that a rule, started at `startsAt` in `timezone`, makes sense as a series: it has an
 * occurrence, its occurrences are at least {@link MIN_GAP_SECONDS} apart, an `UNTIL` does not allow
 * more than {@link MAX_OCCURRENCES}, and only rules of daily or rarer frequency may run without end.
 *
 * @returns the first occurrence (at or after `startsAt`) and the issues found.
 * @example
 * ```ts
 * const { first, issues } = checkSeries({ rule, timezone: 'Europe/Berlin', startsAt })
 * ```
 */
export function checkSeries(series: SeriesClock): { first?: Date; issues: RuleIssue[] } {
  const { options, until } = series.rule
  // Rules run to the second: a start with milliseconds is its own first occurrence, floored.
  const justBefore = new Date(Math.floor(series.startsAt.getTime() / 1000) * 1000 - 1)
  const sample = occurrencesAfter(series, justBefore, 50)
  const [first] = sample
  if (!first) {
    return {
      issues: [
        {
          code: 'no_occurrences',
          message: `The rule has no occurrence within ${MAX_SPAN_YEARS} years of scheduledAt`,
        },
      ],
    }
  }
  const issues: RuleIssue[] = []
  for (let index = 1; index < sample.length; index++) {
    const gap = (sample[index] as Date).getTime() - (sample[index - 1] as Date).getTime()
    if (gap < MIN_GAP_SECONDS * 1000) {
      issues.push({
        code: 'frequency_too_high',
        message: 'Occurrences must be at least an hour apart',
      })
      break
    }
  }
  if (options.count == null && until === undefined && options.freq === Frequency.HOURLY) {
    issues.push({
      code: 'unbounded',
      message: 'An hourly rule must end: add COUNT or UNTIL',
    })
  }
  if (
    until !== undefined &&
    occurrencesAfter(series, justBefore, MAX_OCCURRENCES + 1).length > MAX_OCCURRENCES
  ) {
    issues.push({
      code: 'count_out_of_range',
      message: `UNTIL allows more than ${MAX_OCCURRENCES} occurrences; end it sooner`,
    })
  }
  return { first, issues }
}
