import { describe, expect, it } from 'vitest'
import { startTestServer } from '../../test/server.ts'

const server = await startTestServer()
const { request, mail } = server

describe('API keys', () => {
  it('show their secret once, then only masked, and authenticate as the workspace', async () => {
    const { person, workspaceId } = await server.createTenant()
    const created = await request('/v1/api-keys', {
      token: person.token,
      json: { name: 'Backend', mode: 'test', scopes: ['read'] },
    })
    expect(created.status).toBe(201)
    const key = (await created.json()) as { id: string; secret: string; masked: string }
    expect(key.secret).toMatch(/^psk_test_[a-z2-7]{38}$/)
    expect(key.masked).toBe(`psk_test_…${key.secret.slice(-4)}`)

    const listed = await (await request('/v1/api-keys', { token: person.token })).text()
    expect(listed).toContain(key.id)
    expect(listed).not.toContain(key.secret)

    const workspace = await request(`/v1/workspaces/${workspaceId}`, { token: key.secret })
    expect(workspace.status).toBe(200)
    const used = (await (await request('/v1/api-keys', { token: person.token })).json()) as {
      data: { id: string; lastUsedAt: string | null }[]
    }
    expect(used.data.find((entry) => entry.id === key.id)?.lastUsedAt).not.toBeNull()
  })

  it('tell the owners by email when one is created', async () => {
    const { person } = await server.createTenant()
    await request('/v1/api-keys', { token: person.token, json: { name: 'CI deploys' } })
    const alert = mail.to(person.email).at(-1)
    expect(alert?.subject).toBe('A new API key was created')
    expect(alert?.text).toContain('CI deploys')
  })

  it('stop working the moment they are revoked', async () => {
    const { apiKey, apiKeyId, person } = await server.createTenant()
    const revoked = await request(`/v1/api-keys/${apiKeyId}`, {
      method: 'DELETE',
      token: person.token,
    })
    expect(revoked.status).toBe(200)
    expect(await revoked.json()).toMatchObject({ id: apiKeyId, revokedAt: expect.any(String) })
    const refused = await request('/v1/api-keys', { token: apiKey })
    expect(refused.status).toBe(401)
    const again = await request(`/v1/api-keys/${apiKeyId}`, {
      method: 'DELETE',
      token: person.token,
    })
    expect(again.status).toBe(404)
  })

  it('are limited to their scopes', async () => {
    const { person, workspaceId } = await server.createTenant()
    const readOnly = (await (
      await request('/v1/api-keys', {
        token: person.token,
        json: { name: 'reader', scopes: ['read'] },
      })
    ).json()) as { secret: string }
    const denied = await request('/v1/api-keys', {
      token: readOnly.secret,
      json: { name: 'escalation' },
    })
    expect(denied.status).toBe(403)
    expect(await denied.json()).toMatchObject({
      code: 'FORBIDDEN',
      detail: 'This operation needs the "admin" scope',
    })
    const patch = await request(`/v1/workspaces/${workspaceId}`, {
      method: 'PATCH',
      token: readOnly.secret,
      json: { name: 'renamed' },
    })
    expect(patch.status).toBe(403)
  })

  it('with a mistyped secret are refused as malformed', async () => {
    const { apiKey } = await server.createTenant()
    const response = await request('/v1/api-keys', { token: apiKey.slice(0, -2) })
    expect(await response.json()).toMatchObject({
      code: 'UNAUTHENTICATED',
      detail: expect.stringContaining('malformed'),
    })
  })

  it('refuse bad input and create nothing', async () => {
    const { person } = await server.createTenant()
    const before = (
      (await (await request('/v1/api-keys', { token: person.token })).json()) as { data: unknown[] }
    ).data.length
    for (const json of [
      { name: '' },
      { name: 'x', scopes: ['root'] },
      { name: 'x', mode: 'prod' },
      { name: 'x', scopes: [] },
    ]) {
      const response = await request('/v1/api-keys', { token: person.token, json })
      expect(response.status).toBe(422)
    }
    const after = (
      (await (await request('/v1/api-keys', { token: person.token })).json()) as { data: unknown[] }
    ).data.length
    expect(after).toBe(before)
  })

  it('cannot be managed by a member of another workspace', async () => {
    const alice = await server.createTenant()
    const bob = await server.createTenant()
    const response = await request(`/v1/api-keys/${alice.apiKeyId}`, {
      method: 'DELETE',
      token: bob.apiKey,
    })
    expect(response.status).toBe(404)
    expect((await request('/v1/api-keys', { token: alice.apiKey })).status).toBe(200)
  })
})

describe('workspaces', () => {
  it('are created with their creator as owner and listed with the role', async () => {
    const person = await server.signUp()
    const created = await request('/v1/workspaces', { token: person.token, json: { name: 'Acme' } })
    expect(created.status).toBe(201)
    const list = (await (await request('/v1/workspaces', { token: person.token })).json()) as {
      data: { name: string; role: string }[]
    }
    expect(list.data).toEqual([expect.objectContaining({ name: 'Acme', role: 'owner' })])
  })

  it('must be named in a header by someone who belongs to several', async () => {
    const person = await server.signUp()
    const first = (await (
      await request('/v1/workspaces', { token: person.token, json: { name: 'One' } })
    ).json()) as { id: string }
    await request('/v1/workspaces', { token: person.token, json: { name: 'Two' } })
    const ambiguous = await request('/v1/api-keys', { token: person.token })
    expect(await ambiguous.json()).toMatchObject({ code: 'WORKSPACE_REQUIRED' })
    const chosen = await request('/v1/api-keys', {
      token: person.token,
      headers: { 'post-scheduler-workspace': first.id },
    })
    expect(chosen.status).toBe(200)
  })

  it('accept a CORS allow-list of origins only', async () => {
    const { person, workspaceId } = await server.createTenant()
    const ok = await request(`/v1/workspaces/${workspaceId}`, {
      method: 'PATCH',
      token: person.token,
      json: { corsOrigins: ['https://app.example.com', 'http://localhost:5173'] },
    })
    expect(await ok.json()).toMatchObject({
      corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
    })
    const bad = await request(`/v1/workspaces/${workspaceId}`, {
      method: 'PATCH',
      token: person.token,
      json: { corsOrigins: ['https://app.example.com/path'] },
    })
    expect(bad.status).toBe(422)
  })
})
