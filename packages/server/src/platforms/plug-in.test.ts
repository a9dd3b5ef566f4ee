import { describe, expect, it } from 'vitest'
import { testConfig, testPublishing } from '../../test/config.ts'
import { connectionHelpers, local, RETURN_URL } from '../../test/connections.ts'
import { createEchoPlatform } from '../../test/fixtures/echo-platform.ts'
import { finished, postHelpers } from '../../test/posts.ts'
import { startTestServer } from '../../test/server.ts'
import { bundledPlatforms, createPostScheduler, definePlatform } from '../index.ts'

const echo = createEchoPlatform()
const server = await startTestServer(
  { publishing: testPublishing() },
  { worker: true, platforms: [...bundledPlatforms, echo.definition] },
)
const { request } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { createPost, waitForPost } = postHelpers(server)

describe('a platform plugged in from outside the server', () => {
  it('is listed beside the bundled ones, connects through the hosted OAuth flow and publishes', async () => {
    const tenant = await tenantWithProfile()
    const listed = (await (await request('/v1/platforms', { token: tenant.apiKey })).json()) as {
      data: { id: string; configured: boolean; displayName: string }[]
    }
    expect(listed.data.map((platform) => platform.id)).toEqual([
      'sandbox',
      'x',
      'linkedin',
      'instagram',
      'facebook',
      'echo',
    ])
    expect(listed.data.find((platform) => platform.id === 'echo')).toMatchObject({
      displayName: 'Echo',
      configured: true,
    })

    const started = await request(`/v1/profiles/${tenant.profileId}/connections`, {
      token: tenant.apiKey,
      json: { platform: 'echo', returnURL: RETURN_URL },
    })
    expect(started.status).toBe(201)
    const connection = (await started.json()) as { id: string; authorizationURL: string }
    expect(
      connection.authorizationURL.startsWith('http://post-scheduler.test/echo/authorize?'),
    ).toBe(true)
    // Echo consents at once; its redirect carries the code back to this server's callback.
    const consented = await request(local(connection.authorizationURL))
    expect(consented.status).toBe(303)
    const callback = await request(local(consented.headers.get('location') as string))
    expect(callback.status).toBe(302)
    const connected = (await (
      await request(`/v1/connections/${connection.id}`, { token: tenant.apiKey })
    ).json()) as { status: string }
    // Echo's login gives one account, which is connected without asking.
    expect(connected.status).toBe('connected')
    const accounts = (await (
      await request('/v1/accounts?platform=echo', { token: tenant.apiKey })
    ).json()) as { data: { id: string; platformAccountId: string; displayName: string }[] }
    expect(accounts.data).toEqual([
      expect.objectContaining({ platformAccountId: 'echo-user', displayName: 'Echo User' }),
    ])
    const accountId = accounts.data[0]?.id as string

    const text = `Hello Echo ${crypto.randomUUID()}`
    const created = await createPost(tenant, accountId, { content: { text }, publishNow: true })
    const post = await waitForPost(tenant, created.id, finished)
    expect(post.publications[0]).toMatchObject({ platform: 'echo', status: 'published' })
    expect(echo.posts).toEqual([
      expect.objectContaining({
        id: post.publications[0]?.platformPostId,
        accountId: 'echo-user',
        text,
      }),
    ])
  })

  it('validates posts with its own capabilities', async () => {
    const tenant = await tenantWithProfile()
    const started = (await (
      await request(`/v1/profiles/${tenant.profileId}/connections`, {
        token: tenant.apiKey,
        json: { platform: 'echo', returnURL: RETURN_URL },
      })
    ).json()) as { authorizationURL: string }
    const consented = await request(local(started.authorizationURL))
    await request(local(consented.headers.get('location') as string))
    const accounts = (await (
      await request('/v1/accounts?platform=echo', { token: tenant.apiKey })
    ).json()) as { data: { id: string }[] }
    const sandbox = await connectPersonalAccount(tenant)
    const text = 'x'.repeat(281)

    // Echo takes 280 characters; the sandbox takes more.
    const tooLong = await request('/v1/posts', {
      token: tenant.apiKey,
      json: { accountIds: [accounts.data[0]?.id], content: { text }, publishNow: true },
    })
    expect(tooLong.status).toBe(422)
    expect(await tooLong.text()).toContain('TEXT_TOO_LONG')
    const fine = await request('/v1/posts', {
      token: tenant.apiKey,
      json: { accountIds: [sandbox.accountId], content: { text }, publishNow: true },
    })
    expect(fine.status).toBe(201)
  })

  it('keeps the bundled platforms working unchanged beside it', async () => {
    const tenant = await tenantWithProfile()
    const { accountId } = await connectPersonalAccount(tenant)
    const created = await createPost(tenant, accountId, {
      content: { text: `Sandbox still ${crypto.randomUUID()}` },
      publishNow: true,
    })
    const post = await waitForPost(tenant, created.id, finished)
    expect(post.publications[0]?.status).toBe('published')
  })
})

describe('platform definitions', () => {
  const config = testConfig('postgres://nobody@127.0.0.1:1/none')

  it('are refused when two share an id', () => {
    expect(() =>
      createPostScheduler({
        config,
        platforms: [...bundledPlatforms, { ...echo.definition, id: 'x' }],
      }),
    ).toThrow('Platform "x" is installed twice')
  })

  it('are refused with an id that cannot be a path segment', () => {
    expect(() =>
      createPostScheduler({
        config,
        platforms: [definePlatform({ ...echo.definition, id: 'Echo!' })],
      }),
    ).toThrow('Platform id "Echo!" must be lower-case')
  })

  it('are refused when hosted under a path of the server', () => {
    const hosted = echo.definition.hosted
    if (!hosted) throw new Error('echo is hosted')
    expect(() =>
      createPostScheduler({
        config,
        platforms: [definePlatform({ ...echo.definition, hosted: { ...hosted, path: '/v1' } })],
      }),
    ).toThrow('cannot be hosted at "/v1"')
  })
})
