import { describeAdapterConformance } from '@post-scheduler/adapter-core/testing'
import { instagram } from './adapter/instagram.ts'
import { graphSpec, jpeg } from './test/harness.ts'
import { createInstagramEmulator, type InstagramEmulator } from './testing/emulator.ts'

const redirectURI = 'https://app.test/v1/oauth/instagram/callback'

// Facebook Login with PKCE (so the suite's PKCE and delete tests apply), every Graph request
// checked against Meta's node specs; image containers read IN_PROGRESS once, then FINISHED.
describeAdapterConformance({
  createEmulator: () =>
    createInstagramEmulator({
      clientId: 'post-scheduler-tests',
      clientSecret: 'not-a-secret',
      redirectURIs: [redirectURI],
      graph: graphSpec,
    }),
  createAdapter: (emulator) =>
    instagram({
      clientId: 'post-scheduler-tests',
      clientSecret: 'not-a-secret',
      redirectURI,
      login: 'facebook',
      pkce: true,
      now: (emulator as InstagramEmulator).clock.now,
      containerPolling: { intervalMs: 0 },
    }),
  createMedia: (_kind, index) => jpeg(index),
})
