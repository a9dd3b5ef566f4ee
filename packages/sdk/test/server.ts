import { afterAll, expect } from 'vitest'
import { serveHTTP } from '../../server/src/http/serve.ts'
import { local, RETURN_URL } from '../../server/test/connections.ts'
import { startTestServer } from '../../server/test/server.ts'
import { type ClientOptions, createClient, type PostSchedulerClient } from '../src/index.ts'

type Overrides = Parameters<typeof startTestServer>[0]

/**
 * The server's test server (its own database copied from the run's template), listening on a
 * loopback port so the SDK talks to it over real HTTP.
 */
export async function startSDKTestServer(
  overrides: Overrides = {},
  options: { worker?: boolean } = {},
) {
  const server = await startTestServer(overrides, options)
  const http = await serveHTTP((request) => server.scheduler.app.fetch(request), {
    host: '127.0.0.1',
    port: 0,
    tls: undefined,
  })
  afterAll(() => http.close(1_000))

  /** A client of this server. */
  const clientFor = (
    auth: Pick<ClientOptions, 'apiKey' | 'token' | 'getToken'>,
    rest: Partial<ClientOptions> = {},
  ) => createClient({ baseURL: http.url, ...auth, ...rest })

  /** A new person, workspace and API key with every scope; the workspace allows {@link RETURN_URL}. */
  async function createTenant() {
    const tenant = await server.createTenant()
    const client = clientFor({ apiKey: tenant.apiKey })
    await client.workspaces.update(tenant.workspaceId, {
      corsOrigins: [new URL(RETURN_URL).origin],
    })
    return { ...tenant, client }
  }

  /** Plays the person on the sandbox consent page and follows the redirect to the callback. */
  async function consentOnSandbox(authorizationURL: string) {
    const form = new URLSearchParams(new URL(authorizationURL).searchParams)
    form.set('decision', 'allow')
    form.set('name', `Ada ${crypto.randomUUID().slice(0, 8)}`)
    const decided = await fetch(`${http.url}/sandbox/oauth/authorize`, {
      method: 'POST',
      body: form,
      redirect: 'manual',
    })
    expect(decided.status).toBe(303)
    const callback = await fetch(`${http.url}${local(decided.headers.get('location') as string)}`, {
      redirect: 'manual',
    })
    expect(callback.status).toBe(302)
  }

  /** Connects the sandbox's personal account to `profileId` through the SDK; returns the account. */
  async function connectSandboxAccount(client: PostSchedulerClient, profileId: string) {
    const started = await client.connections.create(profileId, {
      platform: 'sandbox',
      returnURL: RETURN_URL,
    })
    await consentOnSandbox(started.authorizationURL)
    const choosing = await client.connections.get(started.id)
    const personal = choosing.choices.find((choice) => choice.kind === 'personal')
    const connected = await client.connections.selectAccounts(started.id, {
      accountIds: [personal?.id as string],
    })
    const [account] = connected.connectedAccounts
    if (!account) throw new Error('the sandbox connection connected no account')
    return account
  }

  return { ...server, url: http.url, clientFor, createTenant, connectSandboxAccount }
}
