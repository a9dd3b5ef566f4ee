import { afterAll } from 'vitest'
import { startReceiver as startListener } from '../src/testing.ts'

export type { ReceivedRequest } from '../src/testing.ts'

/**
 * A real HTTP listener on loopback that records every request and answers with `respond` (200 by
 * default; return `'hang'` to never answer). Closed after the file's tests.
 */
export async function startReceiver(...args: Parameters<typeof startListener>) {
  const receiver = await startListener(...args)
  afterAll(() => receiver.close())
  return receiver
}
