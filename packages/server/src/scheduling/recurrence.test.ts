import { describe, expect, it } from 'vitest'
import {
  checkSeries,
  occurrencesAfter,
  parseRecurrenceRule,
  type SeriesClock,
} from './recurrence.ts'
import { formatInZone } from './wall-time.ts'

const series = (rule: string, timezone: string, startsAt: string): SeriesClock => {
  const parsed = parseRecurrenceRule(rule)
  if (!parsed.rule) throw new Error(JSON.stringify(parsed.issues))
  return { rule: parsed.rule, timezone, startsAt: new Date(startsAt) }
}

const all = (clock: SeriesClock, limit = 100) =>
  occurrencesAfter(clock, new Date(clock.startsAt.getTime() - 1), limit).map((instant) =>
    formatInZone(instant, clock.timezone),
  )

describe('occurrencesAfter', () => {
  it('keeps a daily 09:00 Europe/Berlin at 09:00 local across the spring change', () => {
    expect(all(series('FREQ=DAILY;COUNT=3', 'Europe/Berlin', '2026-03-28T08:00:00Z'))).toEqual([
      '2026-03-28T09:00:00+01:00',
      '2026-03-29T09:00:00+02:00',
      '2026-03-30T09:00:00+02:00',
    ])
  })

  it('keeps a daily 09:00 Europe/Berlin at 09:00 local across the autumn change', () => {
    const clock = series('FREQ=DAILY;COUNT=3', 'Europe/Berlin', '2026-10-24T07:00:00Z')
    expect(occurrencesAfter(clock, undefined, 10).map((instant) => instant.toISOString())).toEqual([
      '2026-10-24T07:00:00.000Z',
      '2026-10-25T08:00:00.000Z',
      '2026-10-26T08:00:00.000Z',
    ])
  })

  it('keeps a weekly Monday 08:30 America/New_York at 08:30 across both changes of 2026', () => {
    const clock = series(
      'FREQ=WEEKLY;BYDAY=MO;UNTIL=20261110T000000Z',
      'America/New_York',
      '2026-03-02T13:30:00Z',
    )
    const local = all(clock)
    expect(local.slice(0, 2)).toEqual(['2026-03-02T08:30:00-05:00', '2026-03-09T08:30:00-04:00'])
    expect(local.slice(-2)).toEqual(['2026-11-02T08:30:00-05:00', '2026-11-09T08:30:00-05:00'])
    expect(local).toHaveLength(37)
  })

  it('moves an occurrence skipped by the spring change on by the gap and takes the first of a doubled one', () => {
    expect(all(series('FREQ=DAILY;COUNT=2', 'Europe/Berlin', '2026-03-28T01:30:00Z'))).toEqual([
      '2026-03-28T02:30:00+01:00',
      '2026-03-29T03:30:00+02:00',
    ])
    expect(all(series('FREQ=DAILY;COUNT=2', 'Europe/Berlin', '2026-10-24T00:30:00Z'))).toEqual([
      '2026-10-24T02:30:00+02:00',
      '2026-10-25T02:30:00+02:00',
    ])
  })

  it('ends at COUNT, or at UNTIL read as wall time in the series’ timezone when it has no Z', () => {
    expect(
      all(series('FREQ=WEEKLY;BYDAY=MO;COUNT=10', 'UTC', '2026-01-05T10:00:00Z')),
    ).toHaveLength(10)
    const until = all(
      series('FREQ=DAILY;UNTIL=20260331T090000', 'Europe/Berlin', '2026-03-28T08:00:00Z'),
    )
    expect(until.at(-1)).toBe('2026-03-31T09:00:00+02:00')
    expect(until).toHaveLength(4)
  })

  it('starts at the first time the rule matches at or after the start', () => {
    // 2026-03-31 is a Tuesday: the first Monday is 2026-04-06.
    expect(
      all(series('FREQ=WEEKLY;BYDAY=MO;COUNT=1', 'Europe/Berlin', '2026-03-31T07:00:00Z')),
    ).toEqual(['2026-04-06T09:00:00+02:00'])
  })

  it('counts a start with milliseconds as its own first occurrence, to the second', () => {
    const parsed = parseRecurrenceRule('FREQ=DAILY;COUNT=2')
    const checked = checkSeries({
      rule: parsed.rule as NonNullable<typeof parsed.rule>,
      timezone: 'Europe/Berlin',
      startsAt: new Date('2026-03-28T08:00:00.750Z'),
    })
    expect(checked.first?.toISOString()).toBe('2026-03-28T08:00:00.000Z')
  })

  it('gives the occurrences after a given instant only', () => {
    const clock = series('FREQ=DAILY;COUNT=5', 'UTC', '2026-01-01T09:00:00Z')
    expect(
      occurrencesAfter(clock, new Date('2026-01-03T09:00:00Z'), 10).map((instant) =>
        instant.toISOString(),
      ),
    ).toEqual(['2026-01-04T09:00:00.000Z', '2026-01-05T09:00:00.000Z'])
  })
})

describe('parseRecurrenceRule and checkSeries', () => {
  const codes = (rule: string, startsAt = '2026-03-28T08:00:00Z') => {
    const parsed = parseRecurrenceRule(rule)
    if (!parsed.rule) return parsed.issues.map((issue) => issue.code)
    return checkSeries({
      rule: parsed.rule,
      timezone: 'Europe/Berlin',
      startsAt: new Date(startsAt),
    }).issues.map((issue) => issue.code)
  }

  it('accepts ordinary rules, with or without an RRULE: prefix', () => {
    expect(codes('FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=10')).toEqual([])
    expect(codes('RRULE:FREQ=MONTHLY;BYMONTHDAY=1')).toEqual([])
    expect(codes('FREQ=HOURLY;INTERVAL=6;COUNT=20')).toEqual([])
  })

  it('refuses sub-hourly frequencies, however they are written', () => {
    expect(codes('FREQ=MINUTELY;COUNT=5')).toEqual(['frequency_too_high'])
    expect(codes('FREQ=SECONDLY')).toEqual(['frequency_too_high'])
    expect(codes('FREQ=HOURLY;BYMINUTE=0,30;COUNT=10')).toEqual(['frequency_too_high'])
    expect(codes('FREQ=DAILY;BYHOUR=9;BYMINUTE=0,15')).toEqual(['frequency_too_high'])
  })

  it('refuses unbounded or absurd rules', () => {
    expect(codes('FREQ=HOURLY')).toEqual(['unbounded'])
    expect(codes('FREQ=DAILY;COUNT=5000')).toEqual(['count_out_of_range'])
    expect(codes('FREQ=DAILY;UNTIL=20300101T000000Z')).toEqual(['count_out_of_range'])
    expect(codes('FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30')).toEqual(['no_occurrences'])
    expect(codes('FREQ=DAILY;UNTIL=20200101')).toEqual(['no_occurrences'])
  })

  it('refuses malformed rules with a reason', () => {
    expect(codes('FREQ=DAILY;DTSTART=20260101T000000Z')).toEqual(['dtstart_not_allowed'])
    expect(codes('FREQ=DAILY;COUNT=2;UNTIL=20270101')).toEqual(['invalid_rule'])
    expect(codes('FREQ=FORTNIGHTLY')).toEqual(['invalid_rule'])
    expect(codes('BYDAY=MO')).toEqual(['invalid_rule'])
    expect(codes('FREQ=WEEKLY;BYDAY=XX')).toEqual(['invalid_rule'])
    expect(codes('FREQ=WEEKLY;NOPE=1')).toEqual(['invalid_rule'])
    expect(codes('garbage')).toEqual(['invalid_rule', 'invalid_rule'])
  })
})
