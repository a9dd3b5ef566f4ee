import { and, eq, inArray, isNull, or, sql } from 'drizzle-orm'
import { type Actor, recordAudit } from '../audit/record.ts'
import { verifyPassword } from '../auth/passwords.ts'
import type { Database } from '../db/client.ts'
import { isUniqueViolation } from '../db/errors.ts'
import { generateId } from '../db/ids.ts'
import { privacyDeletions, sessions, users } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import { deliver } from '../mail/transport.ts'
import type { Services } from '../services.ts'
import { privacyMessages } from './messages.ts'
import { workspacesErasedWith, workspacesOnlyOwnedBy } from './ownership.ts'

type Deletion = typeof privacyDeletions.$inferSelect

const DAY_MS = 24 * 60 * 60 * 1000

/** What the API shows of a deletion request. */
export function presentDeletion(deletion: Deletion) {
  return {
    id: deletion.id,
    status: deletion.status,
    reason: deletion.reason,
    eraseAt: deletion.eraseAt.toISOString(),
    requestedAt: deletion.createdAt.toISOString(),
    canceledAt: deletion.canceledAt?.toISOString() ?? null,
  }
}

const open = (userId: string) =>
  and(
    eq(privacyDeletions.userId, userId),
    inArray(privacyDeletions.status, ['scheduled', 'running']),
  )

async function insertDeletion(
  db: Pick<Database, 'insert'>,
  userId: string,
  reason: Deletion['reason'],
  eraseAt: Date,
) {
  try {
    const [row] = await db
      .insert(privacyDeletions)
      .values({
        id: generateId('del'),
        userId,
        pseudonym: generateId('erased'),
        reason,
        eraseAt,
      })
      .returning()
    return row as Deletion
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ProblemError(
        'CONFLICT',
        'This account is already scheduled for deletion; GET /v1/me/deletion shows when',
      )
    }
    throw error
  }
}

/**
 * Schedules the erasure of the signed-in person's account `PRIVACY_DELETION_UNDO_DAYS` from now
 * (the undo window, at most 14 days: erasure always completes well within the 30 days the policy
 * promises). Needs the password again; the person is told by email, with the workspaces that
 * will go with the account (see {@link workspacesErasedWith}).
 *
 * Refused while the person is the only owner of a workspace others belong to, as leaving it is:
 * they choose who takes it over (or remove the others) first.
 *
 * @throws {ProblemError} `INVALID_CREDENTIALS`, or `CONFLICT` when one is already scheduled or
 * when they are the only owner of a shared workspace (`workspaces` lists them).
 */
export async function requestDeletion(
  services: Services,
  userId: string,
  password: string,
  actor: Actor,
  now = new Date(),
) {
  const [user] = await services.db.select().from(users).where(eq(users.id, userId))
  if (!user || !(await verifyPassword(user.passwordHash, password))) {
    throw new ProblemError('INVALID_CREDENTIALS', 'The password is wrong')
  }
  const onlyOwned = await workspacesOnlyOwnedBy(services.db, userId)
  if (onlyOwned.length > 0) {
    const names = onlyOwned.map((workspace) => `“${workspace.name}” (${workspace.id})`).join(', ')
    throw new ProblemError(
      'CONFLICT',
      `You are the only owner of ${names}, which others belong to. Make another member owner (PATCH /v1/workspaces/{workspaceId}/members/{userId} {"role": "owner"}) or remove the other members, then ask again.`,
      { workspaces: onlyOwned },
    )
  }
  const eraseAt = new Date(now.getTime() + services.config.privacy.deletionUndoDays * DAY_MS)
  const deletion = await services.db.transaction(async (tx) => {
    const row = await insertDeletion(tx, userId, 'user_request', eraseAt)
    await recordAudit(tx, actor, {
      action: 'user.deletion_requested',
      targetType: 'user',
      targetId: userId,
      subjectUserId: userId,
      details: { eraseAt: eraseAt.toISOString() },
    })
    return row
  })
  const erased = await workspacesErasedWith(services.db, userId)
  await deliver(services, privacyMessages.deletionScheduled(user.email, eraseAt, erased))
  return presentDeletion(deletion)
}

/** The person's open deletion request. @throws {ProblemError} `NOT_FOUND` when there is none. */
export async function getDeletion(services: Services, userId: string) {
  const [row] = await services.db.select().from(privacyDeletions).where(open(userId))
  if (!row) throw new ProblemError('NOT_FOUND', 'This account is not scheduled for deletion')
  return presentDeletion(row)
}

/**
 * Cancels the person's scheduled deletion during the undo window.
 *
 * @throws {ProblemError} `NOT_FOUND` when none is scheduled, `CONFLICT` once the erasure started.
 */
export async function cancelDeletion(services: Services, userId: string, actor: Actor) {
  const canceled = await services.db.transaction(async (tx) => {
    const [row] = await tx
      .update(privacyDeletions)
      .set({ status: 'canceled', canceledAt: sql`now()` })
      .where(and(eq(privacyDeletions.userId, userId), eq(privacyDeletions.status, 'scheduled')))
      .returning()
    if (!row) {
      const [running] = await tx.select().from(privacyDeletions).where(open(userId))
      throw running
        ? new ProblemError('CONFLICT', 'The erasure has started and cannot be undone')
        : new ProblemError('NOT_FOUND', 'This account is not scheduled for deletion')
    }
    await recordAudit(tx, actor, {
      action: 'user.deletion_canceled',
      targetType: 'user',
      targetId: userId,
      subjectUserId: userId,
    })
    return row
  })
  const [user] = await services.db.select().from(users).where(eq(users.id, userId))
  if (user) await deliver(services, privacyMessages.deletionCanceled(user.email))
  return presentDeletion(canceled)
}

/**
 * Acts on a report that an account belongs to a child under 13: signs the account out
 * everywhere at once and schedules its erasure with no undo window, so the next run of the
 * privacy job (within a minute) erases it. Any deletion already scheduled is brought forward.
 * For operators (`post-scheduler privacy erase-child`); the account is found by id or address.
 *
 * @returns the request, or `undefined` when no account matches.
 */
export async function eraseReportedChild(
  db: Database,
  account: string,
  now = new Date(),
): Promise<Deletion | undefined> {
  return db.transaction(async (tx) => {
    const [user] = await tx
      .select({ id: users.id })
      .from(users)
      .where(or(eq(users.id, account), eq(sql`lower(${users.email})`, account.toLowerCase())))
    if (!user) return undefined
    await tx
      .update(sessions)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(sessions.userId, user.id), isNull(sessions.revokedAt)))
    const [brought] = await tx
      .update(privacyDeletions)
      .set({ eraseAt: now, reason: 'child_report' })
      .where(open(user.id))
      .returning()
    const deletion = brought ?? (await insertDeletion(tx, user.id, 'child_report', now))
    await recordAudit(
      tx,
      { type: 'system', id: undefined, ip: undefined, requestId: undefined },
      {
        action: 'user.reported_child',
        targetType: 'user',
        targetId: user.id,
        subjectUserId: user.id,
        details: { deletionId: deletion.id },
      },
    )
    return deletion
  })
}
