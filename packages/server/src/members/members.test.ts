import { and, eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { startMembersTest } from '../../test/members.ts'
import { auditLog } from '../db/schema/index.ts'

const {
  server,
  request,
  db,
  json,
  invite,
  addMember,
  rolesOf,
  auditOf,
  invitationRows,
  memberPath,
} = await startMembersTest()

describe('listing members', () => {
  it('shows each member with their role, a page at a time in the order they joined', async () => {
    const tenant = await server.createTenant()
    const admin = await addMember(tenant, 'admin')
    const member = await addMember(tenant, 'member')

    const first = await request(`/v1/workspaces/${tenant.workspaceId}/members?limit=2`, {
      token: tenant.apiKey,
    })
    expect(first.status).toBe(200)
    const page1 = await json<{ data: { userId: string; role: string }[]; nextCursor: string }>(
      first,
    )
    expect(page1.data.map((row) => [row.userId, row.role])).toEqual([
      [tenant.person.userId, 'owner'],
      [admin.userId, 'admin'],
    ])
    expect(page1.data[0]).toMatchObject({
      email: tenant.person.email,
      workspaceId: tenant.workspaceId,
    })
    const second = await request(
      `/v1/workspaces/${tenant.workspaceId}/members?limit=2&cursor=${page1.nextCursor}`,
      { token: member.token },
    )
    expect(await json(second)).toMatchObject({
      data: [{ userId: member.userId, role: 'member' }],
      nextCursor: null,
    })
  })

  it('records in the audit log who viewed other people’s names and addresses', async () => {
    const tenant = await server.createTenant()
    const member = await addMember(tenant, 'member')
    await request(`/v1/workspaces/${tenant.workspaceId}/members`, { token: member.token })
    const [entry] = await db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.workspaceId, tenant.workspaceId),
          eq(auditLog.action, 'member.personal_data_viewed'),
        ),
      )
    expect(entry).toMatchObject({ actorType: 'user', actorId: member.userId })
    expect(entry?.details).toEqual({ userIds: [tenant.person.userId] })
  })

  it('refuses a cursor it did not give out with 422', async () => {
    const tenant = await server.createTenant()
    const response = await request(`/v1/workspaces/${tenant.workspaceId}/members?cursor=nonsense`, {
      token: tenant.apiKey,
    })
    expect(response.status).toBe(422)
    expect(await json(response)).toMatchObject({ code: 'VALIDATION_FAILED' })
  })
})

describe('changing roles', () => {
  it('lets an admin promote a member to admin, recorded with the member as subject', async () => {
    const tenant = await server.createTenant()
    const admin = await addMember(tenant, 'admin')
    const member = await addMember(tenant, 'member')
    const response = await request(memberPath(tenant, member.userId), {
      method: 'PATCH',
      token: admin.token,
      json: { role: 'admin' },
    })
    expect(response.status).toBe(200)
    expect(await json(response)).toMatchObject({ userId: member.userId, role: 'admin' })
    expect(await auditOf(tenant.workspaceId, 'member.role_changed')).toMatchObject([
      {
        subjectUserId: member.userId,
        actorId: admin.userId,
        details: { from: 'member', to: 'admin' },
      },
    ])
  })

  it('lets only an owner make or unmake owners', async () => {
    const tenant = await server.createTenant()
    const admin = await addMember(tenant, 'admin')
    const member = await addMember(tenant, 'member')
    const coOwner = await addMember(tenant, 'owner')
    const before = await rolesOf(tenant.workspaceId)
    const auditBefore = await auditOf(tenant.workspaceId, 'member.role_changed')

    for (const [token, userId, role] of [
      [admin.token, member.userId, 'owner'],
      [admin.token, admin.userId, 'owner'],
      [admin.token, coOwner.userId, 'member'],
      [tenant.apiKey, member.userId, 'owner'],
      [tenant.apiKey, coOwner.userId, 'admin'],
    ] as const) {
      const response = await request(memberPath(tenant, userId), {
        method: 'PATCH',
        token,
        json: { role },
      })
      expect(response.status).toBe(403)
      expect(await json(response)).toMatchObject({ code: 'FORBIDDEN' })
    }
    expect(await rolesOf(tenant.workspaceId)).toEqual(before)
    expect(await auditOf(tenant.workspaceId, 'member.role_changed')).toEqual(auditBefore)

    const demoted = await request(memberPath(tenant, coOwner.userId), {
      method: 'PATCH',
      token: tenant.person.token,
      json: { role: 'member' },
    })
    expect(demoted.status).toBe(200)
    expect((await rolesOf(tenant.workspaceId))[coOwner.userId]).toBe('member')
  })

  it('refuses to demote the last owner, even by themselves', async () => {
    const tenant = await server.createTenant()
    const response = await request(memberPath(tenant, tenant.person.userId), {
      method: 'PATCH',
      token: tenant.person.token,
      json: { role: 'admin' },
    })
    expect(response.status).toBe(409)
    const problem = await json<{ code: string; detail: string }>(response)
    expect(problem.code).toBe('CONFLICT')
    expect(problem.detail).toMatch(/last owner/)
    expect((await rolesOf(tenant.workspaceId))[tenant.person.userId]).toBe('owner')
    expect(await auditOf(tenant.workspaceId, 'member.role_changed')).toEqual([])
  })

  it('keeps an owner when two owners demote each other at the same moment', async () => {
    const tenant = await server.createTenant()
    const coOwner = await addMember(tenant, 'owner')
    const [first, second] = await Promise.all([
      request(memberPath(tenant, coOwner.userId), {
        method: 'PATCH',
        token: tenant.person.token,
        json: { role: 'member' },
      }),
      request(memberPath(tenant, tenant.person.userId), {
        method: 'PATCH',
        token: coOwner.token,
        json: { role: 'member' },
      }),
    ])
    const statuses = [first?.status, second?.status]
    expect(statuses).toContain(200)
    const roles = Object.values(await rolesOf(tenant.workspaceId))
    expect(roles.filter((role) => role === 'owner')).toHaveLength(1)
  })

  it('refuses an unknown role with 422', async () => {
    const tenant = await server.createTenant()
    const member = await addMember(tenant, 'member')
    const response = await request(memberPath(tenant, member.userId), {
      method: 'PATCH',
      token: tenant.apiKey,
      json: { role: 'superuser' },
    })
    expect(response.status).toBe(422)
    expect((await rolesOf(tenant.workspaceId))[member.userId]).toBe('member')
  })

  it('needs the admin scope', async () => {
    const tenant = await server.createTenant()
    const member = await addMember(tenant, 'member')
    const other = await addMember(tenant, 'member')
    const response = await request(memberPath(tenant, other.userId), {
      method: 'PATCH',
      token: member.token,
      json: { role: 'admin' },
    })
    expect(response.status).toBe(403)
    expect((await rolesOf(tenant.workspaceId))[other.userId]).toBe('member')
  })
})

describe('removing members', () => {
  it('lets an admin remove a member, recorded as member.removed', async () => {
    const tenant = await server.createTenant()
    const member = await addMember(tenant, 'member')
    const response = await request(memberPath(tenant, member.userId), {
      method: 'DELETE',
      token: tenant.apiKey,
    })
    expect(response.status).toBe(204)
    expect(await rolesOf(tenant.workspaceId)).not.toHaveProperty(member.userId)
    expect(await auditOf(tenant.workspaceId, 'member.removed')).toMatchObject([
      { subjectUserId: member.userId, actorType: 'api_key' },
    ])
  })

  it('lets anyone leave, recorded as member.left', async () => {
    const tenant = await server.createTenant()
    const member = await addMember(tenant, 'member')
    const response = await request(memberPath(tenant, member.userId), {
      method: 'DELETE',
      token: member.token,
    })
    expect(response.status).toBe(204)
    expect(await rolesOf(tenant.workspaceId)).not.toHaveProperty(member.userId)
    expect(await auditOf(tenant.workspaceId, 'member.left')).toMatchObject([
      { subjectUserId: member.userId, actorId: member.userId },
    ])
  })

  it('refuses a member removing someone else', async () => {
    const tenant = await server.createTenant()
    const member = await addMember(tenant, 'member')
    const other = await addMember(tenant, 'member')
    const response = await request(memberPath(tenant, other.userId), {
      method: 'DELETE',
      token: member.token,
    })
    expect(response.status).toBe(403)
    expect(await rolesOf(tenant.workspaceId)).toHaveProperty(other.userId)
  })

  it('refuses to let the last owner leave, and anyone but an owner remove an owner', async () => {
    const tenant = await server.createTenant()
    const admin = await addMember(tenant, 'admin')
    const leave = await request(memberPath(tenant, tenant.person.userId), {
      method: 'DELETE',
      token: tenant.person.token,
    })
    expect(leave.status).toBe(409)
    expect(await json(leave)).toMatchObject({ code: 'CONFLICT' })
    for (const token of [admin.token, tenant.apiKey]) {
      const removal = await request(memberPath(tenant, tenant.person.userId), {
        method: 'DELETE',
        token,
      })
      expect(removal.status).toBe(403)
    }
    expect((await rolesOf(tenant.workspaceId))[tenant.person.userId]).toBe('owner')
    expect(await auditOf(tenant.workspaceId, 'member.left')).toEqual([])
    expect(await auditOf(tenant.workspaceId, 'member.removed')).toEqual([])
  })

  it('lets an owner leave once another owner remains', async () => {
    const tenant = await server.createTenant()
    const coOwner = await addMember(tenant, 'owner')
    const leave = await request(memberPath(tenant, tenant.person.userId), {
      method: 'DELETE',
      token: tenant.person.token,
    })
    expect(leave.status).toBe(204)
    expect(await rolesOf(tenant.workspaceId)).toEqual({ [coOwner.userId]: 'owner' })
  })
})

describe('another tenant', () => {
  it('gets 404 for every member and invitation route of a workspace not theirs, and changes nothing', async () => {
    const victim = await server.createTenant()
    const member = await addMember(victim, 'member')
    const invitation = await json<{ id: string }>(await invite(victim, 'pending@example.com'))
    const attacker = await server.createTenant()
    const base = `/v1/workspaces/${victim.workspaceId}`
    const attempts: [string, string, unknown?][] = [
      ['GET', `${base}/members`],
      ['PATCH', `${base}/members/${member.userId}`, { role: 'admin' }],
      ['DELETE', `${base}/members/${member.userId}`],
      ['POST', `${base}/invitations`, { email: 'spy@example.com', role: 'admin' }],
      ['GET', `${base}/invitations`],
      ['DELETE', `${base}/invitations/${invitation.id}`],
    ]
    for (const token of [attacker.apiKey, attacker.person.token]) {
      for (const [method, path, body] of attempts) {
        const response = await request(path, { method, token, json: body })
        expect(response.status, `${method} ${path}`).toBe(404)
        expect(await json(response)).toMatchObject({ code: 'NOT_FOUND' })
      }
    }
    // The victim's ids under the attacker's own workspace are unknown there too.
    const own = `/v1/workspaces/${attacker.workspaceId}`
    for (const [method, path, body] of [
      ['PATCH', `${own}/members/${member.userId}`, { role: 'admin' }],
      ['DELETE', `${own}/members/${member.userId}`],
      ['DELETE', `${own}/invitations/${invitation.id}`],
    ] as const) {
      const response = await request(path, { method, token: attacker.apiKey, json: body })
      expect(response.status, `${method} ${path}`).toBe(404)
    }
    expect(await rolesOf(victim.workspaceId)).toEqual({
      [victim.person.userId]: 'owner',
      [member.userId]: 'member',
    })
    const rows = await invitationRows(victim.workspaceId)
    expect(rows.find((row) => row.id === invitation.id)?.revokedAt).toBeNull()
    expect(rows.map((row) => row.email)).not.toContain('spy@example.com')
  })
})
