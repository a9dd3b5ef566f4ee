import { linkedin, linkedinCapabilities } from '@post-scheduler/adapter-linkedin'
import { definePlatform } from '../definition.ts'

/**
 * LinkedIn: the server-wide app from `LINKEDIN_CLIENT_ID`/`LINKEDIN_CLIENT_SECRET`, refresh
 * tokens only when `LINKEDIN_REFRESH_TOKENS` says the app was approved for them.
 */
export const linkedinPlatform = definePlatform({
  id: 'linkedin',
  capabilities: linkedinCapabilities,
  serverApp: ({ config }) => config.platformApps.linkedin,
  adapter: (app, { config, redirectURI }) =>
    linkedin({ ...app, redirectURI, refreshTokens: config.linkedinRefreshTokens }),
  emulator: {
    async load(baseURL, app, { redirectURI }) {
      const { createLinkedInEmulator } = await import('@post-scheduler/adapter-linkedin/testing')
      const emulator = createLinkedInEmulator({
        ...app,
        redirectURIs: [redirectURI],
        refreshTokens: true,
        apiBaseURL: `${baseURL}/api`,
        wwwBaseURL: `${baseURL}/www`,
      })
      return {
        handlers: emulator.handlers,
        authorizationURL: `${baseURL}/www/oauth/v2/authorization`,
        // The emulated LinkedIn has one member (and the pages they administer).
        approve: (url) => emulator.approve(url),
      }
    },
    adapter: (app, baseURL, { redirectURI }) =>
      linkedin({
        ...app,
        redirectURI,
        refreshTokens: true,
        apiBaseURL: `${baseURL}/api`,
        oauthBaseURL: `${baseURL}/www/oauth/v2`,
      }),
  },
})
