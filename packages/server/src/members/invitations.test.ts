import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { dumpDatabase } from '../../test/dump.ts'
import { startMembersTest, type Tenant } from '../../test/members.ts'
import { invitations, workspaceMembers } from '../db/schema/index.ts'

const {
  server,
  request,
  mail,
  db,
  json,
  invite,
  invitationCode,
  accept,
  addMember,
  rolesOf,
  auditOf,
  invitationRows,
} = await startMembersTest()

describe('invitations', () => {
  it('email a code that makes the invited person a member with the role, recorded in the audit log', async () => {
    const tenant = await server.createTenant()
    const person = await server.signUp()
    const created = await invite(tenant, person.email.toUpperCase(), 'admin', tenant.person.token)
    expect(created.status).toBe(201)
    const invitation = await json<{ id: string }>(created)
    expect(invitation).toMatchObject({
      email: person.email,
      role: 'admin',
      invitedBy: tenant.person.userId,
      acceptedAt: null,
      revokedAt: null,
    })
    expect(JSON.stringify(invitation)).not.toMatch(/token|code/i)

    const code = invitationCode(person.email)
    const dump = await dumpDatabase(server.databaseURL)
    expect(dump).not.toContain(code)

    const accepted = await accept(person, code)
    expect(accepted.status).toBe(200)
    expect(await json(accepted)).toMatchObject({
      workspaceId: tenant.workspaceId,
      userId: person.userId,
      role: 'admin',
    })
    expect((await rolesOf(tenant.workspaceId))[person.userId]).toBe('admin')
    expect(await auditOf(tenant.workspaceId, 'invitation.created')).toHaveLength(1)
    expect(await auditOf(tenant.workspaceId, 'invitation.accepted')).toMatchObject([
      { targetId: invitation.id, subjectUserId: person.userId, actorId: person.userId },
    ])
    expect(await auditOf(tenant.workspaceId, 'member.added')).toMatchObject([
      { subjectUserId: person.userId, details: { role: 'admin' } },
    ])
  })

  it('work once: a used code is TOKEN_INVALID', async () => {
    const tenant = await server.createTenant()
    const person = await server.signUp()
    await invite(tenant, person.email)
    const code = invitationCode(person.email)
    expect((await accept(person, code)).status).toBe(200)
    const again = await accept(person, code)
    expect(again.status).toBe(400)
    expect(await json(again)).toMatchObject({ code: 'TOKEN_INVALID' })
    expect(await auditOf(tenant.workspaceId, 'member.added')).toHaveLength(1)
  })

  it.each([
    ['an unknown code', async () => 'a'.repeat(26)],
    [
      'an expired code',
      async (tenant: Tenant, email: string) => {
        await invite(tenant, email)
        await db
          .update(invitations)
          .set({ expiresAt: new Date(Date.now() - 1000) })
          .where(eq(invitations.workspaceId, tenant.workspaceId))
        return invitationCode(email)
      },
    ],
    [
      'a revoked code',
      async (tenant: Tenant, email: string) => {
        const invitation = await json<{ id: string }>(await invite(tenant, email))
        const revoked = await request(
          `/v1/workspaces/${tenant.workspaceId}/invitations/${invitation.id}`,
          { method: 'DELETE', token: tenant.apiKey },
        )
        expect(revoked.status).toBe(200)
        return invitationCode(email)
      },
    ],
    [
      'a code replaced by a newer invitation',
      async (tenant: Tenant, email: string) => {
        await invite(tenant, email)
        const first = invitationCode(email)
        await invite(tenant, email)
        return first
      },
    ],
  ])('refuse %s with TOKEN_INVALID and add no one', async (_, codeFor) => {
    const tenant = await server.createTenant()
    const person = await server.signUp()
    const code = await codeFor(tenant, person.email)
    const response = await accept(person, code)
    expect(response.status).toBe(400)
    expect(await json(response)).toMatchObject({ code: 'TOKEN_INVALID' })
    expect(Object.keys(await rolesOf(tenant.workspaceId))).toEqual([tenant.person.userId])
    expect(await auditOf(tenant.workspaceId, 'member.added')).toEqual([])
  })

  it('cannot be accepted by a person with another address, and stay pending for the invited one', async () => {
    const tenant = await server.createTenant()
    const invited = await server.signUp()
    const someoneElse = await server.signUp()
    await invite(tenant, invited.email)
    const code = invitationCode(invited.email)
    const refused = await accept(someoneElse, code)
    expect(refused.status).toBe(403)
    const problem = await json<{ code: string; detail: string }>(refused)
    expect(problem.code).toBe('FORBIDDEN')
    expect(problem.detail).not.toContain(invited.email)
    expect(Object.keys(await rolesOf(tenant.workspaceId))).toEqual([tenant.person.userId])
    expect((await accept(invited, code)).status).toBe(200)
  })

  it('cannot be accepted before the invited address is confirmed', async () => {
    const tenant = await server.createTenant()
    const email = `unconfirmed-${crypto.randomUUID()}@example.com`
    const password = 'correct horse battery staple'
    await request('/v1/users', {
      json: { name: 'Unconfirmed', email, password, dateOfBirth: '1990-01-01' },
    })
    const signedIn = await json<{ token: string }>(
      await request('/v1/sessions', { json: { email, password } }),
    )
    await invite(tenant, email)
    const response = await request('/v1/invitations/accept', {
      token: signedIn.token,
      json: { token: invitationCode(email) },
    })
    expect(response.status).toBe(403)
    expect(await json(response)).toMatchObject({
      code: 'FORBIDDEN',
      detail: expect.stringMatching(/Confirm/),
    })
    expect(Object.keys(await rolesOf(tenant.workspaceId))).toEqual([tenant.person.userId])
    expect((await invitationRows(tenant.workspaceId))[0]?.acceptedAt).toBeNull()
  })

  it('add the person once when the same code is sent twice at the same moment', async () => {
    const tenant = await server.createTenant()
    const person = await server.signUp()
    await invite(tenant, person.email)
    const code = invitationCode(person.email)
    const statuses = (await Promise.all([accept(person, code), accept(person, code)])).map(
      (response) => response.status,
    )
    expect(statuses.sort()).toEqual([200, 400])
    expect(await auditOf(tenant.workspaceId, 'member.added')).toHaveLength(1)
  })

  it('cannot be accepted without signing in as a person', async () => {
    const tenant = await server.createTenant()
    const person = await server.signUp()
    await invite(tenant, person.email)
    const code = invitationCode(person.email)
    const withKey = await request('/v1/invitations/accept', {
      token: tenant.apiKey,
      json: { token: code },
    })
    expect(withKey.status).toBe(401)
    expect((await request('/v1/invitations/accept', { json: { token: code } })).status).toBe(401)
    expect((await invitationRows(tenant.workspaceId))[0]?.acceptedAt).toBeNull()
  })

  it('answer CONFLICT to someone who is already a member, keeping the code unused', async () => {
    const tenant = await server.createTenant()
    const person = await server.signUp()
    await invite(tenant, person.email)
    const code = invitationCode(person.email)
    await db
      .insert(workspaceMembers)
      .values({ workspaceId: tenant.workspaceId, userId: person.userId, role: 'member' })
    const response = await accept(person, code)
    expect(response.status).toBe(409)
    expect(await json(response)).toMatchObject({ code: 'CONFLICT' })
    expect((await invitationRows(tenant.workspaceId))[0]?.acceptedAt).toBeNull()
    expect(await auditOf(tenant.workspaceId, 'member.added')).toEqual([])
  })

  it('are refused for an address that already belongs to a member', async () => {
    const tenant = await server.createTenant()
    const response = await invite(tenant, tenant.person.email)
    expect(response.status).toBe(409)
    expect(await invitationRows(tenant.workspaceId)).toEqual([])
  })

  it.each([
    ['a malformed email', { email: 'not-an-email', role: 'member' }, ['email']],
    ['the owner role', { email: 'someone@example.com', role: 'owner' }, ['role']],
    ['an unknown role', { email: 'someone@example.com', role: 'superuser' }, ['role']],
    ['a missing role', { email: 'someone@example.com' }, ['role']],
  ])('refuse %s with 422 and send nothing', async (_, body, path) => {
    const tenant = await server.createTenant()
    const sentBefore = mail.sent.length
    const response = await request(`/v1/workspaces/${tenant.workspaceId}/invitations`, {
      token: tenant.apiKey,
      json: body,
    })
    expect(response.status).toBe(422)
    const problem = await json<{ code: string; issues: { path: string[] }[] }>(response)
    expect(problem.code).toBe('VALIDATION_FAILED')
    expect(problem.issues.map((issue) => issue.path)).toContainEqual(path)
    expect(await invitationRows(tenant.workspaceId)).toEqual([])
    expect(mail.sent.length).toBe(sentBefore)
  })

  it('need the admin scope', async () => {
    const tenant = await server.createTenant()
    const member = await addMember(tenant, 'member')
    const writeKey = await json<{ secret: string }>(
      await request('/v1/api-keys', {
        token: tenant.person.token,
        json: { name: 'no admin', scopes: ['read', 'write'] },
      }),
    )
    for (const token of [member.token, writeKey.secret]) {
      const response = await invite(tenant, 'someone@example.com', 'member', token)
      expect(response.status).toBe(403)
      expect(await json(response)).toMatchObject({ code: 'FORBIDDEN' })
      const list = await request(`/v1/workspaces/${tenant.workspaceId}/invitations`, { token })
      expect(list.status).toBe(403)
    }
    expect(
      (await invitationRows(tenant.workspaceId)).filter(
        (row) => row.email === 'someone@example.com',
      ),
    ).toEqual([])
  })

  it('are listed while pending, newest first, and revoking one is audited', async () => {
    const tenant = await server.createTenant()
    const accepted = await server.signUp()
    await invite(tenant, accepted.email)
    await accept(accepted, invitationCode(accepted.email))
    const revoked = await json<{ id: string }>(await invite(tenant, 'revoked@example.com'))
    await request(`/v1/workspaces/${tenant.workspaceId}/invitations/${revoked.id}`, {
      method: 'DELETE',
      token: tenant.apiKey,
    })
    await invite(tenant, 'first@example.com')
    await invite(tenant, 'second@example.com', 'admin')

    const list = await request(`/v1/workspaces/${tenant.workspaceId}/invitations`, {
      token: tenant.apiKey,
    })
    const page = await json<{ data: { email: string }[]; nextCursor: null }>(list)
    expect(page.data.map((row) => row.email)).toEqual(['second@example.com', 'first@example.com'])
    expect(page.nextCursor).toBeNull()
    expect(await auditOf(tenant.workspaceId, 'invitation.revoked')).toMatchObject([
      { targetId: revoked.id, actorType: 'api_key' },
    ])

    const again = await request(`/v1/workspaces/${tenant.workspaceId}/invitations/${revoked.id}`, {
      method: 'DELETE',
      token: tenant.apiKey,
    })
    expect(again.status).toBe(404)
    expect(await auditOf(tenant.workspaceId, 'invitation.revoked')).toHaveLength(1)
  })
})
