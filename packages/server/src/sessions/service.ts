import { and, desc, eq, gt, isNull, sql } from 'drizzle-orm'
import { type Actor, recordAudit } from '../audit/record.ts'
import { verifyPassword } from '../auth/passwords.ts'
import { SECRET_PREFIXES } from '../auth/principal.ts'
import { generateSecret, hashSecret } from '../auth/secrets.ts'
import { generateId } from '../db/ids.ts'
import { sessions, users } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import { messages } from '../mail/messages.ts'
import { deliver } from '../mail/transport.ts'
import { hitRateLimit, resetRateLimit } from '../rate-limit/limiter.ts'
import { rateLimited } from '../rate-limit/middleware.ts'
import type { Services } from '../services.ts'
import { normaliseEmail } from '../users/service.ts'

/** Sign-in attempts allowed per address and per client in {@link ATTEMPT_WINDOW_SECONDS}. */
const ATTEMPTS_PER_ACCOUNT = 10
const ATTEMPTS_PER_IP = 30
const ATTEMPT_WINDOW_SECONDS = 15 * 60

type Session = typeof sessions.$inferSelect

/** What the API shows of a session: never its token. */
export function presentSession(session: Session, currentSessionId?: string) {
  return {
    id: session.id,
    userAgent: session.userAgent,
    ip: session.ip,
    createdAt: session.createdAt.toISOString(),
    lastSeenAt: session.lastSeenAt.toISOString(),
    expiresAt: session.expiresAt.toISOString(),
    current: session.id === currentSessionId,
  }
}

/**
 * Signs a person in. Unknown addresses and wrong passwords get the same answer in about the same
 * time; attempts are limited per address and per client. A sign-in from a device (user agent) the
 * account has not used before is announced by email.
 *
 * @returns the session token, to be shown once (and set as a cookie for browsers).
 */
export async function signIn(
  services: Services,
  input: { email: string; password: string },
  device: { userAgent: string | undefined },
  actor: Actor,
) {
  const { db, config } = services
  const email = normaliseEmail(input.email)
  const accountKey = `sign-in:account:${hashSecret(email)}`
  for (const [key, limit] of [
    [`sign-in:ip:${actor.ip}`, ATTEMPTS_PER_IP],
    [accountKey, ATTEMPTS_PER_ACCOUNT],
  ] as const) {
    const result = await hitRateLimit(db, { key, limit, windowSeconds: ATTEMPT_WINDOW_SECONDS })
    if (!result.allowed) {
      throw rateLimited(
        result.resetSeconds,
        `Too many sign-in attempts; retry in ${result.resetSeconds} s`,
      )
    }
  }
  const [user] = await db.select().from(users).where(eq(users.email, email))
  if (!(await verifyPassword(user?.passwordHash, input.password)) || !user) {
    await recordAudit(db, actor, {
      action: 'session.sign_in_failed',
      subjectUserId: user?.id,
    })
    throw new ProblemError('INVALID_CREDENTIALS', 'The email address or the password is wrong')
  }
  await resetRateLimit(db, accountKey)

  const token = generateSecret(SECRET_PREFIXES.session)
  const userAgent = device.userAgent?.slice(0, 500) ?? null
  const { session, newDevice } = await db.transaction(async (tx) => {
    const [known] = await tx
      .select({
        count: sql<number>`count(*)::int`,
        sameDevice: sql<number>`count(*) filter (where ${sessions.userAgent} is not distinct from ${userAgent})::int`,
      })
      .from(sessions)
      .where(eq(sessions.userId, user.id))
    const [session] = await tx
      .insert(sessions)
      .values({
        id: generateId('ses'),
        userId: user.id,
        tokenHash: hashSecret(token),
        userAgent,
        ip: actor.ip ?? null,
        expiresAt: new Date(Date.now() + config.sessionTTLDays * 24 * 60 * 60 * 1000),
      })
      .returning()
    if (!session) throw new Error('the session insert returned no row')
    await recordAudit(
      tx,
      { ...actor, type: 'user', id: user.id },
      {
        action: 'session.created',
        targetType: 'session',
        targetId: session.id,
        subjectUserId: user.id,
      },
    )
    return { session, newDevice: (known?.count ?? 0) > 0 && (known?.sameDevice ?? 0) === 0 }
  })
  if (newDevice) {
    await deliver(
      services,
      messages.newDevice(user.email, {
        userAgent: userAgent ?? 'unknown',
        ip: actor.ip ?? 'unknown',
        at: session.createdAt,
      }),
    )
  }
  return { token, session: presentSession(session, session.id) }
}

/** The person's sessions that have not ended, newest first. */
export async function listSessions(
  services: Services,
  user: { userId: string; sessionId: string },
) {
  const rows = await services.db
    .select()
    .from(sessions)
    .where(
      and(
        eq(sessions.userId, user.userId),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, sql`now()`),
      ),
    )
    .orderBy(desc(sessions.lastSeenAt))
  return rows.map((row) => presentSession(row, user.sessionId))
}

/** Ends one of the person's own sessions. Someone else's session is "not found". */
export async function revokeSession(
  services: Services,
  user: { userId: string },
  sessionId: string,
  actor: Actor,
) {
  await services.db.transaction(async (tx) => {
    const [revoked] = await tx
      .update(sessions)
      .set({ revokedAt: sql`now()` })
      .where(
        and(
          eq(sessions.id, sessionId),
          eq(sessions.userId, user.userId),
          isNull(sessions.revokedAt),
        ),
      )
      .returning({ id: sessions.id })
    if (!revoked) throw new ProblemError('NOT_FOUND', `No active session ${sessionId} of yours`)
    await recordAudit(tx, actor, {
      action: 'session.revoked',
      targetType: 'session',
      targetId: sessionId,
      subjectUserId: user.userId,
    })
  })
}
