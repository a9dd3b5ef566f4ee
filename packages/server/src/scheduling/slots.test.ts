import { describe, expect, it } from 'vitest'
import { nextFreeSlot, nextSlots, type PostingSchedule } from './slots.ts'
import { formatInZone } from './wall-time.ts'

const berlin: PostingSchedule = {
  timezone: 'Europe/Berlin',
  slots: [
    { weekday: 7, time: '09:00' },
    { weekday: 1, time: '09:00' },
    { weekday: 1, time: '17:30' },
  ],
}

const local = (instants: Date[], timezone: string) =>
  instants.map((instant) => formatInZone(instant, timezone))

describe('nextSlots', () => {
  it('keeps 09:00 Europe/Berlin at 09:00 local across the spring change', () => {
    const slots = nextSlots(berlin, new Date('2026-03-28T12:00:00Z'), 4)
    expect(local(slots, 'Europe/Berlin')).toEqual([
      '2026-03-29T09:00:00+02:00',
      '2026-03-30T09:00:00+02:00',
      '2026-03-30T17:30:00+02:00',
      '2026-04-05T09:00:00+02:00',
    ])
    expect(slots[0]?.toISOString()).toBe('2026-03-29T07:00:00.000Z')
  })

  it('keeps 09:00 Europe/Berlin at 09:00 local across the autumn change', () => {
    const slots = nextSlots(berlin, new Date('2026-10-24T12:00:00Z'), 2)
    expect(slots.map((slot) => slot.toISOString())).toEqual([
      '2026-10-25T08:00:00.000Z',
      '2026-10-26T08:00:00.000Z',
    ])
  })

  it('moves a slot skipped by the spring change on by the gap and takes the first of a doubled one', () => {
    const night: PostingSchedule = {
      timezone: 'America/New_York',
      slots: [
        { weekday: 7, time: '02:30' },
        { weekday: 7, time: '01:30' },
      ],
    }
    expect(local(nextSlots(night, new Date('2026-03-07T00:00:00Z'), 2), night.timezone)).toEqual([
      '2026-03-08T01:30:00-05:00',
      '2026-03-08T03:30:00-04:00',
    ])
    expect(local(nextSlots(night, new Date('2026-10-31T00:00:00Z'), 2), night.timezone)).toEqual([
      '2026-11-01T01:30:00-04:00',
      '2026-11-01T02:30:00-05:00',
    ])
  })

  it('gives one slot when two slots land on the same instant in a gap', () => {
    const schedule: PostingSchedule = {
      timezone: 'Europe/Berlin',
      slots: [
        { weekday: 7, time: '02:30' },
        { weekday: 7, time: '03:30' },
      ],
    }
    expect(
      local(nextSlots(schedule, new Date('2026-03-28T00:00:00Z'), 2), schedule.timezone),
    ).toEqual(['2026-03-29T03:30:00+02:00', '2026-04-05T02:30:00+02:00'])
  })

  it('counts a slot at the very instant of from, and none when the schedule is empty', () => {
    const from = new Date('2026-03-30T07:00:00Z')
    expect(nextSlots(berlin, from, 1)).toEqual([from])
    expect(nextSlots({ timezone: 'UTC', slots: [] }, from, 5)).toEqual([])
  })
})

describe('nextFreeSlot', () => {
  it('skips slots already taken by the profile’s posts', () => {
    const from = new Date('2026-03-28T12:00:00Z')
    const taken = [new Date('2026-03-29T07:00:00Z'), new Date('2026-03-30T07:00:00Z')]
    expect(nextFreeSlot(berlin, from, taken)?.toISOString()).toBe('2026-03-30T15:30:00.000Z')
    expect(nextSlots(berlin, from, 2, taken).map((slot) => slot.toISOString())).toEqual([
      '2026-03-30T15:30:00.000Z',
      '2026-04-05T07:00:00.000Z',
    ])
  })

  it('finds nothing in a schedule without slots', () => {
    expect(nextFreeSlot({ timezone: 'UTC', slots: [] }, new Date())).toBeUndefined()
  })
})
