import { afterAll, describe, expect, it } from 'vitest'
import { startEmulatedServer } from '../../test/emulated-server.ts'
import { fileForm, makeImage } from '../../test/media.ts'
import { bundledPlatforms } from '../platforms/bundled/index.ts'
import { instagramPlatform } from '../platforms/bundled/instagram.ts'
import { definePlatform, type PlatformEmulator } from '../platforms/definition.ts'

type Publication = {
  accountId: string
  status: string
  platformPostId: string | null
  url: string | null
  timeline: { outcome: string | null }[]
}
type Account = { id: string; platform: string; platformAccountId: string }

// The hosted Instagram emulator, with one fault the test can arm: `media_publish` is answered
// (the post is made) and the answer is then lost, as when a worker dies before recording it.
let loseNextPublishAnswer = false
const emulator = instagramPlatform.emulator as PlatformEmulator
const instagramLosingAnswers = definePlatform({
  ...instagramPlatform,
  emulator: {
    ...emulator,
    async load(baseURL, app, context) {
      const loaded = await emulator.load(baseURL, app, context)
      const { getResponse, http, HttpResponse } = await import('msw')
      const handlers = loaded.handlers as Parameters<typeof getResponse>[0]
      const losing = http.post(/\/media_publish$/, async ({ request }) => {
        if (!loseNextPublishAnswer) return undefined
        loseNextPublishAnswer = false
        await getResponse(handlers, request.clone())
        return HttpResponse.error()
      })
      return { ...loaded, handlers: [losing, ...handlers] }
    },
  },
})

const server = await startEmulatedServer({
  // Facebook Login: the business account is reached through its Page, chosen on connecting.
  config: {
    meta: {
      instagramLogin: 'facebook',
      instagramGraphVersion: undefined,
      facebookGraphVersion: undefined,
    },
  },
  platforms: bundledPlatforms.map((platform) =>
    platform.id === 'instagram' ? instagramLosingAnswers : platform,
  ),
})
afterAll(() => server.stop())
const { call, json, apiKey } = server

async function waitForPublications(postId: string): Promise<Publication[]> {
  for (let tries = 0; tries < 150; tries += 1) {
    const { publications } = await json<{ publications: Publication[] }>(
      await call(`/v1/posts/${postId}`, { token: apiKey }),
      200,
    )
    if (publications.every((p) => !['queued', 'scheduled', 'publishing'].includes(p.status)))
      return publications
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`post ${postId} did not finish publishing`)
}

const uploadJPEG = async () =>
  (
    await json<{ id: string }>(
      await call('/v1/media', {
        token: apiKey,
        body: fileForm(await makeImage('jpeg', 1080, 1080), 'photo.jpg'),
      }),
      201,
    )
  ).id

describe('PLATFORM_EMULATORS with Instagram and Facebook Pages', () => {
  let accounts: Record<string, Account> = {}

  it('lists both platforms as emulated and connects each, choosing the business account and a Page', async () => {
    const platforms = await json<{
      data: { id: string; emulated: boolean; configured: boolean }[]
    }>(await call('/v1/platforms', { token: apiKey }), 200)
    expect(
      platforms.data
        .filter((platform) => ['instagram', 'facebook'].includes(platform.id))
        .map((platform) => [platform.id, platform.emulated, platform.configured]),
    ).toEqual([
      ['instagram', true, true],
      ['facebook', true, true],
    ])

    const instagram = await server.connect('instagram', (choices) =>
      choices.filter((choice) => choice.kind === 'business').map((choice) => choice.id),
    )
    expect(instagram.status).toBe('connected')
    const facebook = await server.connect('facebook', (choices) => {
      expect(choices.map((choice) => choice.kind)).toEqual(['page', 'page'])
      return [choices[0]?.id as string]
    })
    expect(facebook.status, JSON.stringify(facebook)).toBe('connected')

    const listed = await json<{ data: Account[] }>(
      await call('/v1/accounts', { token: apiKey }),
      200,
    )
    accounts = Object.fromEntries(listed.data.map((account) => [account.platform, account]))
    expect(Object.keys(accounts).sort()).toEqual(['facebook', 'instagram'])
  })

  it('publishes a carousel to Instagram and a photo post to the Page, each with its URL', async () => {
    const mediaIds = [await uploadJPEG(), await uploadJPEG()]
    const text = `Carousel and photos ${crypto.randomUUID().slice(0, 8)}`
    const created = await json<{ id: string }>(
      await call('/v1/posts', {
        token: apiKey,
        json: {
          accountIds: [accounts.instagram?.id, accounts.facebook?.id],
          content: { text, mediaIds },
          publishNow: true,
        },
      }),
      201,
    )
    const publications = await waitForPublications(created.id)
    const of = (platform: string) =>
      publications.find((publication) => publication.accountId === accounts[platform]?.id)
    expect(of('instagram')).toMatchObject({
      status: 'published',
      url: expect.stringMatching(/^https:\/\/www\.instagram\.com\/p\//),
    })
    expect(of('facebook')).toMatchObject({
      status: 'published',
      url: expect.stringMatching(/^https:\/\/www\.facebook\.com\//),
    })

    const media = await listInstagramMedia()
    expect(media.filter((item) => item.id === of('instagram')?.platformPostId)).toHaveLength(1)
  })

  it('finds the post a lost media_publish answer made, records it, and publishes nothing twice', async () => {
    const mediaId = await uploadJPEG()
    const text = `Lost answer ${crypto.randomUUID().slice(0, 8)}`
    loseNextPublishAnswer = true
    const created = await json<{ id: string }>(
      await call('/v1/posts', {
        token: apiKey,
        json: {
          accountIds: [accounts.instagram?.id],
          content: { text, mediaIds: [mediaId] },
          publishNow: true,
        },
      }),
      201,
    )
    const [publication] = await waitForPublications(created.id)
    expect(loseNextPublishAnswer).toBe(false)
    expect(publication?.status).toBe('published')
    const outcomes = publication?.timeline.map((attempt) => attempt.outcome) ?? []
    expect(outcomes.at(-1)).toBe('reconciled')

    const copies = (await listInstagramMedia()).filter((item) => item.caption.includes(text))
    expect(copies.map((item) => item.id)).toEqual([publication?.platformPostId])
  })
})

/** The emulated business account's posts, read over HTTP through the emulator's Graph API. */
async function listInstagramMedia(): Promise<{ id: string; caption: string }[]> {
  const account = (
    await json<{ data: Account[] }>(await call('/v1/accounts', { token: apiKey }), 200)
  ).data.find((candidate) => candidate.platform === 'instagram') as Account
  const token = await server.accessToken(account.id)
  const { data } = await json<{ data: { id: string; caption: string }[] }>(
    await call(
      `/emulators/instagram/graph.facebook.com/v23.0/${account.platformAccountId}/media?access_token=${encodeURIComponent(token)}`,
    ),
    200,
  )
  return data
}
