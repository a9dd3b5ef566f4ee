import { and, asc, eq, like, or } from 'drizzle-orm'
import { afterAll, beforeEach, expect } from 'vitest'
import { createDatabaseClient } from '../src/db/client.ts'
import { auditLog, invitations, rateLimits, workspaceMembers } from '../src/db/schema/index.ts'
import { startTestServer } from './server.ts'

type TestServer = Awaited<ReturnType<typeof startTestServer>>
/** A workspace with its owner and API key, as the test server makes one. */
export type Tenant = Awaited<ReturnType<TestServer['createTenant']>>
/** A signed-up, signed-in person. */
export type Person = Awaited<ReturnType<TestServer['signUp']>>

/**
 * The members tests' world: a test server, a database client, and helpers to invite, accept,
 * add members and read roles, invitations and the audit log. Each test file starts its own.
 */
export async function startMembersTest() {
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

  const json = async <T = Record<string, unknown>>(response: Response) =>
    (await response.json()) as T

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

  return {
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
    memberPath,
  }
}
