import { describeAdapterConformance } from '@post-scheduler/adapter-core/testing'
import { linkedin } from './adapter/linkedin.ts'
import { createLinkedInEmulator, type LinkedInEmulator } from './testing/emulator.ts'

const redirectURI = 'https://app.test/v1/connections/linkedin/callback'

// A partner app (refresh tokens) with PKCE on, so the suite's refresh and PKCE tests apply; the
// adapter reads the emulator's clock, so the daily-limit wait is computed from the platform's time.
describeAdapterConformance({
  createEmulator: () =>
    createLinkedInEmulator({
      clientId: 'post-scheduler-tests',
      clientSecret: 'not-a-secret',
      redirectURIs: [redirectURI],
      refreshTokens: true,
      videoPartSizeBytes: 1024,
    }),
  createAdapter: (emulator) =>
    linkedin({
      clientId: 'post-scheduler-tests',
      clientSecret: 'not-a-secret',
      redirectURI,
      refreshTokens: true,
      pkce: true,
      now: (emulator as LinkedInEmulator).clock.now,
      videoProcessing: { pollIntervalMs: 0 },
    }),
})
