import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { RETURN_URL } from '../../test/connections.ts'
import { DAY_MS, SYSTEM, startPrivacyTest } from '../../test/privacy.ts'
import { insertApiKey } from '../api-keys/service.ts'
import { SECRET_PREFIXES } from '../auth/principal.ts'
import { generateSecret } from '../auth/secrets.ts'
import { createWorkspace } from '../workspaces/service.ts'
import { runDueErasures } from './erasure.ts'

const { server, request, mail, db, services, connectPersonalAccount, json, populate } =
  await startPrivacyTest()
const subject = await populate()

describe('which workspaces an erasure deletes', () => {
  const later = () => new Date(Date.now() + 8 * DAY_MS)

  /** Invites a new person with `role` through `token` and has them accept; returns the person. */
  async function join(workspaceId: string, token: string, role: 'admin' | 'member') {
    const joiner = await server.signUp()
    await json(
      await request(`/v1/workspaces/${workspaceId}/invitations`, {
        token,
        headers: { 'post-scheduler-workspace': workspaceId },
        json: { email: joiner.email, role },
      }),
      201,
    )
    await json(
      await request('/v1/invitations/accept', {
        token: joiner.token,
        json: { token: mail.codeFor(joiner.email, /You are invited/) },
      }),
      200,
    )
    return joiner
  }

  const askDeletion = (someone: { token: string; password: string }) =>
    request('/v1/me/deletion', { token: someone.token, json: { password: someone.password } })

  it('keeps a workspace run by its API key, with its posts, accounts and keys, when its only people — a member and an admin — are erased', async () => {
    // No owner, as the development bootstrap makes one: the product's backend runs it with its key.
    const workspace = await createWorkspace(db, { name: 'Run by its key' }, SYSTEM)
    const apiKey = generateSecret(SECRET_PREFIXES.liveKey)
    await insertApiKey(
      db,
      workspace.id,
      { name: 'backend', mode: 'live', scopes: ['read', 'write', 'admin'] },
      apiKey,
      SYSTEM,
    )
    await json(
      await request(`/v1/workspaces/${workspace.id}`, {
        method: 'PATCH',
        token: apiKey,
        json: { corsOrigins: [new URL(RETURN_URL).origin] },
      }),
      200,
    )
    const profiles = await json<{ data: { id: string }[] }>(
      await request('/v1/profiles', { token: apiKey }),
      200,
    )
    const tenant = {
      ...subject.other,
      workspaceId: workspace.id,
      apiKey,
      profileId: profiles.data[0]?.id as string,
    }
    const { accountId } = await connectPersonalAccount(tenant)
    await json(
      await request('/v1/webhook-endpoints', {
        token: apiKey,
        json: { url: 'https://hooks.example.test/kept' },
      }),
      201,
    )
    const member = await join(workspace.id, apiKey, 'member')
    const admin = await join(workspace.id, apiKey, 'admin')
    // Each made something there: the member a post, the admin a key.
    const post = await json<{ id: string }>(
      await request('/v1/posts', {
        token: member.token,
        headers: { 'post-scheduler-workspace': workspace.id },
        json: {
          accountIds: [accountId],
          content: { text: 'Written by the member' },
          scheduledAt: new Date(Date.now() + 30 * DAY_MS).toISOString(),
        },
      }),
      201,
    )
    const adminKey = await json<{ id: string; secret: string }>(
      await request('/v1/api-keys', {
        token: admin.token,
        headers: { 'post-scheduler-workspace': workspace.id },
        json: { name: 'made by the admin', scopes: ['read'] },
      }),
      201,
    )

    await json(await askDeletion(member), 202)
    await json(await askDeletion(admin), 202)
    expect(mail.to(member.email).at(-1)?.text).toContain('No workspace will be deleted')
    expect(await runDueErasures(services, later())).toBe(2)

    for (const key of [apiKey, adminKey.secret]) {
      await json(await request(`/v1/workspaces/${workspace.id}`, { token: key }), 200)
    }
    const kept = await json<{ status: string }>(
      await request(`/v1/posts/${post.id}`, { token: apiKey }),
      200,
    )
    expect(kept.status).toBe('scheduled')
    const accounts = await json<{ data: { id: string; status: string }[] }>(
      await request('/v1/accounts', { token: apiKey }),
      200,
    )
    expect(accounts.data).toEqual([expect.objectContaining({ id: accountId, status: 'active' })])
    const endpoints = await json<{ data: unknown[] }>(
      await request('/v1/webhook-endpoints', { token: apiKey }),
      200,
    )
    expect(endpoints.data).toHaveLength(1)
    const members = await json<{ data: unknown[] }>(
      await request(`/v1/workspaces/${workspace.id}/members`, { token: apiKey }),
      200,
    )
    expect(members.data).toEqual([])
    // What they made stays, without who made it.
    const authors = await db.execute<{ created_by: string | null }>(sql`
      select created_by from post_scheduler.posts where id = ${post.id}
      union all select created_by from post_scheduler.api_keys where id = ${adminKey.id}`)
    expect(authors).toEqual([{ created_by: null }, { created_by: null }])
    for (const someone of [member, admin]) {
      expect((await request('/v1/me', { token: someone.token })).status).toBe(401)
    }
  })

  it('refuses to delete the only owner of a workspace others belong to, naming it, until someone else is owner', async () => {
    const owner = await server.createTenant()
    const colleague = await join(owner.workspaceId, owner.apiKey, 'admin')
    const refused = await json<{ code: string; detail: string; workspaces: unknown[] }>(
      await askDeletion(owner.person),
      409,
    )
    expect(refused.code).toBe('CONFLICT')
    expect(refused.workspaces).toEqual([
      { id: owner.workspaceId, name: `Workspace of ${owner.person.email}` },
    ])
    expect(refused.detail).toMatch(/only owner/)
    expect((await request('/v1/me/deletion', { token: owner.person.token })).status).toBe(404)

    await json(
      await request(`/v1/workspaces/${owner.workspaceId}/members/${colleague.userId}`, {
        method: 'PATCH',
        token: owner.person.token,
        headers: { 'post-scheduler-workspace': owner.workspaceId },
        json: { role: 'owner' },
      }),
      200,
    )
    await json(await askDeletion(owner.person), 202)
    expect(await runDueErasures(services, later())).toBe(1)

    await json(await request(`/v1/workspaces/${owner.workspaceId}`, { token: owner.apiKey }), 200)
    const members = await json<{ data: { userId: string; role: string }[] }>(
      await request(`/v1/workspaces/${owner.workspaceId}/members`, { token: owner.apiKey }),
      200,
    )
    expect(members.data.map(({ userId, role }) => ({ userId, role }))).toEqual([
      { userId: colleague.userId, role: 'owner' },
    ])
  })

  it('deletes a workspace whose owner is the only one in it, with its keys, and says so beforehand', async () => {
    const owner = await server.createTenant()
    await json(await askDeletion(owner.person), 202)
    expect(mail.to(owner.person.email).at(-1)?.text).toContain(
      `“Workspace of ${owner.person.email}” (${owner.workspaceId})`,
    )
    expect(await runDueErasures(services, later())).toBe(1)
    expect(
      (await request(`/v1/workspaces/${owner.workspaceId}`, { token: owner.apiKey })).status,
    ).toBe(401)
    const left = await db.execute(
      sql`select 1 from post_scheduler.workspaces where id = ${owner.workspaceId}`,
    )
    expect(left).toEqual([])
  })
})
