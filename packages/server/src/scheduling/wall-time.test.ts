import { describe, expect, it } from 'vitest'
import { formatInZone, instantOf, wallTimeOf } from './wall-time.ts'

const at = (year: number, month: number, day: number, hour: number, minute: number) => ({
  year,
  month,
  day,
  hour,
  minute,
})

describe('instantOf', () => {
  it('reads an ordinary wall time with the offset in force then', () => {
    expect(instantOf(at(2026, 3, 28, 9, 0), 'Europe/Berlin').toISOString()).toBe(
      '2026-03-28T08:00:00.000Z',
    )
    expect(instantOf(at(2026, 3, 30, 9, 0), 'Europe/Berlin').toISOString()).toBe(
      '2026-03-30T07:00:00.000Z',
    )
  })

  it('moves a time skipped by the spring change on by the gap, as RFC 5545 says', () => {
    const skipped = instantOf(at(2026, 3, 29, 2, 30), 'Europe/Berlin')
    expect(skipped.toISOString()).toBe('2026-03-29T01:30:00.000Z')
    expect(formatInZone(skipped, 'Europe/Berlin')).toBe('2026-03-29T03:30:00+02:00')
    expect(
      formatInZone(instantOf(at(2026, 3, 8, 2, 15), 'America/New_York'), 'America/New_York'),
    ).toBe('2026-03-08T03:15:00-04:00')
  })

  it('takes the first of a time that happens twice at the autumn change', () => {
    expect(instantOf(at(2026, 10, 25, 2, 30), 'Europe/Berlin').toISOString()).toBe(
      '2026-10-25T00:30:00.000Z',
    )
    expect(instantOf(at(2026, 11, 1, 1, 30), 'America/New_York').toISOString()).toBe(
      '2026-11-01T05:30:00.000Z',
    )
  })

  it('round-trips with wallTimeOf, which also tells the ISO weekday', () => {
    const wall = wallTimeOf(new Date('2026-10-25T07:00:00Z'), 'Europe/Berlin')
    expect(wall).toMatchObject({ year: 2026, month: 10, day: 25, hour: 8, minute: 0, weekday: 7 })
    expect(instantOf(wall, 'Europe/Berlin').toISOString()).toBe('2026-10-25T07:00:00.000Z')
  })
})
