import { describeAdapterConformance } from '@post-scheduler/adapter-core/testing'
import { instagram } from './adapter/instagram.ts'
import { graphSpec, jpeg, mp4 } from './test/harness.ts'
import { createInstagramEmulator, type InstagramEmulator } from './testing/emulator.ts'

const redirectURI = 'https://app.test/v1/oauth/instagram/callback'

// Facebook Login with PKCE (so the suite's PKCE and delete tests apply), every Graph request
// checked against Meta's node specs; image containers read IN_PROGRESS once, then FINISHED, and
// video containers are processed at once (the suite's clock does not move). The emulator defers
// completion on request, so the suite also runs the processing → checkPublication flow.
describeAdapterConformance({
  createEmulator: () =>
    createInstagramEmulator({
      clientId: 'post-scheduler-tests',
      clientSecret: 'not-a-secret',
      redirectURIs: [redirectURI],
      graph: graphSpec,
      videoProcessingSeconds: 0,
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
  createMedia: (kind, index) => (kind === 'video' ? mp4(index) : jpeg(index)),
})
