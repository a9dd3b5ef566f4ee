import { describe, expect, it } from 'vitest'
import { coalesce, coalescePerDatabase } from './coalesce.ts'

describe('coalesce', () => {
  it('flushes calls of one turn together, and those made during a flush in the next', async () => {
    const batches: number[][] = []
    let release: () => void = () => {}
    const double = coalesce(async (items: number[]) => {
      batches.push(items)
      if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve))
      return items.map((item) => item * 2)
    })
    const first = [double(1), double(2)]
    await new Promise((resolve) => setImmediate(resolve))
    const later = [double(3), double(4), double(5)]
    release()
    expect(await Promise.all([...first, ...later])).toEqual([2, 4, 6, 8, 10])
    expect(batches).toEqual([
      [1, 2],
      [3, 4, 5],
    ])
  })

  it('tells when everything handed over is flushed, failed batches included', async () => {
    const written: string[] = []
    const save = coalesce(async (items: string[]) => {
      await new Promise((resolve) => setTimeout(resolve, 20))
      if (items.includes('bad')) throw new Error('refused')
      written.push(...items)
      return items
    })
    const outcome = (call: Promise<string>) =>
      call.then(
        () => 'written',
        () => 'refused',
      )
    await save.idle()
    const calls = [outcome(save('a')), outcome(save('bad'))]
    await new Promise((resolve) => setImmediate(resolve))
    calls.push(outcome(save('b')), outcome(save('c')))
    await save.idle()
    expect(written).toEqual(['b', 'c'])
    expect(await Promise.all(calls)).toEqual(['refused', 'refused', 'written', 'written'])
  })

  it('rejects every call of a failed batch, and goes on with the next', async () => {
    let calls = 0
    const save = coalesce(async (items: string[]) => {
      calls += 1
      if (calls === 1) throw new Error('database down')
      return items
    })
    const failed = await Promise.allSettled([save('a'), save('b')])
    expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected'])
    expect(await save('c')).toBe('c')
  })

  it('splits a crowd into batches of at most maxBatch', async () => {
    const sizes: number[] = []
    const echo = coalesce(
      async (items: number[]) => {
        sizes.push(items.length)
        return items
      },
      { maxBatch: 2 },
    )
    await Promise.all([1, 2, 3, 4, 5].map(echo))
    expect(sizes).toEqual([2, 2, 1])
  })

  it('keeps one queue per database, each flush given its own', async () => {
    const first = { name: 'first' }
    const second = { name: 'second' }
    const flushes: string[] = []
    const tag = coalescePerDatabase(async (db: { name: string }, items: number[]) => {
      flushes.push(`${db.name}:${items.join(',')}`)
      return items.map((item) => `${db.name}-${item}`)
    })
    expect(await Promise.all([tag(first, 1), tag(second, 2), tag(first, 3)])).toEqual([
      'first-1',
      'second-2',
      'first-3',
    ])
    expect(flushes.sort()).toEqual(['first:1,3', 'second:2'])
  })
})
