/**
 * The building blocks of platform emulators on msw (needs the `msw` peer, not `vitest`), so an
 * adapter package's emulator can be used outside a test runner: in a dev server, a demo, a
 * Playwright run. `./testing` re-exports all of it beside the conformance suite.
 *
 * @module
 */
export {
  createEmulatorKit,
  createRateLimitHeaders,
  type EmulatedGrant,
  type EmulatedTokenResponse,
  type EmulatorFault,
  type EmulatorKit,
  type FaultMatch,
  hangUntilAborted,
  type LoggedRequest,
} from './testing/emulator-kit.ts'
