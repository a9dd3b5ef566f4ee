import { describeAdapterConformance } from '@post-scheduler/adapter-core/testing'
import { afterEach, expect } from 'vitest'
import { x } from './adapter/x.ts'
import { createXEmulator } from './testing/emulator.ts'
import { createSpecValidator } from './testing/spec-validator.ts'

// Requests must fit the public document (2.159) and, but for one rename, its newer variant
// (2.167), which calls `tweet.fields` `post.fields`; X's documentation still uses `tweet.fields`.
const validator = await createSpecValidator('x-api-v2-openapi.public.json')
const newer = await createSpecValidator('x-api-v2-openapi.json')
const inspect = async (request: Request) => {
  await validator.inspect(request.clone())
  await newer.inspect(request.clone())
}
// A clock frozen on a whole second: rate-limit resets are epoch seconds, so the wait the adapter
// reads back is exactly the one the emulator announced.
const frozen = Math.floor(Date.now() / 1000) * 1000
const credentials = { clientId: 'conformance-client', clientSecret: 'conformance-secret' }

describeAdapterConformance({
  createEmulator: () => createXEmulator({ ...credentials, inspect, now: () => frozen }),
  createAdapter: () =>
    x({
      ...credentials,
      redirectURI: 'https://app.test/v1/connections/x/callback',
      now: () => new Date(frozen),
      media: { sleep: async () => {} },
    }),
})

afterEach(() => {
  expect(validator.takeMismatches(), 'requests that do not match the X API v2 document').toEqual([])
  expect(
    newer.takeMismatches().filter((mismatch) => !mismatch.includes('"tweet.fields"')),
    'requests that do not match the newer X API v2 document',
  ).toEqual([])
})
