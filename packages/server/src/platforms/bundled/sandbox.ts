import { createHmac } from 'node:crypto'
import {
  createSandboxPlatform,
  sandbox,
  sandboxCapabilities,
} from '@post-scheduler/adapter-sandbox'
import { createPostgresSandboxStore } from '../../sandbox/store.ts'
import { definePlatform, type OAuthApp } from '../definition.ts'

const SANDBOX_PATH = '/sandbox'
const SANDBOX_CLIENT_PREFIX = 'post-scheduler.'

/** The client id of a workspace's sandbox client. */
const sandboxClientId = (workspaceId: string) => `${SANDBOX_CLIENT_PREFIX}${workspaceId}`

/**
 * The sandbox: a fake network this server hosts at `/sandbox` (its state in PostgreSQL), with a
 * client per workspace so the accounts people name on its consent page are the workspace's own.
 * The clients' secrets derive from the server's key, so nobody outside the server can use a
 * workspace's client to read what its accounts posted.
 */
export const sandboxPlatform = definePlatform({
  id: 'sandbox',
  capabilities: sandboxCapabilities,
  adapter: (app, { publicURL, redirectURI }) =>
    sandbox({ ...app, baseURL: `${publicURL}${SANDBOX_PATH}`, redirectURI }),
  hosted: {
    path: SANDBOX_PATH,
    start({ config, db, deriveSecret, publicURL, redirectURI }) {
      const secretKey = deriveSecret('sandbox-client-secrets')
      const sandboxApp = (clientId: string): OAuthApp => ({
        clientId,
        clientSecret: createHmac('sha256', secretKey).update(clientId).digest('base64url'),
      })
      const handle = createSandboxPlatform({
        store: createPostgresSandboxStore(db),
        baseURL: `${publicURL}${SANDBOX_PATH}`,
        clients: (clientId) =>
          clientId.startsWith(SANDBOX_CLIENT_PREFIX)
            ? { ...sandboxApp(clientId), redirectURIs: [redirectURI] }
            : undefined,
        latencyMs: config.sandboxLatencyMs,
      })
      return {
        handle,
        workspaceApp: (workspaceId) => sandboxApp(sandboxClientId(workspaceId)),
        // Calls to the sandbox go straight to its handler: no network, same process.
        callOptions: { fetch: async (input, init) => handle(new Request(input, init)) },
      }
    },
  },
})
