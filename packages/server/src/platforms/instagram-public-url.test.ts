import { createInstagramEmulator } from '@post-scheduler/adapter-instagram/testing'
import { setupServer } from 'msw/node'
import { afterAll, describe, expect, it } from 'vitest'
import { connectionHelpers, RETURN_URL } from '../../test/connections.ts'
import { fileForm, makeImage, mediaTestConfig } from '../../test/media.ts'
import { startTestServer } from '../../test/server.ts'

// Instagram fetches each image from the server's signed media URL: a server at a loopback
// PUBLIC_URL (as in development without PLATFORM_EMULATORS) must say so, not fail obscurely.
const app = { clientId: 'ig-test-app', clientSecret: 'ig-test-secret' }
const publicURL = 'http://127.0.0.1:3000'
const emulator = createInstagramEmulator({
  ...app,
  redirectURIs: [`${publicURL}/v1/oauth/instagram/callback`],
})
const platforms = setupServer(...emulator.handlers)
platforms.listen()
afterAll(() => platforms.close())

const server = await startTestServer({
  publicURL,
  platformApps: { x: undefined, linkedin: undefined, instagram: app },
  media: await mediaTestConfig(),
})
const { request } = server
const { tenantWithProfile } = connectionHelpers(server)

describe('Instagram with a PUBLIC_URL the internet cannot reach', () => {
  it('refuses a media post with an issue naming PUBLIC_URL', async () => {
    const tenant = await tenantWithProfile()
    const started = await request(`/v1/profiles/${tenant.profileId}/connections`, {
      token: tenant.apiKey,
      json: { platform: 'instagram', returnURL: RETURN_URL },
    })
    expect(started.status).toBe(201)
    const connection = (await started.json()) as { authorizationURL: string }
    const { code, state } = await emulator.approve(new URL(connection.authorizationURL))
    const callback = await request(`/v1/oauth/instagram/callback?code=${code}&state=${state}`)
    expect(callback.status).toBe(302)
    const { data } = (await (
      await request('/v1/accounts?platform=instagram', { token: tenant.apiKey })
    ).json()) as { data: { id: string }[] }
    expect(data).toHaveLength(1)

    const upload = await server.scheduler.app.request('/v1/media', {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.apiKey}` },
      body: fileForm(await makeImage('jpeg', 1080, 1080), 'photo.jpg'),
    })
    expect(upload.status).toBe(201)
    const { id: mediaId } = (await upload.json()) as { id: string }
    const created = await request('/v1/posts', {
      token: tenant.apiKey,
      json: {
        accountIds: [data[0]?.id],
        content: { text: 'Hello', mediaIds: [mediaId] },
        publishNow: true,
      },
    })
    expect(created.status).toBe(422)
    const problem = (await created.json()) as {
      issues: { path: (string | number)[]; code: string; message: string }[]
    }
    expect(problem.issues).toEqual([
      {
        location: 'body',
        path: ['targets', 'instagram', 'media', 0],
        code: 'MEDIA_URL_UNREACHABLE',
        message: expect.stringContaining(`PUBLIC_URL ${publicURL} is not reachable`),
      },
    ])
    expect(emulator.media()).toHaveLength(0)
  })
})
