import type { Config } from '@post-scheduler/server'
import { connectTestDatabases, startTestServer } from '@post-scheduler/server/testing'
import { afterAll, inject } from 'vitest'
import { type ClientOptions, createClient, type PostSchedulerClient } from '../src/index.ts'

/** Where the sandbox's connections send people back (the workspace allows its origin). */
export const RETURN_URL = 'https://app.example.com/connected'

/**
 * A real server (the server's `./testing` entry) on its own database copied from the run's
 * template, listening on a loopback port so the SDK talks to it over real HTTP. Stopped, and its
 * database dropped, after the file's tests.
 */
export async function startSDKTestServer(
  config: Partial<Config> = {},
  options: { worker?: boolean } = {},
) {
  const databases = connectTestDatabases({
    adminURL: inject('adminDatabaseURL'),
    templateDatabase: inject('templateDatabase'),
  })
  const databaseURL = await databases.createDatabase()
  const server = await startTestServer({ databaseURL, config, worker: options.worker ?? false })
  afterAll(async () => {
    await server.stop()
    await databases.dropDatabase(databaseURL)
  })
  const url = server.url as string

  /** A client of this server. */
  const clientFor = (
    auth: Pick<ClientOptions, 'apiKey' | 'token' | 'getToken'>,
    rest: Partial<ClientOptions> = {},
  ) => createClient({ baseURL: url, ...auth, ...rest })

  /** A new person, workspace and API key with every scope; the workspace allows {@link RETURN_URL}. */
  async function createTenant() {
    const tenant = await server.createTenant()
    const client = clientFor({ apiKey: tenant.apiKey })
    await client.workspaces.update(tenant.workspaceId, {
      corsOrigins: [new URL(RETURN_URL).origin],
    })
    return { ...tenant, client }
  }

  /** Connects the sandbox's personal account to `profileId` through the SDK; returns the account. */
  async function connectSandboxAccount(client: PostSchedulerClient, profileId: string) {
    const started = await client.connections.create(profileId, {
      platform: 'sandbox',
      returnURL: RETURN_URL,
    })
    const callback = await server.consentOnSandbox(started.authorizationURL)
    if (callback.status !== 302) throw new Error(`the OAuth callback answered ${callback.status}`)
    const choosing = await client.connections.get(started.id)
    const personal = choosing.choices.find((choice) => choice.kind === 'personal')
    const connected = await client.connections.selectAccounts(started.id, {
      accountIds: [personal?.id as string],
    })
    const [account] = connected.connectedAccounts
    if (!account) throw new Error('the sandbox connection connected no account')
    return account
  }

  return { ...server, url, clientFor, createTenant, connectSandboxAccount }
}
