import { linkedinDefaultScopes } from '@post-scheduler/adapter-linkedin'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { testConfig } from '../../test/config.ts'
import { createTestDatabase } from '../../test/database.ts'
import { startEmulatedServer } from '../../test/emulated-server.ts'
import { fileForm, makeImage } from '../../test/media.ts'
import { MailRecorder } from '../../test/server.ts'
import { StartupError } from '../errors/startup.ts'
import { createPostScheduler } from '../post-scheduler.ts'

type Publication = { accountId: string; status: string; platformPostId: string | null }

describe('PLATFORM_EMULATORS', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it('connects emulated X and LinkedIn over HTTP and publishes a post with an image to both', async () => {
    const server = await startEmulatedServer()
    afterAll(() => server.stop())
    const { url, call, json, apiKey, accessToken } = server

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
    const x = await server.connect('x')
    expect(x.status).toBe('connected')
    // Reading a member's posts back (below) takes LinkedIn's r_member_social.
    const linkedin = await server.connect(
      'linkedin',
      (choices) =>
        choices.filter((choice) => choice.kind !== 'organization').map((choice) => choice.id),
      { scopes: [...linkedinDefaultScopes(), 'r_member_social'] },
    )
    expect(linkedin.status).toBe('connected')
    const accountIds: Record<string, string> = {}
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
    {
      const x = { token: await accessToken(accountIds.x as string) }
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

      const linkedin = { token: await accessToken(accountIds.linkedin as string) }
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
