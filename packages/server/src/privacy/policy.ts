import { and, asc, desc, eq, gt, isNull, sql } from 'drizzle-orm'
import { type Actor, recordAudit } from '../audit/record.ts'
import type { Database } from '../db/client.ts'
import { consents, policyVersions, users, workspaces } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import { recordEvent } from '../events/events.ts'
import { deliver } from '../mail/transport.ts'
import type { Services } from '../services.ts'
import { privacyMessages } from './messages.ts'
import { POLICY_V1 } from './policy-v1.ts'

const DAY_MS = 24 * 60 * 60 * 1000

/** One version of the privacy policy. */
export interface PolicyVersion {
  version: number
  effectiveAt: Date
  summary: string
  text: string
  /** When it was published; version 1 shipped with the software. */
  publishedAt: Date | undefined
}

/** Every version, oldest first: version 1 (bundled) and those published since. */
export async function listPolicyVersions(db: Pick<Database, 'select'>): Promise<PolicyVersion[]> {
  const rows = await db.select().from(policyVersions).orderBy(asc(policyVersions.version))
  return [
    { ...POLICY_V1, publishedAt: undefined },
    ...rows.map((row) => ({
      version: row.version,
      effectiveAt: row.effectiveAt,
      summary: row.summary,
      text: row.text,
      publishedAt: row.publishedAt,
    })),
  ]
}

/** The version in effect at `now`, and the next one if it is announced. */
export async function currentPolicy(db: Pick<Database, 'select'>, now: Date) {
  const versions = await listPolicyVersions(db)
  const inEffect = versions.filter((version) => version.effectiveAt <= now).at(-1) ?? POLICY_V1
  const upcoming = versions.find((version) => version.effectiveAt > now)
  return { current: { ...inEffect, publishedAt: undefined }, upcoming }
}

/**
 * Publishes a new version of the privacy policy. It takes effect at `effectiveAt`, which must be
 * at least `PRIVACY_POLICY_NOTICE_DAYS` away: every user is emailed and every workspace gets a
 * `policy.updated` event by the privacy job (within a minute), so everyone hears of it that
 * long in advance. Until they acknowledge it, users are flagged as not having seen it.
 *
 * @throws {ProblemError} `VALIDATION_FAILED` for a date too soon or an empty text.
 */
export async function publishPolicyVersion(
  services: Pick<Services, 'db' | 'config'>,
  input: { text: string; summary: string; effectiveAt: Date },
  now = new Date(),
) {
  const noticeDays = services.config.privacy.policyNoticeDays
  const earliest = new Date(now.getTime() + noticeDays * DAY_MS)
  if (Number.isNaN(input.effectiveAt.getTime()) || input.effectiveAt < earliest) {
    throw new ProblemError(
      'VALIDATION_FAILED',
      `A new policy takes effect at least ${noticeDays} days after it is published (PRIVACY_POLICY_NOTICE_DAYS): choose ${earliest.toISOString()} or later`,
    )
  }
  if (input.text.trim() === '' || input.summary.trim() === '') {
    throw new ProblemError('VALIDATION_FAILED', 'The policy needs a text and a summary of changes')
  }
  return services.db.transaction(async (tx) => {
    await tx.execute(sql`lock table ${policyVersions} in exclusive mode`)
    const [last] = await tx
      .select({ version: policyVersions.version })
      .from(policyVersions)
      .orderBy(desc(policyVersions.version))
      .limit(1)
    const [row] = await tx
      .insert(policyVersions)
      .values({
        version: Math.max(last?.version ?? 1, POLICY_V1.version) + 1,
        text: input.text,
        summary: input.summary.trim(),
        effectiveAt: input.effectiveAt,
      })
      .returning()
    return row as typeof policyVersions.$inferSelect
  })
}

const NOTICE_BATCH = 200

/**
 * Sends the notices of published versions not yet announced: an email to every user (in batches,
 * resuming after the last one done), then `policy.updated` to every workspace in the same
 * transaction that marks the version announced.
 *
 * @returns how many emails were sent.
 */
export async function sendPolicyNotices(services: Services): Promise<number> {
  const pending = await services.db
    .select()
    .from(policyVersions)
    .where(isNull(policyVersions.noticeSentAt))
    .orderBy(asc(policyVersions.version))
  let sent = 0
  for (const version of pending) {
    let cursor = version.noticeCursor ?? ''
    for (;;) {
      const batch = await services.db
        .select({ id: users.id, email: users.email })
        .from(users)
        .where(gt(users.id, cursor))
        .orderBy(asc(users.id))
        .limit(NOTICE_BATCH)
      if (batch.length === 0) break
      for (const user of batch) {
        await deliver(services, privacyMessages.policyUpdated(user.email, version))
        sent += 1
      }
      cursor = batch.at(-1)?.id ?? cursor
      await services.db
        .update(policyVersions)
        .set({ noticeCursor: cursor })
        .where(eq(policyVersions.version, version.version))
    }
    await services.db.transaction(async (tx) => {
      const [claimed] = await tx
        .update(policyVersions)
        .set({ noticeSentAt: sql`now()`, noticeCursor: null })
        .where(
          and(eq(policyVersions.version, version.version), isNull(policyVersions.noticeSentAt)),
        )
        .returning()
      if (!claimed) return
      const noticeMs = services.config.privacy.policyNoticeDays * DAY_MS
      if (claimed.effectiveAt.getTime() - Date.now() < noticeMs) {
        services.logger.error(
          { version: claimed.version, effectiveAt: claimed.effectiveAt },
          'a privacy policy notice went out later than PRIVACY_POLICY_NOTICE_DAYS before it takes effect (were the workers down?); consider publishing it again with a later date',
        )
      }
      const all = await tx.select({ id: workspaces.id }).from(workspaces)
      for (const workspace of all) {
        await recordEvent(tx, {
          type: 'policy.updated',
          workspaceId: workspace.id,
          data: {
            version: String(version.version),
            effectiveAt: version.effectiveAt.toISOString(),
          },
        })
      }
    })
  }
  return sent
}

/** The consent choices a person can make. */
export type ConsentPurpose = (typeof consents.$inferSelect)['purpose']

/**
 * A person's consents and whether they have seen the latest policy. People who signed up after a
 * version was published saw it then; others have seen a version once they acknowledge it.
 * Usage analytics are on until withdrawn (the policy lists them among what we collect).
 */
export async function getConsents(db: Database, userId: string, now: Date) {
  const [user] = await db.select().from(users).where(eq(users.id, userId))
  if (!user) throw new ProblemError('UNAUTHENTICATED', 'This account no longer exists')
  const versions = await listPolicyVersions(db)
  const latest = versions.at(-1) ?? { ...POLICY_V1, publishedAt: undefined }
  const seenAtSignUp = versions
    .filter((version) => (version.publishedAt ?? new Date(0)) <= user.createdAt)
    .at(-1)?.version
  const history = await db
    .select()
    .from(consents)
    .where(eq(consents.userId, userId))
    .orderBy(asc(consents.id))
  const acknowledged = Math.max(
    seenAtSignUp ?? POLICY_V1.version,
    ...history.filter((row) => row.purpose === 'privacy_policy').map((row) => row.policyVersion),
  )
  const analytics = history.filter((row) => row.purpose === 'usage_analytics').at(-1)
  const { current } = await currentPolicy(db, now)
  return {
    privacyPolicy: {
      currentVersion: current.version,
      latestVersion: latest.version,
      latestEffectiveAt: latest.effectiveAt.toISOString(),
      acknowledgedVersion: acknowledged,
      reviewNeeded: acknowledged < latest.version,
    },
    usageAnalytics: {
      granted: analytics?.granted ?? true,
      changedAt: analytics?.createdAt.toISOString() ?? null,
    },
    history: history.map((row) => ({
      purpose: row.purpose,
      policyVersion: row.policyVersion,
      granted: row.granted,
      recordedAt: row.createdAt.toISOString(),
    })),
  }
}

/**
 * Records a consent choice under the latest policy version: `privacy_policy` with `granted: true`
 * acknowledges the latest policy; `usage_analytics` grants or withdraws optional usage analytics
 * (withdrawing changes nothing else: the service works the same).
 *
 * @throws {ProblemError} `VALIDATION_FAILED` for `privacy_policy` with `granted: false`.
 */
export async function recordConsent(
  db: Database,
  userId: string,
  input: { purpose: ConsentPurpose; granted: boolean },
  actor: Actor,
  now: Date,
) {
  if (input.purpose === 'privacy_policy' && !input.granted) {
    throw new ProblemError(
      'VALIDATION_FAILED',
      'The privacy policy can only be acknowledged; to stop using Post Scheduler, delete your account (POST /v1/me/deletion)',
    )
  }
  const latest = (await listPolicyVersions(db)).at(-1) ?? { ...POLICY_V1 }
  await db.transaction(async (tx) => {
    await tx.insert(consents).values({
      userId,
      purpose: input.purpose,
      granted: input.granted,
      policyVersion: latest.version,
    })
    await recordAudit(tx, actor, {
      action: 'consent.recorded',
      targetType: 'user',
      targetId: userId,
      subjectUserId: userId,
      details: { purpose: input.purpose, granted: input.granted, policyVersion: latest.version },
    })
  })
  return getConsents(db, userId, now)
}
