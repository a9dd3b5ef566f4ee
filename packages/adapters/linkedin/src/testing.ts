/**
 * An emulator of LinkedIn's documented API (OAuth, userinfo, organization ACLs, Posts, Images,
 * Videos, Documents, statistics) as msw handlers, with LinkedIn's error bodies, for offline tests
 * of anything that talks to LinkedIn. Needs `msw`.
 *
 * @module
 */
export {
  createLinkedInEmulator,
  type LinkedInEmulator,
  type LinkedInEmulatorFailure,
  type LinkedInEmulatorOptions,
  type LinkedInEmulatorOrganization,
  type LinkedInEmulatorPost,
  type LinkedInOperation,
} from './testing/emulator.ts'
