import { and, asc, eq, like, or } from 'drizzle-orm'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { dumpDatabase } from '../../test/dump.ts'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { auditLog, invitations, rateLimits, workspaceMembers } from '../db/schema/index.ts'

const server = await startTestServer()
const { request, mail } = server
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)
// Every test signs several people up and in from the same test address; the per-address sign-up
// and sign-in limits are not what these tests are about.
beforeEach(() =>
  db
    .delete(rateLimits)
    .where(or(like(rateLimits.key, 'sign-up:%'), like(rateLimits.key, 'sign-in:%'))),
)

type Tenant = Awaited<ReturnType<typeof server.createTenant>>
type Person = Awaited<ReturnType<typeof server.signUp>>

const json = async <T = Record<string, unknown>>(response: Response) => (await response.json()) as T

const invite = (tenant: Tenant, email: string, role = 'member', token = tenant.apiKey) =>
  request(`/v1/workspaces/${tenant.workspaceId}/invitations`, { token, json: { email, role } })

const invitationCode = (email: string) => mail.codeFor(email, /You are invited/)

const accept = (person: Person, code: string) =>
  request('/v1/invitations/accept', { token: person.token, json: { token: code } })

/** A new person who joined the tenant's workspace with `role`. */
async function addMember(tenant: Tenant, role: 'owner' | 'admin' | 'member') {
  const person = await server.signUp()
  await invite(tenant, person.email, role === 'owner' ? 'admin' : role)
  expect((await accept(person, invitationCode(person.email))).status).toBe(200)
  if (role === 'owner') {
    const promoted = await request(
      `/v1/workspaces/${tenant.workspaceId}/members/${person.userId}`,
      {
        method: 'PATCH',
        token: tenant.person.token,
        json: { role: 'owner' },
      },
    )
    expect(promoted.status).toBe(200)
  }
  return person
}

const rolesOf = async (workspaceId: string) =>
  Object.fromEntries(
    (
      await db
        .select({ userId: workspaceMembers.userId, role: workspaceMembers.role })
        .from(workspaceMembers)
        .where(eq(workspaceMembers.workspaceId, workspaceId))
    ).map((row) => [row.userId, row.role]),
  )

const auditOf = (workspaceId: string, action: string) =>
  db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.workspaceId, workspaceId), eq(auditLog.action, action)))
    .orderBy(asc(auditLog.id))

const invitationRows = (workspaceId: string) =>
  db.select().from(invitations).where(eq(invitations.workspaceId, workspaceId))

const memberPath = (tenant: Tenant, userId: string) =>
  `/v1/workspaces/${tenant.workspaceId}/members/${userId}`

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
