import { instagram, instagramCapabilities } from '@post-scheduler/adapter-instagram'
import { definePlatform } from '../definition.ts'
import { withReachableMedia } from './public-media.ts'

/**
 * Meta's addresses the Instagram adapter and its emulator use: neither takes a base URL, so the
 * hosted emulator answers them in-process and serves them under `/emulators/instagram/<host>/`.
 */
const INSTAGRAM_ORIGINS = [
  'https://www.instagram.com',
  'https://api.instagram.com',
  'https://graph.instagram.com',
  'https://www.facebook.com',
  'https://graph.facebook.com',
]

/**
 * Instagram: the server-wide app from `INSTAGRAM_CLIENT_ID`/`INSTAGRAM_CLIENT_SECRET`, with the
 * login `INSTAGRAM_LOGIN` names (`instagram`, or `facebook` through the account's Page). Instagram
 * fetches media from the server's signed URLs, so media posts are refused with a clear issue
 * while `PUBLIC_URL` is not reachable from the internet.
 */
export const instagramPlatform = definePlatform({
  id: 'instagram',
  capabilities: instagramCapabilities,
  serverApp: ({ config }) => config.platformApps.instagram,
  adapter: (app, { config, publicURL, redirectURI }) =>
    withReachableMedia(
      instagram({
        ...app,
        redirectURI,
        login: config.meta.instagramLogin,
        ...(config.meta.instagramGraphVersion && {
          graphVersion: config.meta.instagramGraphVersion,
        }),
      }),
      publicURL,
    ),
  emulator: {
    // Hosted without Meta's spec validators: the package's node specs are files its tests read,
    // not something its `./testing` entry ships.
    async load(baseURL, app, { config, redirectURI }) {
      const { createInstagramEmulator } = await import('@post-scheduler/adapter-instagram/testing')
      const emulator = createInstagramEmulator({ ...app, redirectURIs: [redirectURI] })
      const real = (url: URL) => new URL(url.href.replace(`${baseURL}/`, 'https://'))
      const authorization =
        config.meta.instagramLogin === 'facebook'
          ? `www.facebook.com/${config.meta.instagramGraphVersion ?? 'v23.0'}/dialog/oauth`
          : 'www.instagram.com/oauth/authorize'
      return {
        handlers: emulator.handlers,
        authorizationURL: `${baseURL}/${authorization}`,
        // The emulated Instagram has one business account (and, with Facebook Login, its Page).
        approve: (url) => emulator.approve(real(url)),
        origins: INSTAGRAM_ORIGINS,
      }
    },
    adapter: (app, _baseURL, { config, redirectURI }) =>
      instagram({
        ...app,
        redirectURI,
        login: config.meta.instagramLogin,
        ...(config.meta.instagramGraphVersion && {
          graphVersion: config.meta.instagramGraphVersion,
        }),
        // The emulator's containers finish on the second read: no need to wait between reads.
        containerPolling: { attempts: 4, intervalMs: 50 },
      }),
  },
})
