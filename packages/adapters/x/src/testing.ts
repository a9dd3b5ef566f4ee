/**
 * The X API v2 emulator (msw), for offline tests of code that talks to X. Needs `msw`.
 *
 * @module
 */
export {
  createXEmulator,
  type XEmulatedPost,
  type XEmulator,
  type XEmulatorOptions,
  type XReplyPolicy,
} from './testing/emulator.ts'
