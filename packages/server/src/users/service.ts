import { and, eq, gt, isNull, ne, sql } from 'drizzle-orm'
import type { Actor } from '../audit/record.ts'
import { recordAudit } from '../audit/record.ts'
import { checkPasswordStrength, hashPassword, verifyPassword } from '../auth/passwords.ts'
import { generateEmailToken, hashSecret } from '../auth/secrets.ts'
import { isUniqueViolation } from '../db/errors.ts'
import { generateId } from '../db/ids.ts'
import { emailTokens, sessions, users } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import { messages } from '../mail/messages.ts'
import { deliver } from '../mail/transport.ts'
import { blockedSeconds, blockKey, hitRateLimit } from '../rate-limit/limiter.ts'
import { rateLimited } from '../rate-limit/middleware.ts'
import type { Services } from '../services.ts'

/** The minimum age the privacy policy allows. Never named in answers (a neutral age gate). */
const MINIMUM_AGE_YEARS = 13
/** After a refused date of birth, the same client and address may not retry for this long. */
const AGE_GATE_BLOCK_SECONDS = 24 * 60 * 60
const SIGN_UP_REFUSED = 'We cannot create an account with these details.'
const DAY_MS = 24 * 60 * 60 * 1000

export type User = typeof users.$inferSelect

/** What `GET /v1/me` shows of a person. */
export function presentUser(user: User, pendingEmail?: string | null) {
  return {
    id: user.id,
    name: user.name,
    email: user.email,
    emailVerified: user.emailVerifiedAt !== null,
    pendingEmail: pendingEmail ?? null,
    locale: user.locale,
    timezone: user.timezone,
    createdAt: user.createdAt.toISOString(),
  }
}

export const normaliseEmail = (email: string) => email.trim().toLowerCase()

/** Age in whole years on `today` of someone born on `dateOfBirth` (YYYY-MM-DD, UTC). */
export function ageInYears(dateOfBirth: string, today = new Date()): number {
  const [year, month, day] = dateOfBirth.split('-').map(Number) as [number, number, number]
  let age = today.getUTCFullYear() - year
  const beforeBirthday =
    today.getUTCMonth() + 1 < month ||
    (today.getUTCMonth() + 1 === month && today.getUTCDate() < day)
  if (beforeBirthday) age -= 1
  return age
}

function weakPassword(password: string, email: string, path = 'password') {
  const reason = checkPasswordStrength(password, email)
  if (!reason) return
  throw new ProblemError('VALIDATION_FAILED', `The password ${reason}`, {
    issues: [
      { location: 'body', path: [path], code: 'weak_password', message: `The password ${reason}` },
    ],
  })
}

/**
 * Signs a person up. Answers the same whether or not the address already has an account (the
 * owner gets an email instead), so sign-up cannot be used to find out who uses Post Scheduler.
 * A date of birth under the minimum age is refused without naming the threshold, and blocks the
 * client's address and the email address from retrying for a day. The date is never stored.
 */
export async function signUp(
  services: Services,
  input: { name: string; email: string; password: string; dateOfBirth: string },
  actor: Actor,
): Promise<void> {
  const { db } = services
  const email = normaliseEmail(input.email)
  const gateKeys = [`sign-up:ip:${actor.ip}`, `sign-up:email:${hashSecret(email)}`]
  for (const key of gateKeys) {
    if ((await blockedSeconds(db, key)) > 0)
      throw new ProblemError('SIGN_UP_REFUSED', SIGN_UP_REFUSED)
  }
  const attempts = await hitRateLimit(db, {
    key: `sign-up:ip:${actor.ip}:count`,
    limit: 20,
    windowSeconds: 3600,
  })
  if (!attempts.allowed) throw rateLimited(attempts.resetSeconds)

  const age = ageInYears(input.dateOfBirth)
  if (age < 0 || age > 150) {
    throw new ProblemError('VALIDATION_FAILED', 'The date of birth is not plausible', {
      issues: [
        {
          location: 'body',
          path: ['dateOfBirth'],
          code: 'invalid_date',
          message: 'Give your real date of birth',
        },
      ],
    })
  }
  if (age < MINIMUM_AGE_YEARS) {
    for (const key of gateKeys) await blockKey(db, key, AGE_GATE_BLOCK_SECONDS)
    // Recorded without the address or the date: nothing about the child is kept.
    await recordAudit(db, actor, { action: 'user.sign_up_refused' })
    throw new ProblemError('SIGN_UP_REFUSED', SIGN_UP_REFUSED)
  }
  weakPassword(input.password, email)

  // Hash before looking the address up, so both answers take the same time.
  const passwordHash = await hashPassword(input.password)
  const code = generateEmailToken()
  const created = await db.transaction(async (tx) => {
    const [user] = await tx
      .insert(users)
      .values({ id: generateId('usr'), name: input.name.trim(), email, passwordHash })
      .onConflictDoNothing()
      .returning()
    if (!user) return undefined
    await tx.insert(emailTokens).values({
      id: generateId('etok'),
      userId: user.id,
      purpose: 'verify_email',
      tokenHash: hashSecret(code),
      expiresAt: new Date(Date.now() + DAY_MS),
    })
    await recordAudit(
      tx,
      { ...actor, type: 'user', id: user.id },
      {
        action: 'user.signed_up',
        targetType: 'user',
        targetId: user.id,
        subjectUserId: user.id,
      },
    )
    return user
  })
  await deliver(
    services,
    created ? messages.verifyEmail(email, code) : messages.alreadyRegistered(email),
  )
}

/**
 * Redeems an emailed code: confirms an address, or switches to a new one (telling the old
 * address). Codes are single-use and expire.
 */
export async function redeemEmailToken(
  services: Services,
  code: string,
  actor: Actor,
): Promise<User> {
  const { db } = services
  const outcome = await db.transaction(async (tx) => {
    const [token] = await tx
      .update(emailTokens)
      .set({ usedAt: sql`now()` })
      .where(
        and(
          eq(emailTokens.tokenHash, hashSecret(code.trim())),
          isNull(emailTokens.usedAt),
          gt(emailTokens.expiresAt, sql`now()`),
          ne(emailTokens.purpose, 'reset_password'),
        ),
      )
      .returning()
    if (!token)
      throw new ProblemError(
        'TOKEN_INVALID',
        'This code is unknown, used or expired; ask for a new one',
      )
    const [before] = await tx.select().from(users).where(eq(users.id, token.userId))
    if (!before) throw new ProblemError('TOKEN_INVALID', 'This code belongs to no account')
    const changes =
      token.purpose === 'change_email' && token.email
        ? { email: token.email, emailVerifiedAt: sql`now()`, updatedAt: sql`now()` }
        : { emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, now())`, updatedAt: sql`now()` }
    const [user] = await tx
      .update(users)
      .set(changes)
      .where(eq(users.id, token.userId))
      .returning()
      .catch((error: unknown) => {
        if (isUniqueViolation(error)) {
          throw new ProblemError('CONFLICT', 'Another account uses this address now')
        }
        throw error
      })
    if (!user) throw new ProblemError('TOKEN_INVALID', 'This code belongs to no account')
    await recordAudit(tx, actor, {
      action: token.purpose === 'change_email' ? 'user.email_changed' : 'user.email_verified',
      targetType: 'user',
      targetId: user.id,
      subjectUserId: user.id,
    })
    return { user, previousEmail: token.purpose === 'change_email' ? before.email : undefined }
  })
  if (outcome.previousEmail) {
    await deliver(services, messages.emailChanged(outcome.previousEmail, outcome.user.email))
  }
  return outcome.user
}

/** The signed-in person, with the address they are switching to, if any. */
export async function getMe(services: Services, userId: string) {
  const [user] = await services.db.select().from(users).where(eq(users.id, userId))
  if (!user) throw new ProblemError('UNAUTHENTICATED', 'This account no longer exists')
  const [pending] = await services.db
    .select({ email: emailTokens.email })
    .from(emailTokens)
    .where(
      and(
        eq(emailTokens.userId, userId),
        eq(emailTokens.purpose, 'change_email'),
        isNull(emailTokens.usedAt),
        gt(emailTokens.expiresAt, sql`now()`),
      ),
    )
    .orderBy(sql`${emailTokens.createdAt} desc`)
    .limit(1)
  return presentUser(user, pending?.email)
}

/**
 * Corrects a person's details. A new email address only takes effect once confirmed from that
 * address; the current one is told.
 */
export async function updateMe(
  services: Services,
  userId: string,
  patch: {
    name?: string | undefined
    email?: string | undefined
    locale?: string | undefined
    timezone?: string | undefined
  },
  actor: Actor,
) {
  const { db } = services
  const [current] = await db.select().from(users).where(eq(users.id, userId))
  if (!current) throw new ProblemError('UNAUTHENTICATED', 'This account no longer exists')
  const newEmail = patch.email !== undefined ? normaliseEmail(patch.email) : undefined
  const emailChange = newEmail !== undefined && newEmail !== current.email ? newEmail : undefined
  const code = generateEmailToken()
  await db.transaction(async (tx) => {
    const fields = {
      ...(patch.name !== undefined && { name: patch.name.trim() }),
      ...(patch.locale !== undefined && { locale: patch.locale }),
      ...(patch.timezone !== undefined && { timezone: patch.timezone }),
    }
    if (Object.keys(fields).length > 0) {
      await tx
        .update(users)
        .set({ ...fields, updatedAt: sql`now()` })
        .where(eq(users.id, userId))
    }
    if (emailChange) {
      await tx.insert(emailTokens).values({
        id: generateId('etok'),
        userId,
        purpose: 'change_email',
        email: emailChange,
        tokenHash: hashSecret(code),
        expiresAt: new Date(Date.now() + DAY_MS),
      })
    }
    await recordAudit(tx, actor, {
      action: 'user.updated',
      targetType: 'user',
      targetId: userId,
      subjectUserId: userId,
      details: {
        fields: [...Object.keys(fields), ...(emailChange ? ['email (pending confirmation)'] : [])],
      },
    })
  })
  if (emailChange) {
    await deliver(services, messages.confirmNewEmail(emailChange, code))
    await deliver(services, messages.emailChangeRequested(current.email, emailChange))
  }
  return getMe(services, userId)
}

/** Changes the password after checking the current one; signs out every other session. */
export async function changePassword(
  services: Services,
  user: { userId: string; sessionId: string },
  input: { currentPassword: string; newPassword: string },
  actor: Actor,
) {
  const { db } = services
  const [current] = await db.select().from(users).where(eq(users.id, user.userId))
  if (!current || !(await verifyPassword(current.passwordHash, input.currentPassword))) {
    throw new ProblemError('INVALID_CREDENTIALS', 'The current password is wrong')
  }
  weakPassword(input.newPassword, current.email, 'newPassword')
  const passwordHash = await hashPassword(input.newPassword)
  await db.transaction(async (tx) => {
    await tx
      .update(users)
      .set({ passwordHash, updatedAt: sql`now()` })
      .where(eq(users.id, user.userId))
    await tx
      .update(sessions)
      .set({ revokedAt: sql`now()` })
      .where(
        and(
          eq(sessions.userId, user.userId),
          ne(sessions.id, user.sessionId),
          isNull(sessions.revokedAt),
        ),
      )
    await recordAudit(tx, actor, {
      action: 'user.password_changed',
      targetType: 'user',
      targetId: user.userId,
      subjectUserId: user.userId,
    })
  })
  await deliver(services, messages.passwordChanged(current.email))
}

/**
 * Emails a reset code when the address has an account; answers the same either way. Limited per
 * address and per client.
 */
export async function requestPasswordReset(services: Services, emailInput: string, actor: Actor) {
  const { db } = services
  const email = normaliseEmail(emailInput)
  for (const [key, limit] of [
    [`password-reset:ip:${actor.ip}`, 20],
    [`password-reset:email:${hashSecret(email)}`, 5],
  ] as const) {
    const result = await hitRateLimit(db, { key, limit, windowSeconds: 3600 })
    if (!result.allowed) throw rateLimited(result.resetSeconds)
  }
  const [user] = await db.select().from(users).where(eq(users.email, email))
  if (!user) return
  const code = generateEmailToken()
  await db.transaction(async (tx) => {
    await tx.insert(emailTokens).values({
      id: generateId('etok'),
      userId: user.id,
      purpose: 'reset_password',
      tokenHash: hashSecret(code),
      expiresAt: new Date(Date.now() + 60 * 60 * 1000),
    })
    await recordAudit(tx, actor, {
      action: 'user.password_reset_requested',
      targetType: 'user',
      targetId: user.id,
      subjectUserId: user.id,
    })
  })
  await deliver(services, messages.resetPassword(user.email, code))
}

/** Sets a new password with an emailed reset code; signs out every session. */
export async function confirmPasswordReset(
  services: Services,
  input: { token: string; newPassword: string },
  actor: Actor,
) {
  const { db } = services
  const tokenHash = hashSecret(input.token.trim())
  const [pending] = await db
    .select({ userId: emailTokens.userId, email: users.email })
    .from(emailTokens)
    .innerJoin(users, eq(users.id, emailTokens.userId))
    .where(
      and(
        eq(emailTokens.tokenHash, tokenHash),
        eq(emailTokens.purpose, 'reset_password'),
        isNull(emailTokens.usedAt),
        gt(emailTokens.expiresAt, sql`now()`),
      ),
    )
  if (!pending)
    throw new ProblemError(
      'TOKEN_INVALID',
      'This code is unknown, used or expired; ask for a new one',
    )
  weakPassword(input.newPassword, pending.email, 'newPassword')
  const passwordHash = await hashPassword(input.newPassword)
  await db.transaction(async (tx) => {
    const [used] = await tx
      .update(emailTokens)
      .set({ usedAt: sql`now()` })
      .where(and(eq(emailTokens.tokenHash, tokenHash), isNull(emailTokens.usedAt)))
      .returning({ id: emailTokens.id })
    if (!used) throw new ProblemError('TOKEN_INVALID', 'This code was just used')
    await tx
      .update(users)
      .set({ passwordHash, updatedAt: sql`now()` })
      .where(eq(users.id, pending.userId))
    await tx
      .update(sessions)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(sessions.userId, pending.userId), isNull(sessions.revokedAt)))
    await recordAudit(tx, actor, {
      action: 'user.password_reset',
      targetType: 'user',
      targetId: pending.userId,
      subjectUserId: pending.userId,
    })
  })
  await deliver(services, messages.passwordChanged(pending.email))
}
