import { createServer } from 'node:net'
import { eq } from 'drizzle-orm'
import { expect } from 'vitest'
import type { Config } from '../src/config/config.ts'
import { tokenContext } from '../src/connections/tokens.ts'
import { createDatabaseClient } from '../src/db/client.ts'
import { connectedAccounts } from '../src/db/schema/index.ts'
import type { PlatformDefinition } from '../src/platforms/definition.ts'
import { createPostScheduler } from '../src/post-scheduler.ts'
import { createVault, parseKeyring } from '../src/vault/vault.ts'
import { TEST_KEYS, testConfig, testPublishing } from './config.ts'
import { createTestDatabase } from './database.ts'
import { mediaTestConfig } from './media.ts'
import { MailRecorder } from './server.ts'

/** A free TCP port, so the server's public URL can be known before it listens. */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      )
    })
  })

/** A connection as `GET /v1/connections/{id}` answers it. */
export type EmulatedConnection = {
  id: string
  status: string
  authorizationURL: string
  choices: { id: string; kind: string; name: string }[]
  connectedAccounts: { id: string }[]
}

/**
 * A real server listening on a free port with `PLATFORM_EMULATORS=true`, a person with a
 * workspace and an API key made over HTTP, and helpers to call it, to connect an account through
 * an emulator's hosted consent page and to read an account's access token back.
 */
export async function startEmulatedServer(
  options: { config?: Partial<Config>; platforms?: readonly PlatformDefinition[] } = {},
) {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const databaseURL = await createTestDatabase()
  const mail = new MailRecorder()
  const scheduler = createPostScheduler({
    config: testConfig(databaseURL, {
      port,
      publicURL: url,
      platformEmulators: true,
      publishing: testPublishing(),
      media: await mediaTestConfig(),
      ...options.config,
    }),
    mailTransport: mail,
    ...(options.platforms && { platforms: options.platforms }),
  })
  await scheduler.start()

  const call = (path: string, init: { token?: string; json?: unknown; body?: FormData } = {}) =>
    fetch(path.startsWith('http') ? path : `${url}${path}`, {
      method: init.json === undefined && init.body === undefined ? 'GET' : 'POST',
      headers: {
        ...(init.token && { authorization: `Bearer ${init.token}` }),
        ...(init.json !== undefined && { 'content-type': 'application/json' }),
      },
      body: init.body ?? (init.json === undefined ? undefined : JSON.stringify(init.json)),
      redirect: 'manual',
    })
  const json = async <T>(response: Response, status: number): Promise<T> => {
    expect(response.status, await response.clone().text()).toBe(status)
    return (await response.json()) as T
  }

  const email = `emulators-${crypto.randomUUID()}@example.com`
  const password = 'correct horse battery staple'
  await json(
    await call('/v1/users', { json: { name: 'Ada', email, password, dateOfBirth: '1990-01-01' } }),
    202,
  )
  await call('/v1/users/verify-email', {
    json: { token: mail.codeFor(email, /Confirm your email/) },
  })
  const { token } = await json<{ token: string }>(
    await call('/v1/sessions', { json: { email, password } }),
    201,
  )
  await json(await call('/v1/workspaces', { token, json: { name: 'Emulated' } }), 201)
  const { secret: apiKey } = await json<{ secret: string }>(
    await call('/v1/api-keys', {
      token,
      json: { name: 'test', scopes: ['read', 'write', 'admin'] },
    }),
    201,
  )
  const profiles = await json<{ data: { id: string }[] }>(
    await call('/v1/profiles', { token: apiKey }),
    200,
  )
  const profileId = profiles.data[0]?.id as string

  /**
   * Starts a connection, consents on the emulator's hosted page as a browser would, follows the
   * redirect to the callback, and when the login reaches several accounts chooses the ones
   * `choose` picks. The connection as it ends.
   */
  async function connect(
    platform: string,
    choose: (choices: EmulatedConnection['choices']) => string[] = () => [],
    body: Record<string, unknown> = {},
  ): Promise<EmulatedConnection> {
    const started = await json<EmulatedConnection>(
      await call(`/v1/profiles/${profileId}/connections`, {
        token: apiKey,
        json: { platform, ...body },
      }),
      201,
    )
    expect(started.authorizationURL.startsWith(`${url}/emulators/${platform}/`)).toBe(true)
    const page = await call(started.authorizationURL)
    const html = await page.text()
    expect([page.status, html]).toEqual([200, expect.stringContaining('<form method="post">')])
    const form = new URLSearchParams(
      [...html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map(
        ([, name, value]): [string, string] => [
          name as string,
          (value as string).replaceAll('&amp;', '&'),
        ],
      ),
    )
    form.set('name', 'Ada Lovelace')
    form.set('decision', 'allow')
    const decided = await fetch(started.authorizationURL, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
      redirect: 'manual',
    })
    expect(decided.status, await decided.clone().text()).toBe(303)
    const callback = decided.headers.get('location') as string
    expect(callback.startsWith(`${url}/v1/oauth/${platform}/callback?`)).toBe(true)
    expect((await call(callback)).status).toBeLessThan(400)
    const connection = await json<EmulatedConnection>(
      await call(`/v1/connections/${started.id}`, { token: apiKey }),
      200,
    )
    if (connection.status !== 'choosing') return connection
    return json<EmulatedConnection>(
      await call(`/v1/connections/${started.id}/accounts`, {
        token: apiKey,
        json: { accountIds: choose(connection.choices) },
      }),
      200,
    )
  }

  /** The access token the server keeps for an account, opened from the vault. */
  async function accessToken(accountId: string): Promise<string> {
    const db = createDatabaseClient(databaseURL, { max: 1 })
    try {
      const [row] = await db.db
        .select()
        .from(connectedAccounts)
        .where(eq(connectedAccounts.id, accountId))
      if (!row?.accessTokenSealed) throw new Error(`no token for ${accountId}`)
      const vault = createVault(parseKeyring(TEST_KEYS))
      return vault.open(row.accessTokenSealed, tokenContext(row, 'access_token'))
    } finally {
      await db.close()
    }
  }

  return {
    url,
    databaseURL,
    apiKey,
    profileId,
    call,
    json,
    connect,
    accessToken,
    stop: () => scheduler.stop(),
  }
}
