import { describe, expect, it } from 'vitest'
import { createURLSigner } from './storage.ts'

describe('createURLSigner', () => {
  it('signs a key and expiry, refuses any change, and accepts older keys after a rotation', () => {
    const old = createURLSigner([new Uint8Array(32).fill(1)])
    const signature = old.sign('media/ws_1/med_1/original.png', 2_000_000_000)
    expect(old.verify('media/ws_1/med_1/original.png', 2_000_000_000, signature)).toBe(true)
    expect(old.verify('media/ws_1/med_2/original.png', 2_000_000_000, signature)).toBe(false)
    expect(old.verify('media/ws_1/med_1/original.png', 2_000_000_001, signature)).toBe(false)
    expect(old.verify('media/ws_1/med_1/original.png', 2_000_000_000, 'forged')).toBe(false)

    const rotated = createURLSigner([new Uint8Array(32).fill(2), new Uint8Array(32).fill(1)])
    expect(rotated.verify('media/ws_1/med_1/original.png', 2_000_000_000, signature)).toBe(true)
    expect(rotated.sign('media/ws_1/med_1/original.png', 2_000_000_000)).not.toBe(signature)
  })
})
