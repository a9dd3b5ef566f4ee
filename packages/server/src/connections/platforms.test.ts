import { createLinkedInEmulator } from '@post-scheduler/adapter-linkedin/testing'
import { createXEmulator } from '@post-scheduler/adapter-x/testing'
import { setupServer } from 'msw/node'
import { afterAll, describe, expect, it } from 'vitest'
import { testPublishing } from '../../test/config.ts'
import { type Connection, connectionHelpers, local } from '../../test/connections.ts'
import { fileForm, makeImage, mediaTestConfig } from '../../test/media.ts'
import { startTestServer } from '../../test/server.ts'

// X and LinkedIn, emulated at the fetch boundary from their documented APIs (the adapters' own
// emulators); the server-wide OAuth apps come from configuration.
const xApp = { clientId: 'x-test-client', clientSecret: 'x-test-secret' }
const linkedinApp = { clientId: 'li-test-client', clientSecret: 'li-test-secret' }
const xEmulator = createXEmulator(xApp)
const linkedinEmulator = createLinkedInEmulator(linkedinApp)
const platforms = setupServer(...xEmulator.handlers, ...linkedinEmulator.handlers)
platforms.listen()
afterAll(() => platforms.close())

const server = await startTestServer(
  {
    platformApps: { x: xApp, linkedin: linkedinApp },
    media: await mediaTestConfig(),
    publishing: testPublishing({ deadlineSeconds: 30, maxAttempts: 3 }),
  },
  { worker: true },
)
const { request } = server
const { tenantWithProfile, start } = connectionHelpers(server)

type Account = { platform: string; kind: string; status: string; displayName: string }

describe('connecting real platforms through their emulators', () => {
  it('lists X and LinkedIn as configured', async () => {
    const tenant = await tenantWithProfile()
    const { data } = (await (await request('/v1/platforms', { token: tenant.apiKey })).json()) as {
      data: { id: string; configured: boolean }[]
    }
    expect(
      data
        .filter((platform) => platform.configured)
        .map((platform) => platform.id)
        .sort(),
    ).toEqual(['linkedin', 'sandbox', 'x'])
  })

  it('connects an X account through the OAuth flow with PKCE', async () => {
    const tenant = await tenantWithProfile()
    const connection = await start(tenant, { platform: 'x' })
    const url = new URL(connection.authorizationURL)
    expect(url.searchParams.get('redirect_uri')).toBe(
      'http://post-scheduler.test/v1/oauth/x/callback',
    )
    const { code, state } = await xEmulator.approve(url, {
      name: 'Grace Hopper',
      username: 'grace',
    })
    const callback = await request(`/v1/oauth/x/callback?code=${code}&state=${state}`)
    expect(callback.status).toBe(302)
    expect(new URL(callback.headers.get('location') as string).searchParams.get('status')).toBe(
      'connected',
    )
    const { data } = (await (
      await request('/v1/accounts?platform=x', { token: tenant.apiKey })
    ).json()) as {
      data: Account[]
    }
    expect(data).toEqual([
      expect.objectContaining({ platform: 'x', status: 'active', displayName: 'Grace Hopper' }),
    ])
  })

  it('connects a LinkedIn member or page, chosen after consent', async () => {
    const tenant = await tenantWithProfile()
    const connection = await start(tenant, { platform: 'linkedin' })
    const { code, state } = await linkedinEmulator.approve(new URL(connection.authorizationURL))
    const callback = await request(
      local(`http://post-scheduler.test/v1/oauth/linkedin/callback?code=${code}&state=${state}`),
    )
    expect(new URL(callback.headers.get('location') as string).searchParams.get('status')).toBe(
      'choosing',
    )
    const pending = (await (
      await request(`/v1/connections/${connection.id}`, { token: tenant.apiKey })
    ).json()) as Connection
    const kinds = pending.choices.map((choice) => choice.kind)
    expect(kinds).toContain('personal')
    expect(kinds).toContain('organization')
    const page = pending.choices.find((choice) => choice.kind === 'organization')
    const done = await request(`/v1/connections/${connection.id}/accounts`, {
      token: tenant.apiKey,
      json: { accountIds: [page?.id] },
    })
    expect(done.status).toBe(200)
    const { data } = (await (
      await request('/v1/accounts?platform=linkedin', { token: tenant.apiKey })
    ).json()) as {
      data: Account[]
    }
    expect(data).toEqual([expect.objectContaining({ kind: 'organization', status: 'active' })])
  })
})

describe('publishing to X and LinkedIn', () => {
  it('publishes a post with an image to both, with their platform ids and URLs', {
    timeout: 60_000,
  }, async () => {
    const tenant = await tenantWithProfile()
    const xConnection = await start(tenant, { platform: 'x' })
    const approved = await xEmulator.approve(new URL(xConnection.authorizationURL), {
      name: 'Ada',
      username: 'ada',
    })
    await request(`/v1/oauth/x/callback?code=${approved.code}&state=${approved.state}`)
    const liConnection = await start(tenant, { platform: 'linkedin' })
    const consent = await linkedinEmulator.approve(new URL(liConnection.authorizationURL))
    await request(`/v1/oauth/linkedin/callback?code=${consent.code}&state=${consent.state}`)
    const pending = (await (
      await request(`/v1/connections/${liConnection.id}`, { token: tenant.apiKey })
    ).json()) as Connection
    const member = pending.choices.find((choice) => choice.kind === 'personal')
    await request(`/v1/connections/${liConnection.id}/accounts`, {
      token: tenant.apiKey,
      json: { accountIds: [member?.id] },
    })
    const { data: accounts } = (await (
      await request('/v1/accounts', { token: tenant.apiKey })
    ).json()) as {
      data: { id: string; platform: string }[]
    }

    const uploaded = await server.scheduler.app.request('/v1/media', {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.apiKey}` },
      body: fileForm(await makeImage('jpeg', 1200, 800), 'launch.jpg'),
    })
    const image = (await uploaded.json()) as { id: string }
    const text = `Launch day ${crypto.randomUUID().slice(0, 8)}`
    const created = await request('/v1/posts', {
      token: tenant.apiKey,
      json: {
        accountIds: accounts.map((account) => account.id),
        content: { text, mediaIds: [image.id] },
        scheduledAt: new Date(Date.now() + 1000).toISOString(),
      },
    })
    expect(created.status, await created.clone().text()).toBe(201)
    const { id } = (await created.json()) as { id: string }

    let post:
      | {
          status: string
          publications: { platform: string; status: string; platformPostId: string; url: string }[]
        }
      | undefined
    for (let i = 0; i < 200; i++) {
      post = (await (
        await request(`/v1/posts/${id}`, { token: tenant.apiKey })
      ).json()) as typeof post
      if (
        post?.publications.every((publication) =>
          ['published', 'failed', 'unconfirmed'].includes(publication.status),
        )
      )
        break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(post?.status, JSON.stringify(post)).toBe('published')
    const byPlatform = Object.fromEntries(
      (post?.publications ?? []).map((publication) => [publication.platform, publication]),
    )
    const xPost = xEmulator.posts.find((candidate) => candidate.text.startsWith(text))
    expect(xPost?.mediaIds).toHaveLength(1)
    expect(byPlatform.x).toMatchObject({
      platformPostId: xPost?.id,
      url: expect.stringContaining(String(xPost?.id)),
    })
    const linkedinPost = linkedinEmulator
      .posts()
      .find((candidate) => candidate.commentary.startsWith(text))
    expect(linkedinPost?.content).toBeDefined()
    expect(byPlatform.linkedin).toMatchObject({
      platformPostId: linkedinPost?.id,
      url: expect.stringContaining('linkedin.com'),
    })
  })
})
