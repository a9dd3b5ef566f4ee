import { describe, expect, it } from 'vitest'
import { createCallSignal } from './timeout.ts'

describe('createCallSignal', () => {
  it('accepts a timeout computed as a fraction of a millisecond', () => {
    const call = createCallSignal({ timeoutMs: 5000 / 3 })
    expect(call.signal?.aborted).toBe(false)
    expect(call.timedOut()).toBe(false)
  })

  it('follows the caller’s signal without a timeout', () => {
    const controller = new AbortController()
    const call = createCallSignal({ signal: controller.signal })
    controller.abort()
    expect(call.signal?.aborted).toBe(true)
    expect(call.timedOut()).toBe(false)
  })
})
