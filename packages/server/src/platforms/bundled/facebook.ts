import {
  DEFAULT_GRAPH_VERSION,
  facebook,
  facebookCapabilities,
} from '@post-scheduler/adapter-facebook'
import { definePlatform } from '../definition.ts'

/**
 * Facebook Pages: the server-wide app from `FACEBOOK_CLIENT_ID`/`FACEBOOK_CLIENT_SECRET`, the
 * Graph API version from `FACEBOOK_GRAPH_VERSION` (the adapter's default when unset).
 */
export const facebookPlatform = definePlatform({
  id: 'facebook',
  capabilities: facebookCapabilities,
  serverApp: ({ config }) => config.platformApps.facebook,
  adapter: (app, { config, redirectURI }) =>
    facebook({
      ...app,
      redirectURI,
      ...(config.meta.facebookGraphVersion && { graphVersion: config.meta.facebookGraphVersion }),
    }),
  emulator: {
    // Hosted without Meta's spec validators: the published emulator does not carry the node
    // specs (its own tests pass them), and the server reads no files of an adapter package.
    async load(baseURL, app, { config, redirectURI }) {
      const { createFacebookEmulator } = await import('@post-scheduler/adapter-facebook/testing')
      // At Meta's own addresses: the emulator reads Graph paths from the URL's root, so it cannot
      // sit under a base URL with a path; the host serves them under /emulators/facebook/<host>/.
      const emulator = createFacebookEmulator({ ...app, redirectURIs: [redirectURI] })
      const version = config.meta.facebookGraphVersion ?? DEFAULT_GRAPH_VERSION
      return {
        handlers: emulator.handlers,
        authorizationURL: `${baseURL}/www.facebook.com/${version}/dialog/oauth`,
        // The emulated person manages two Pages; the connection offers both to choose from.
        approve: (url) => emulator.approve(new URL(url.href.replace(`${baseURL}/`, 'https://'))),
        // Videos go to graph-video and reels' bytes to rupload: the emulator answers both hosts.
        origins: [
          'https://www.facebook.com',
          'https://graph.facebook.com',
          'https://graph-video.facebook.com',
          'https://rupload.facebook.com',
        ],
      }
    },
    adapter: (app, _baseURL, { config, redirectURI }) =>
      facebook({
        ...app,
        redirectURI,
        ...(config.meta.facebookGraphVersion && { graphVersion: config.meta.facebookGraphVersion }),
      }),
  },
})
