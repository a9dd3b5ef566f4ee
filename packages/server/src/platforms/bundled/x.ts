import { x, xCapabilities } from '@post-scheduler/adapter-x'
import { definePlatform } from '../definition.ts'

/** X (Twitter): the server-wide app from `X_CLIENT_ID`/`X_CLIENT_SECRET`. */
export const xPlatform = definePlatform({
  id: 'x',
  capabilities: xCapabilities,
  serverApp: ({ config }) => config.platformApps.x,
  adapter: (app, { redirectURI }) => x({ ...app, redirectURI }),
  emulator: {
    async load(baseURL, app) {
      const { createXEmulator } = await import('@post-scheduler/adapter-x/testing')
      const emulator = createXEmulator({
        ...app,
        apiBaseURL: `${baseURL}/api`,
        authorizationURL: `${baseURL}/oauth/authorize`,
      })
      return {
        handlers: emulator.handlers,
        authorizationURL: `${baseURL}/oauth/authorize`,
        approve: (url, person) =>
          emulator.approve(url, { name: person.name, username: person.username }),
      }
    },
    adapter: (app, baseURL, { redirectURI }) =>
      x({
        ...app,
        redirectURI,
        apiBaseURL: `${baseURL}/api`,
        authorizationURL: `${baseURL}/oauth/authorize`,
      }),
  },
})
