import { describeAdapterConformance } from '@post-scheduler/adapter-core/testing'
import { sandbox } from './adapter/sandbox.ts'
import { createSandboxEmulator } from './testing/emulator.ts'

const baseURL = 'https://sandbox.test'

describeAdapterConformance({
  createEmulator: () => createSandboxEmulator({ baseURL, uploadPartSizeBytes: 1024 }),
  createAdapter: () =>
    sandbox({
      clientId: 'post-scheduler-tests',
      clientSecret: 'not-a-secret',
      baseURL,
      redirectURI: 'https://app.test/v1/connections/sandbox/callback',
    }),
})
