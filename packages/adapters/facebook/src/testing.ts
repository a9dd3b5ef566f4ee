/**
 * An emulator of the Graph API as Facebook Pages use it (Facebook Login, Page tokens, feed,
 * photos, video upload sessions, Page videos and reels with their processing status, comments,
 * published posts, insights, permissions), as msw handlers, with Graph's error
 * envelope and usage headers, for offline tests of anything that talks to Facebook. Needs `msw`.
 *
 * @module
 */
export {
  createFacebookEmulator,
  type FacebookEmulator,
  type FacebookEmulatorOptions,
  type FacebookEmulatorPage,
  type FacebookEmulatorPost,
  type FacebookEmulatorUploadSession,
  type FacebookEmulatorVideo,
} from './testing/emulator.ts'
