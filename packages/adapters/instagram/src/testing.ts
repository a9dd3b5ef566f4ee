/**
 * An emulator of the Instagram Graph API's content publishing (both logins, containers,
 * `media_publish`, quota, comments, insights, delete) as msw handlers, with Graph's error
 * envelope, for offline tests of anything that talks to Instagram. Pass a Graph spec validator
 * (adapter-core's `createGraphSpecValidator`) to check every request against Meta's node specs.
 * Needs `msw`.
 *
 * @module
 */
export {
  createInstagramEmulator,
  type InstagramEmulator,
  type InstagramEmulatorMedia,
  type InstagramEmulatorOptions,
} from './testing/emulator.ts'
