import postgres from 'postgres'
import { describe, expect, it } from 'vitest'
import { startTestServer } from '../../test/server.ts'

const server = await startTestServer()
const { request } = server

type Page = {
  data: { id: string; action: string; actor: { type: string; id: string } }[]
  nextCursor: string | null
}

describe('the audit log', () => {
  it('records key creation and revocation with who did it', async () => {
    const tenant = await server.createTenant()
    await request(`/v1/api-keys/${tenant.apiKeyId}`, {
      method: 'DELETE',
      token: tenant.person.token,
    })
    const page = (await (
      await request('/v1/audit-log?action=api_key.*', { token: tenant.person.token })
    ).json()) as Page
    expect(page.data.map((entry) => entry.action)).toEqual(['api_key.revoked', 'api_key.created'])
    expect(page.data[0]?.actor).toEqual({ type: 'user', id: tenant.person.userId })
  })

  it('is paginated newest first with a cursor', async () => {
    const tenant = await server.createTenant()
    for (let i = 0; i < 3; i++) {
      await request('/v1/api-keys', { token: tenant.apiKey, json: { name: `key ${i}` } })
    }
    const first = (await (
      await request('/v1/audit-log?limit=2', { token: tenant.apiKey })
    ).json()) as Page
    expect(first.data).toHaveLength(2)
    expect(first.nextCursor).not.toBeNull()
    const second = (await (
      await request(`/v1/audit-log?limit=2&cursor=${first.nextCursor}`, { token: tenant.apiKey })
    ).json()) as Page
    const ids = [...first.data, ...second.data].map((entry) => Number(entry.id))
    expect(ids).toEqual([...ids].sort((a, b) => b - a))
    expect(new Set(ids).size).toBe(ids.length)
    const bad = await request('/v1/audit-log?cursor=garbage', { token: tenant.apiKey })
    expect(bad.status).toBe(422)
  })

  it('is for admins only and shows only the caller’s workspace', async () => {
    const alice = await server.createTenant()
    const bob = await server.createTenant()
    const reader = (await (
      await request('/v1/api-keys', {
        token: alice.apiKey,
        json: { name: 'reader', scopes: ['read'] },
      })
    ).json()) as { secret: string }
    expect((await request('/v1/audit-log', { token: reader.secret })).status).toBe(403)
    const bobs = await (await request('/v1/audit-log?limit=100', { token: bob.apiKey })).text()
    expect(bobs).not.toContain(alice.workspaceId)
    expect(bobs).not.toContain(alice.apiKeyId)
  })

  it('cannot be changed or deleted by the application’s database role', async () => {
    await server.createTenant()
    const sql = postgres(server.databaseURL, { max: 1, onnotice: () => {} })
    try {
      await expect(sql`update post_scheduler.audit_log set action = 'forged'`).rejects.toThrow(
        /append-only/,
      )
      await expect(sql`delete from post_scheduler.audit_log`).rejects.toThrow(/append-only/)
      await expect(sql`truncate post_scheduler.audit_log`).rejects.toThrow(/append-only/)
      const [row] = await sql<
        { count: number }[]
      >`select count(*)::int as count from post_scheduler.audit_log`
      expect(row?.count).toBeGreaterThan(0)
    } finally {
      await sql.end()
    }
  })
})
