import { describe, expect, it } from 'vitest'
import { processingFromText } from './processing.ts'

describe('processingFromText', () => {
  const of = (text: string) => processingFromText({ accountId: 'sbx_acc', text })

  it('leaves a post without a marker public at once', () => {
    expect(of('Hello #sandbox-processingish')).toBeUndefined()
    expect(of('Hello')).toBeUndefined()
  })

  it('processes a post with the marker for 5 s, or the seconds it gives', () => {
    expect(of('A reel #sandbox-processing')).toEqual({ seconds: 5, outcome: 'published' })
    expect(of('A reel #sandbox-processing:0.5 today')).toEqual({
      seconds: 0.5,
      outcome: 'published',
    })
  })

  it('makes processing fail with #sandbox-fail:processing', () => {
    expect(of('#sandbox-fail:processing')).toEqual({ seconds: 2, outcome: 'failed' })
    expect(of('#sandbox-processing:1 #sandbox-fail:processing')).toEqual({
      seconds: 1,
      outcome: 'failed',
    })
  })
})
