import { expect } from 'vitest'
import type { startTestServer } from './server.ts'

type TestServer = Awaited<ReturnType<typeof startTestServer>>
export type Tenant = Awaited<ReturnType<TestServer['createTenant']>> & { profileId: string }
export type Connection = {
  id: string
  status: string
  authorizationURL: string
  choices: { id: string; kind: string }[]
  connectedAccounts: { id: string }[]
}

export const RETURN_URL = 'https://app.example.com/connected'

/** The path and query of a URL on the test server. */
export const local = (url: string) => {
  const parsed = new URL(url)
  return `${parsed.pathname}${parsed.search}`
}

/** Connection helpers over the sandbox platform the test server hosts. */
export function connectionHelpers(server: TestServer) {
  const { request } = server

  /** A tenant whose workspace allows {@link RETURN_URL}, with its default profile. */
  async function tenantWithProfile(): Promise<Tenant> {
    const tenant = await server.createTenant()
    await request(`/v1/workspaces/${tenant.workspaceId}`, {
      method: 'PATCH',
      token: tenant.apiKey,
      json: { corsOrigins: [new URL(RETURN_URL).origin] },
    })
    const profiles = (await (await request('/v1/profiles', { token: tenant.apiKey })).json()) as {
      data: { id: string }[]
    }
    return { ...tenant, profileId: profiles.data[0]?.id as string }
  }

  /** Plays the person on the sandbox consent page; returns where the sandbox sends them. */
  async function consent(
    authorizationURL: string,
    decision: 'allow' | 'deny' = 'allow',
    name = `Ada ${crypto.randomUUID().slice(0, 8)}`,
  ) {
    const page = await server.scheduler.app.request(local(authorizationURL))
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<form')
    const form = new URLSearchParams(new URL(authorizationURL).searchParams)
    form.set('decision', decision)
    // A sandbox user of its own per consent (as distinct people would be), unless named.
    form.set('name', name)
    const decided = await server.scheduler.app.request('/sandbox/oauth/authorize', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    })
    expect(decided.status).toBe(303)
    return decided.headers.get('location') as string
  }

  /** Starts connecting the sandbox to the tenant's profile. */
  async function start(tenant: Tenant, body: Record<string, unknown> = {}) {
    const response = await request(`/v1/profiles/${tenant.profileId}/connections`, {
      token: tenant.apiKey,
      json: { platform: 'sandbox', returnURL: RETURN_URL, ...body },
    })
    expect(response.status).toBe(201)
    return (await response.json()) as Connection
  }

  /** Runs the whole flow and connects the login's personal account; returns its id. */
  async function connectPersonalAccount(tenant: Tenant, as: { name?: string } = {}) {
    const connection = await start(tenant)
    const callback = await request(
      local(await consent(connection.authorizationURL, 'allow', as.name)),
    )
    expect(callback.status).toBe(302)
    const pending = (await (
      await request(`/v1/connections/${connection.id}`, { token: tenant.apiKey })
    ).json()) as Connection
    const personal = pending.choices.find((choice) => choice.kind === 'personal')
    const done = await request(`/v1/connections/${connection.id}/accounts`, {
      token: tenant.apiKey,
      json: { accountIds: [personal?.id] },
    })
    expect(done.status).toBe(200)
    const body = (await done.json()) as Connection
    return { connection: body, accountId: body.connectedAccounts[0]?.id as string }
  }

  return { tenantWithProfile, consent, start, connectPersonalAccount }
}
