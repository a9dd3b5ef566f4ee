import { createLinkedInEmulator } from '@post-scheduler/adapter-linkedin/testing'
import { createXEmulator } from '@post-scheduler/adapter-x/testing'
import { setupServer } from 'msw/node'
import { afterAll, describe, expect, it } from 'vitest'
import { type Connection, connectionHelpers, local } from '../../test/connections.ts'
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

const server = await startTestServer({ platformApps: { x: xApp, linkedin: linkedinApp } })
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
