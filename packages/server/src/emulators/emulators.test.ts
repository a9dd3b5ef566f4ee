import { createServer } from 'node:net'
import { linkedinDefaultScopes } from '@post-scheduler/adapter-linkedin'
import { eq } from 'drizzle-orm'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { TEST_KEYS, testConfig, testPublishing } from '../../test/config.ts'
import { createTestDatabase } from '../../test/database.ts'
import { fileForm, makeImage, mediaTestConfig } from '../../test/media.ts'
import { MailRecorder } from '../../test/server.ts'
import { tokenContext } from '../connections/tokens.ts'
import { createDatabaseClient } from '../db/client.ts'
import { connectedAccounts } from '../db/schema/index.ts'
import { StartupError } from '../errors/startup.ts'
import { createPostScheduler } from '../post-scheduler.ts'
import { createVault, parseKeyring } from '../vault/vault.ts'

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

type Connection = {
  id: string
  status: string
  authorizationURL: string
  choices: { id: string; kind: string }[]
  connectedAccounts: { id: string }[]
}
type Publication = { accountId: string; status: string; platformPostId: string | null }

describe('PLATFORM_EMULATORS', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it('connects emulated X and LinkedIn over HTTP and publishes a post with an image to both', async () => {
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
      }),
      mailTransport: mail,
    })
    await scheduler.start()
    afterAll(() => scheduler.stop())

    const call = async (
      path: string,
      init: { token?: string; json?: unknown; body?: FormData } = {},
    ) => {
      const response = await fetch(path.startsWith('http') ? path : `${url}${path}`, {
        method: init.json === undefined && init.body === undefined ? 'GET' : 'POST',
        headers: {
          ...(init.token && { authorization: `Bearer ${init.token}` }),
          ...(init.json !== undefined && { 'content-type': 'application/json' }),
        },
        body: init.body ?? (init.json === undefined ? undefined : JSON.stringify(init.json)),
        redirect: 'manual',
      })
      return response
    }
    const json = async <T>(response: Response, status: number): Promise<T> => {
      expect(response.status, await response.clone().text()).toBe(status)
      return (await response.json()) as T
    }

    // A person with a workspace and an API key, all over HTTP.
    const email = `emulators-${Date.now()}@example.com`
    const password = 'correct horse battery staple'
    await json(
      await call('/v1/users', {
        json: { name: 'Ada', email, password, dateOfBirth: '1990-01-01' },
      }),
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

    const platforms = await json<{
      data: { id: string; emulated: boolean; configured: boolean }[]
    }>(await call('/v1/platforms', { token: apiKey }), 200)
    expect(
      platforms.data.map((platform) => [platform.id, platform.emulated, platform.configured]),
    ).toEqual([
      ['sandbox', false, true],
      ['x', true, true],
      ['linkedin', true, true],
      ['instagram', true, true],
      ['facebook', true, true],
    ])

    // Each platform through its hosted consent page, as a browser would.
    const accountIds: Record<string, string> = {}
    for (const platform of ['x', 'linkedin']) {
      const started = await json<Connection>(
        await call(`/v1/profiles/${profileId}/connections`, {
          token: apiKey,
          // Reading a member's posts back (below) takes LinkedIn's r_member_social.
          json:
            platform === 'linkedin'
              ? { platform, scopes: [...linkedinDefaultScopes(), 'r_member_social'] }
              : { platform },
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
      let connection = await json<Connection>(
        await call(`/v1/connections/${started.id}`, { token: apiKey }),
        200,
      )
      if (connection.status === 'choosing') {
        const person = connection.choices.find((choice) => choice.kind !== 'organization')
        connection = await json<Connection>(
          await call(`/v1/connections/${started.id}/accounts`, {
            token: apiKey,
            json: { accountIds: [person?.id] },
          }),
          200,
        )
      }
      expect(connection.status).toBe('connected')
    }
    const accounts = await json<{ data: { id: string; platform: string }[] }>(
      await call('/v1/accounts', { token: apiKey }),
      200,
    )
    for (const account of accounts.data) accountIds[account.platform] = account.id
    expect(Object.keys(accountIds).sort()).toEqual(['linkedin', 'x'])

    const image = await json<{ id: string }>(
      await call('/v1/media', {
        token: apiKey,
        body: fileForm(await makeImage('png', 800, 600), 'photo.png'),
      }),
      201,
    )
    const text = `Hello from the emulators ${crypto.randomUUID().slice(0, 8)}`
    const created = await json<{ id: string }>(
      await call('/v1/posts', {
        token: apiKey,
        json: {
          accountIds: [accountIds.x, accountIds.linkedin],
          content: { text, mediaIds: [image.id] },
          publishNow: true,
        },
      }),
      201,
    )
    let publications: Publication[] = []
    for (let tries = 0; tries < 100; tries += 1) {
      const post = await json<{ publications: Publication[] }>(
        await call(`/v1/posts/${created.id}`, { token: apiKey }),
        200,
      )
      publications = post.publications
      if (
        publications.every(
          (publication) => !['queued', 'scheduled', 'publishing'].includes(publication.status),
        )
      )
        break
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    expect(publications.map((publication) => publication.status)).toEqual([
      'published',
      'published',
    ])
    const idOf = (platform: string) =>
      publications.find((publication) => publication.accountId === accountIds[platform])
        ?.platformPostId as string

    // Each emulator holds the post, with its image, under the id the publication recorded: read
    // back through the emulators' own APIs with the accounts' tokens.
    const vault = createVault(parseKeyring(TEST_KEYS))
    const db = createDatabaseClient(databaseURL, { max: 1 })
    const accessToken = async (accountId: string) => {
      const [row] = await db.db
        .select()
        .from(connectedAccounts)
        .where(eq(connectedAccounts.id, accountId))
      if (!row?.accessTokenSealed) throw new Error(`no token for ${accountId}`)
      return { token: vault.open(row.accessTokenSealed, tokenContext(row, 'access_token')), row }
    }
    try {
      const x = await accessToken(accountIds.x as string)
      const tweets = await json<{
        data: { id: string; text: string }[]
        includes?: { media: { type: string }[] }
      }>(
        await call(`/emulators/x/api/2/tweets?ids=${idOf('x')}&expansions=attachments.media_keys`, {
          token: x.token,
        }),
        200,
      )
      expect(tweets.data.map((tweet) => tweet.id)).toEqual([idOf('x')])
      expect(tweets.data[0]?.text).toContain(text)
      expect(tweets.includes?.media.map((media) => media.type)).toEqual(['photo'])

      const linkedin = await accessToken(accountIds.linkedin as string)
      const response = await fetch(
        `${url}/emulators/linkedin/api/rest/posts/${encodeURIComponent(idOf('linkedin'))}`,
        {
          headers: {
            authorization: `Bearer ${linkedin.token}`,
            'linkedin-version': '202608',
            'x-restli-protocol-version': '2.0.0',
          },
        },
      )
      const post = await json<{
        id: string
        commentary: string
        content?: { media?: { id: string } }
      }>(response, 200)
      expect(post.id).toBe(idOf('linkedin'))
      expect(post.commentary).toContain('Hello from the emulators')
      expect(post.content?.media?.id).toMatch(/^urn:li:image:/)
    } finally {
      await db.close()
    }
  })

  it('is refused at startup when NODE_ENV=production', async () => {
    vi.stubEnv('NODE_ENV', 'production')
    const scheduler = createPostScheduler({
      config: testConfig(await createTestDatabase(), { platformEmulators: true }),
      mailTransport: new MailRecorder(),
    })
    const failure = scheduler.start()
    await expect(failure).rejects.toBeInstanceOf(StartupError)
    await expect(failure).rejects.toThrow(
      /PLATFORM_EMULATORS=true is refused when NODE_ENV=production/,
    )
    await scheduler.stop()
  })
})
