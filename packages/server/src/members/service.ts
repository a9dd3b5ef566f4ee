import { and, eq, gt, isNull, sql } from 'drizzle-orm'
import { type Actor, recordAudit } from '../audit/record.ts'
import { generateEmailToken, hashSecret } from '../auth/secrets.ts'
import type { Transaction } from '../db/client.ts'
import { generateId } from '../db/ids.ts'
import { chronological, toPage } from '../db/pagination.ts'
import { invitations, users, workspaceMembers, workspaces } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import { messages } from '../mail/messages.ts'
import { deliver } from '../mail/transport.ts'
import type { Services } from '../services.ts'

export type Role = (typeof workspaceMembers.$inferSelect)['role']
type Invitation = typeof invitations.$inferSelect

/** How long an emailed invitation code can be accepted. */
const INVITATION_TTL = sql`interval '7 days'`

/** A page request: at most `limit` items after `cursor`. */
export interface PageRequest {
  limit: number
  cursor?: string | undefined
}

/** What the API shows of a member: who they are and their role. */
export function presentMember(member: {
  workspaceId: string
  userId: string
  name: string
  email: string
  role: Role
  createdAt: Date
}) {
  return {
    workspaceId: member.workspaceId,
    userId: member.userId,
    name: member.name,
    email: member.email,
    role: member.role,
    joinedAt: member.createdAt.toISOString(),
  }
}

/** What the API shows of an invitation: never its code. */
export function presentInvitation(invitation: Invitation) {
  return {
    id: invitation.id,
    workspaceId: invitation.workspaceId,
    email: invitation.email,
    role: invitation.role,
    invitedBy: invitation.invitedBy,
    createdAt: invitation.createdAt.toISOString(),
    expiresAt: invitation.expiresAt.toISOString(),
    acceptedAt: invitation.acceptedAt?.toISOString() ?? null,
    revokedAt: invitation.revokedAt?.toISOString() ?? null,
  }
}

const memberColumns = {
  workspaceId: workspaceMembers.workspaceId,
  userId: workspaceMembers.userId,
  role: workspaceMembers.role,
  createdAt: workspaceMembers.createdAt,
  name: users.name,
  email: users.email,
}

/**
 * The members of a workspace in the order they joined, a page at a time.
 *
 * @example
 * ```ts
 * const { data, nextCursor } = await listMembers(services, 'ws_123', { limit: 20 }, actor)
 * ```
 */
export async function listMembers(
  services: Pick<Services, 'db'>,
  workspaceId: string,
  page: PageRequest,
  actor: Actor,
) {
  const order = chronological(
    workspaceMembers.createdAt,
    workspaceMembers.userId,
    page.cursor,
    'asc',
  )
  const rows = await services.db
    .select({ ...memberColumns, key: order.key })
    .from(workspaceMembers)
    .innerJoin(users, eq(users.id, workspaceMembers.userId))
    .where(and(eq(workspaceMembers.workspaceId, workspaceId), order.after))
    .orderBy(...order.orderBy)
    .limit(page.limit + 1)
  const result = toPage(
    rows,
    page.limit,
    (row) => ({ key: row.key, id: row.userId }),
    presentMember,
  )
  // Names and addresses of people other than the caller are personal data: their access is audited.
  const others = result.data.map((member) => member.userId).filter((id) => id !== actor.id)
  if (others.length > 0) {
    await recordAudit(services.db, actor, {
      action: 'member.personal_data_viewed',
      workspaceId,
      targetType: 'workspace',
      targetId: workspaceId,
      details: { userIds: others },
    })
  }
  return result
}

/**
 * Locks the workspace row for the rest of the transaction, so membership changes in one workspace
 * happen one at a time: two owners demoting each other at once cannot leave it without an owner.
 */
async function lockWorkspace(tx: Transaction, workspaceId: string) {
  const [workspace] = await tx
    .select({ id: workspaces.id, name: workspaces.name })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId))
    .for('update')
  if (!workspace) throw new ProblemError('NOT_FOUND', `No workspace ${workspaceId}`)
  return workspace
}

async function findMember(tx: Transaction, workspaceId: string, userId: string) {
  const [member] = await tx
    .select(memberColumns)
    .from(workspaceMembers)
    .innerJoin(users, eq(users.id, workspaceMembers.userId))
    .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.userId, userId)))
  return member
}

async function countOwners(tx: Transaction, workspaceId: string) {
  const [row] = await tx
    .select({ count: sql<number>`count(*)::int` })
    .from(workspaceMembers)
    .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.role, 'owner')))
  return row?.count ?? 0
}

/** Only an owner may make someone an owner or take that role away (API keys never may). */
async function assertOwner(tx: Transaction, workspaceId: string, callerUserId: string | undefined) {
  const caller = callerUserId ? await findMember(tx, workspaceId, callerUserId) : undefined
  if (caller?.role !== 'owner') {
    throw new ProblemError('FORBIDDEN', 'Only an owner of the workspace can make or unmake owners')
  }
}

const lastOwner = (what: string) =>
  new ProblemError(
    'CONFLICT',
    `${what}: a workspace needs at least one owner. Make another member owner first.`,
  )

/**
 * Changes a member's role. Only an owner may make or unmake owners, and the last owner cannot be
 * demoted. Recorded as `member.role_changed`; setting the current role again changes nothing.
 *
 * @param callerUserId the person asking, when a person asks (not an API key).
 * @throws {ProblemError} `NOT_FOUND`, `FORBIDDEN` or `CONFLICT` (last owner).
 * @example
 * ```ts
 * await changeMemberRole(services, 'ws_123', 'usr_456', 'admin', user.userId, actor)
 * ```
 */
export async function changeMemberRole(
  services: Pick<Services, 'db'>,
  workspaceId: string,
  userId: string,
  role: Role,
  callerUserId: string | undefined,
  actor: Actor,
) {
  return services.db.transaction(async (tx) => {
    await lockWorkspace(tx, workspaceId)
    const member = await findMember(tx, workspaceId, userId)
    if (!member) throw new ProblemError('NOT_FOUND', `No member ${userId} in this workspace`)
    if (member.role === role) return presentMember(member)
    if (member.role === 'owner' || role === 'owner')
      await assertOwner(tx, workspaceId, callerUserId)
    if (member.role === 'owner' && (await countOwners(tx, workspaceId)) <= 1) {
      throw lastOwner('The last owner cannot be demoted')
    }
    await tx
      .update(workspaceMembers)
      .set({ role })
      .where(
        and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.userId, userId)),
      )
    await recordAudit(tx, actor, {
      action: 'member.role_changed',
      workspaceId,
      targetType: 'user',
      targetId: userId,
      subjectUserId: userId,
      details: { from: member.role, to: role },
    })
    return presentMember({ ...member, role })
  })
}

/**
 * Removes a member from a workspace, or lets a person leave it (`callerUserId === userId`).
 * Removing an owner takes an owner; the last owner can neither leave nor be removed. Recorded as
 * `member.left` or `member.removed`.
 *
 * @throws {ProblemError} `NOT_FOUND`, `FORBIDDEN` or `CONFLICT` (last owner).
 * @example
 * ```ts
 * await removeMember(services, 'ws_123', user.userId, user.userId, actor) // leave
 * ```
 */
export async function removeMember(
  services: Pick<Services, 'db'>,
  workspaceId: string,
  userId: string,
  callerUserId: string | undefined,
  actor: Actor,
): Promise<void> {
  const leaving = callerUserId === userId
  await services.db.transaction(async (tx) => {
    await lockWorkspace(tx, workspaceId)
    const member = await findMember(tx, workspaceId, userId)
    if (!member) throw new ProblemError('NOT_FOUND', `No member ${userId} in this workspace`)
    if (member.role === 'owner') {
      if (!leaving) await assertOwner(tx, workspaceId, callerUserId)
      if ((await countOwners(tx, workspaceId)) <= 1) {
        throw lastOwner(
          leaving ? 'The last owner cannot leave' : 'The last owner cannot be removed',
        )
      }
    }
    await tx
      .delete(workspaceMembers)
      .where(
        and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.userId, userId)),
      )
    await recordAudit(tx, actor, {
      action: leaving ? 'member.left' : 'member.removed',
      workspaceId,
      targetType: 'user',
      targetId: userId,
      subjectUserId: userId,
      details: { role: member.role },
    })
  })
}

const normaliseEmail = (email: string) => email.trim().toLowerCase()

const invalidInvitation = () =>
  new ProblemError(
    'TOKEN_INVALID',
    'This invitation code is unknown, used, revoked or expired; ask for a new invitation',
  )

/**
 * Invites someone by email. The code is emailed and only its hash is kept; it can be accepted
 * for 7 days by a person whose confirmed address is the invited one. A new invitation to the same
 * address replaces a pending one.
 *
 * @param invitedBy the person inviting, when a person invites (not an API key).
 * @throws {ProblemError} `CONFLICT` when the address already belongs to a member.
 * @example
 * ```ts
 * await createInvitation(services, 'ws_123', { email: 'ada@example.com', role: 'member' }, user.userId, actor)
 * ```
 */
export async function createInvitation(
  services: Pick<Services, 'db' | 'mail' | 'logger'>,
  workspaceId: string,
  input: { email: string; role: 'admin' | 'member' },
  invitedBy: string | undefined,
  actor: Actor,
) {
  const email = normaliseEmail(input.email)
  const code = generateEmailToken()
  const { invitation, workspace } = await services.db.transaction(async (tx) => {
    const workspace = await lockWorkspace(tx, workspaceId)
    const [existing] = await tx
      .select({ userId: workspaceMembers.userId })
      .from(workspaceMembers)
      .innerJoin(users, eq(users.id, workspaceMembers.userId))
      .where(
        and(eq(workspaceMembers.workspaceId, workspaceId), sql`lower(${users.email}) = ${email}`),
      )
    if (existing) {
      throw new ProblemError('CONFLICT', `${email} is already a member of this workspace`)
    }
    const replaced = await tx
      .update(invitations)
      .set({ revokedAt: sql`now()` })
      .where(
        and(
          eq(invitations.workspaceId, workspaceId),
          eq(invitations.email, email),
          isNull(invitations.acceptedAt),
          isNull(invitations.revokedAt),
        ),
      )
      .returning({ id: invitations.id })
    const [invitation] = await tx
      .insert(invitations)
      .values({
        id: generateId('inv'),
        workspaceId,
        email,
        role: input.role,
        tokenHash: hashSecret(code),
        invitedBy: invitedBy ?? null,
        expiresAt: sql`now() + ${INVITATION_TTL}`,
      })
      .returning()
    if (!invitation) throw new Error('the invitation insert returned no row')
    await recordAudit(tx, actor, {
      action: 'invitation.created',
      workspaceId,
      targetType: 'invitation',
      targetId: invitation.id,
      details: {
        email,
        role: invitation.role,
        replacedInvitationIds: replaced.map((row) => row.id),
      },
    })
    return { invitation, workspace }
  })
  await deliver(
    services,
    messages.invitation(email, { workspace: workspace.name, role: invitation.role, code }),
  )
  return presentInvitation(invitation)
}

const pending = () =>
  and(
    isNull(invitations.acceptedAt),
    isNull(invitations.revokedAt),
    gt(invitations.expiresAt, sql`now()`),
  )

/**
 * The workspace's pending invitations (neither accepted, revoked nor expired), newest first.
 *
 * @example
 * ```ts
 * const { data } = await listInvitations(services, 'ws_123', { limit: 20 })
 * ```
 */
export async function listInvitations(
  services: Pick<Services, 'db'>,
  workspaceId: string,
  page: PageRequest,
) {
  const order = chronological(invitations.createdAt, invitations.id, page.cursor, 'desc')
  const rows = await services.db
    .select({ invitation: invitations, key: order.key })
    .from(invitations)
    .where(and(eq(invitations.workspaceId, workspaceId), pending(), order.after))
    .orderBy(...order.orderBy)
    .limit(page.limit + 1)
  return toPage(
    rows,
    page.limit,
    (row) => ({ key: row.key, id: row.invitation.id }),
    (row) => presentInvitation(row.invitation),
  )
}

/**
 * Revokes an invitation that was not accepted yet: its code stops working at once.
 *
 * @throws {ProblemError} `NOT_FOUND` for an unknown, accepted or already revoked invitation.
 * @example
 * ```ts
 * await revokeInvitation(services, 'ws_123', 'inv_456', actor)
 * ```
 */
export async function revokeInvitation(
  services: Pick<Services, 'db'>,
  workspaceId: string,
  invitationId: string,
  actor: Actor,
) {
  return services.db.transaction(async (tx) => {
    const [invitation] = await tx
      .update(invitations)
      .set({ revokedAt: sql`now()` })
      .where(
        and(
          eq(invitations.id, invitationId),
          eq(invitations.workspaceId, workspaceId),
          isNull(invitations.acceptedAt),
          isNull(invitations.revokedAt),
        ),
      )
      .returning()
    if (!invitation) {
      throw new ProblemError('NOT_FOUND', `No open invitation ${invitationId} in this workspace`)
    }
    await recordAudit(tx, actor, {
      action: 'invitation.revoked',
      workspaceId,
      targetType: 'invitation',
      targetId: invitationId,
      details: { email: invitation.email },
    })
    return presentInvitation(invitation)
  })
}

/**
 * Accepts an invitation with its emailed code: the signed-in person becomes a member with the
 * invited role, if their confirmed address is the invited one. A code works once; nothing changes
 * when the acceptance is refused.
 *
 * @throws {ProblemError} `TOKEN_INVALID` (unknown, expired, revoked or used), `FORBIDDEN` (another
 * or unconfirmed address) or `CONFLICT` (already a member).
 * @example
 * ```ts
 * const member = await acceptInvitation(services, code, user.userId, actor)
 * ```
 */
export async function acceptInvitation(
  services: Pick<Services, 'db'>,
  code: string,
  userId: string,
  actor: Actor,
) {
  return services.db.transaction(async (tx) => {
    const [invitation] = await tx
      .select()
      .from(invitations)
      .where(and(eq(invitations.tokenHash, hashSecret(code.trim())), pending()))
    if (!invitation) throw invalidInvitation()
    const [user] = await tx.select().from(users).where(eq(users.id, userId))
    if (!user || normaliseEmail(user.email) !== invitation.email) {
      throw new ProblemError(
        'FORBIDDEN',
        'This invitation was sent to another address; sign in with the invited address to accept it',
      )
    }
    if (!user.emailVerifiedAt) {
      throw new ProblemError(
        'FORBIDDEN',
        'Confirm your email address first, then accept the invitation',
      )
    }
    // Workspace first, then the invitation: the same lock order as every membership change.
    await lockWorkspace(tx, invitation.workspaceId)
    const [used] = await tx
      .update(invitations)
      .set({ acceptedAt: sql`now()` })
      .where(and(eq(invitations.id, invitation.id), pending()))
      .returning({ id: invitations.id })
    if (!used) throw invalidInvitation()
    const [created] = await tx
      .insert(workspaceMembers)
      .values({ workspaceId: invitation.workspaceId, userId, role: invitation.role })
      .onConflictDoNothing()
      .returning()
    // Throwing rolls the acceptance back, so the code stays unused.
    if (!created) {
      throw new ProblemError('CONFLICT', 'You are already a member of this workspace')
    }
    const event = {
      workspaceId: invitation.workspaceId,
      targetType: 'user',
      targetId: userId,
      subjectUserId: userId,
    }
    await recordAudit(tx, actor, {
      ...event,
      action: 'invitation.accepted',
      targetType: 'invitation',
      targetId: invitation.id,
    })
    await recordAudit(tx, actor, {
      ...event,
      action: 'member.added',
      details: { role: created.role, invitationId: invitation.id },
    })
    return presentMember({ ...created, name: user.name, email: user.email })
  })
}
