import { and, asc, eq, inArray, isNotNull, isNull, lte, type SQL, sql } from 'drizzle-orm'
import { recordAudit } from '../audit/record.ts'
import { hashSecret } from '../auth/secrets.ts'
import { revokeAtPlatform } from '../connections/accounts.ts'
import {
  connectedAccounts,
  mediaGarbage,
  privacyDeletions,
  privacyExports,
  sessions,
  users,
  webhookDeliveries,
  webhookEndpoints,
  workspaceMembers,
  workspaces,
} from '../db/schema/index.ts'
import { deliver } from '../mail/transport.ts'
import { purgeStorage } from '../media/cleanup.ts'
import type { Services } from '../services.ts'
import { workspacesErasedWith } from './ownership.ts'

/** The system actor of the erasure job. */
const SYSTEM = { type: 'system', id: undefined, ip: undefined, requestId: undefined } as const
const DAY_MS = 24 * 60 * 60 * 1000
/** Past this many days since the request, an unfinished erasure is logged as an error at every run. */
const OVERDUE_DAYS = 20

type Deletion = typeof privacyDeletions.$inferSelect

/** What a step knows: the request and the person it erases. */
interface StepContext {
  services: Services
  deletion: Deletion
  userId: string
}

/** Ids of the workspaces that go with the person (see {@link workspacesErasedWith}). */
async function erasedWorkspaceIds(services: Services, userId: string): Promise<string[]> {
  return (await workspacesErasedWith(services.db, userId)).map((workspace) => workspace.id)
}

const textArray = (values: string[]) => sql`${`{${values.join(',')}}`}::text[]`

/**
 * A query of the ids of the workspaces and of every row they hold: each table of our schema with
 * an `id` and a `workspace_id` (read from the database, so a new table is covered).
 */
async function heldBy(services: Services, workspaceIds: string[]): Promise<SQL> {
  const tables = await services.db.execute<{ table: string }>(sql`
    select c.table_name as table from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
      and t.table_type = 'BASE TABLE'
    where c.table_schema = 'post_scheduler' and c.column_name = 'workspace_id'
      and exists (
        select 1 from information_schema.columns i
        where i.table_schema = c.table_schema and i.table_name = c.table_name
          and i.column_name = 'id' and i.data_type = 'text')
    order by 1`)
  const ids = textArray(workspaceIds)
  return sql.join(
    [
      sql`select unnest(${ids})`,
      ...tables.map(
        ({ table }) =>
          sql`select id from post_scheduler.${sql.identifier(table)} where workspace_id = any(${ids})`,
      ),
    ],
    sql` union all `,
  )
}

/**
 * Disables the workspaces' webhook endpoints, so the dispatcher queues no more deliveries for
 * them, then waits out a dispatcher that picked some before (it keeps them locked until its jobs
 * are in), so the jobs it queued are there to be found.
 */
async function stopDeliveries(services: Services, workspaceIds: string[]) {
  await services.db
    .update(webhookEndpoints)
    .set({
      enabled: false,
      // No reason of its own: the endpoint goes with its workspace at the next step.
      disabledReason: 'manual',
      disabledAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(
      and(inArray(webhookEndpoints.workspaceId, workspaceIds), eq(webhookEndpoints.enabled, true)),
    )
  await services.db.execute(sql`
    select 1 from ${webhookDeliveries} where ${inArray(webhookDeliveries.workspaceId, workspaceIds)}
    for update`)
}

/**
 * The steps of an erasure, in order. Each is idempotent: run again after a crash, it finds its
 * work done and does nothing more. The job records each finished step on the request.
 */
const STEPS = {
  /** Signed out everywhere first, so nothing new is created while the rest is erased. */
  async sign_out({ services, userId }: StepContext) {
    await services.db
      .update(sessions)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
  },

  /**
   * Platform tokens of the accounts that go with the person's workspaces: revoked, then dropped.
   * What was waiting to publish there is canceled first, so no new job is queued for it.
   */
  async revoke_tokens({ services, userId }: StepContext) {
    const ids = await erasedWorkspaceIds(services, userId)
    if (ids.length === 0) return
    await services.db.execute(sql`
      update post_scheduler.post_series set status = 'canceled', canceled_at = now()
      where workspace_id = any(${textArray(ids)}) and status = 'active'`)
    await services.db.execute(sql`
      update post_scheduler.publications set status = 'canceled', updated_at = now()
      where workspace_id = any(${textArray(ids)}) and status in ('scheduled', 'queued')`)
    const accounts = await services.db
      .select()
      .from(connectedAccounts)
      .where(
        and(
          inArray(connectedAccounts.workspaceId, ids),
          sql`(${connectedAccounts.accessTokenSealed} is not null or ${connectedAccounts.refreshTokenSealed} is not null)`,
        ),
      )
    for (const account of accounts) {
      const revocation = await revokeAtPlatform(services, account)
      await services.db
        .update(connectedAccounts)
        .set({
          status: 'revoked',
          statusReason: 'account erased',
          accessTokenSealed: null,
          refreshTokenSealed: null,
          disconnectedAt: sql`now()`,
          updatedAt: sql`now()`,
        })
        .where(eq(connectedAccounts.id, account.id))
      services.logger.info(
        { account: account.id, platform: account.platform, revocation },
        'erasure: platform token revoked',
      )
    }
  },

  /**
   * Jobs of the queue — waiting, running or finished — that mention the person (their id, their
   * exports) or anything their workspaces that go hold (the workspaces, their posts, publications,
   * events, webhook endpoints… every table with an id and a workspace). pg-boss 12 keeps finished
   * jobs in the same `job` table (a partition per queue) until its retention removes them: it has
   * no archive table. The workspaces' webhook endpoints are disabled first, so no delivery job
   * is queued for them after this step.
   */
  async queue_jobs({ services, userId }: StepContext) {
    const ids = await erasedWorkspaceIds(services, userId)
    if (ids.length > 0) await stopDeliveries(services, ids)
    const exportIds = await services.db
      .select({ id: privacyExports.id })
      .from(privacyExports)
      .where(eq(privacyExports.userId, userId))
    const mentions = [userId, ...exportIds.map((row) => row.id)]
    const held = await heldBy(services, ids)
    const schema = sql.identifier(services.config.queueSchema)
    // A mention may be part of a value (a note naming the person); a held id is a whole value.
    const jobs = await services.db.execute<{ id: string; name: string }>(sql`
      select j.id::text as id, j.name from ${schema}.job j
      where exists (
          select 1 from unnest(${textArray(mentions)}) as mention
          where strpos(to_jsonb(j)::text, mention) > 0)
        or exists (
          select 1 from jsonb_path_query(to_jsonb(j), 'strict $.**') as value
          where jsonb_typeof(value) = 'string' and value #>> '{}' in (${held}))`)
    const byQueue = new Map<string, string[]>()
    for (const job of jobs) byQueue.set(job.name, [...(byQueue.get(job.name) ?? []), job.id])
    for (const [name, jobIds] of byQueue) await services.queue.deleteJob(name, jobIds)
  },

  /**
   * Workspaces: the ones they own with nobody else in them are deleted with all they hold —
   * profiles, accounts, posts, media (their files to the clean-up), keys, webhooks. The person
   * leaves every other one, whatever it holds. A deletion is refused while they are the only owner
   * of a workspace others belong to; should they be one now all the same (it became so during the
   * undo window, or a child's account is erased), the longest-standing admin, else member, becomes
   * owner, so a workspace that had an owner keeps one.
   */
  async workspaces({ services, userId }: StepContext) {
    const erased = new Set(await erasedWorkspaceIds(services, userId))
    const memberships = await services.db
      .select()
      .from(workspaceMembers)
      .where(eq(workspaceMembers.userId, userId))
    for (const membership of memberships.filter((m) => !erased.has(m.workspaceId))) {
      await services.db.transaction(async (tx) => {
        await tx.execute(
          sql`select 1 from ${workspaces} where id = ${membership.workspaceId} for update`,
        )
        const [otherOwner] = await tx
          .select()
          .from(workspaceMembers)
          .where(
            and(
              eq(workspaceMembers.workspaceId, membership.workspaceId),
              eq(workspaceMembers.role, 'owner'),
              sql`${workspaceMembers.userId} <> ${userId}`,
            ),
          )
          .limit(1)
        if (membership.role === 'owner' && !otherOwner) {
          const [successor] = await tx
            .select()
            .from(workspaceMembers)
            .where(
              and(
                eq(workspaceMembers.workspaceId, membership.workspaceId),
                sql`${workspaceMembers.userId} <> ${userId}`,
              ),
            )
            .orderBy(
              sql`case ${workspaceMembers.role} when 'admin' then 0 else 1 end`,
              asc(workspaceMembers.createdAt),
            )
            .limit(1)
          if (successor) {
            await tx
              .update(workspaceMembers)
              .set({ role: 'owner' })
              .where(
                and(
                  eq(workspaceMembers.workspaceId, successor.workspaceId),
                  eq(workspaceMembers.userId, successor.userId),
                ),
              )
            await recordAudit(tx, SYSTEM, {
              action: 'member.role_changed',
              workspaceId: successor.workspaceId,
              targetType: 'user',
              targetId: successor.userId,
              subjectUserId: successor.userId,
              details: { role: 'owner', reason: 'the only owner’s account was erased' },
            })
          }
        }
        await tx
          .delete(workspaceMembers)
          .where(
            and(
              eq(workspaceMembers.workspaceId, membership.workspaceId),
              eq(workspaceMembers.userId, userId),
            ),
          )
      })
    }
    if (erased.size === 0) return
    const ids = textArray([...erased])
    // Replays of the workspaces' API calls (sealed responses) go with them.
    await services.db.execute(sql`
      delete from post_scheduler.idempotency_keys where scope in (
        select 'api_key:' || id from post_scheduler.api_keys where workspace_id = any(${ids})
        union all
        select 'profile_token:' || id from post_scheduler.profile_tokens where workspace_id = any(${ids}))`)
    await services.db.delete(workspaces).where(inArray(workspaces.id, [...erased]))
  },

  /**
   * What points at the person elsewhere: authorship columns (`*_by`) of what stays in shared
   * workspaces, invitations to their address, their rate-limit counters (by their address's or
   * sessions' hash, and by their client addresses), the replays of their API calls (idempotency
   * records).
   */
  async references({ services, userId }: StepContext) {
    const { db } = services
    const [user] = await db.select({ email: users.email }).from(users).where(eq(users.id, userId))
    const columns = await db.execute<{ table: string; column: string }>(sql`
      select table_name as table, column_name as column from information_schema.columns
      where table_schema = 'post_scheduler' and column_name like '%\\_by' escape '\\'`)
    for (const { table, column } of columns) {
      await db.execute(
        sql`update post_scheduler.${sql.identifier(table)} set ${sql.identifier(column)} = null where ${sql.identifier(column)} = ${userId}`,
      )
    }
    const sessionRows = await db
      .select({ id: sessions.id, ip: sessions.ip })
      .from(sessions)
      .where(eq(sessions.userId, userId))
    await db.execute(
      sql`delete from post_scheduler.idempotency_keys where scope = ${`user:${userId}`}`,
    )
    if (user) {
      await db.execute(
        sql`delete from post_scheduler.invitations where lower(email) = lower(${user.email})`,
      )
      // Counters keyed by the address's hash or a session's, and unblocked counters of the
      // person's client addresses.
      const hashes = [user.email.toLowerCase(), ...sessionRows.map((row) => row.id)].map(hashSecret)
      const ips = [...new Set(sessionRows.map((row) => row.ip).filter((ip) => ip !== null))]
      await db.execute(sql`
        delete from post_scheduler.rate_limits
        where exists (select 1 from unnest(${textArray(hashes)}) hash where strpos(key, hash) > 0)
           or ((blocked_until is null or blocked_until < now())
               and exists (select 1 from unnest(${textArray(ips)}) ip where strpos(key, ':' || ip) > 0))`)
    }
  },

  /**
   * The audit log keeps what happened (the legal record) without who: the person's id becomes the
   * request's pseudonym, their client address is dropped from entries they made (or made
   * anonymously about them, such as confirming their address), and their email
   * address and id are replaced inside details.
   */
  async audit_log({ services, deletion, userId }: StepContext) {
    const [user] = await services.db
      .select({ email: users.email })
      .from(users)
      .where(eq(users.id, userId))
    const email = JSON.stringify(user?.email ?? userId).slice(1, -1)
    const pseudonym = deletion.pseudonym
    await services.db.transaction(async (tx) => {
      await tx.execute(sql`select set_config('post_scheduler.audit_erasure', 'on', true)`)
      await tx.execute(sql`
        update post_scheduler.audit_log set
          ip = case when actor_id = ${userId} or (actor_type = 'anonymous' and (subject_user_id = ${userId} or target_id = ${userId})) then null else ip end,
          actor_id = case when actor_id = ${userId} then ${pseudonym} else actor_id end,
          target_id = case when target_id = ${userId} then ${pseudonym} else target_id end,
          subject_user_id = case when subject_user_id = ${userId} then ${pseudonym} else subject_user_id end,
          details = replace(replace(details::text, ${userId}, ${pseudonym}), ${email}, '[erased]')::jsonb
        where actor_id = ${userId} or target_id = ${userId} or subject_user_id = ${userId}
           or strpos(details::text, ${userId}) > 0 or strpos(details::text, ${email}) > 0`)
    })
  },

  /** The account itself, with its sessions, codes, consents, usage events and exports. */
  async account({ services, userId }: StepContext) {
    const [user] = await services.db.delete(users).where(eq(users.id, userId)).returning()
    if (user) {
      await deliver(services, {
        to: user.email,
        subject: 'Your account was erased',
        text: 'Your Post Scheduler account and its data were erased, as you asked. We keep only a pseudonymous record that this happened, and security records the law requires.',
      })
    }
  },

  /** Files of everything deleted above (media, upload parts, exports), from storage. */
  async storage({ services }: StepContext) {
    for (;;) {
      const garbage = await services.db
        .select({ storageKey: mediaGarbage.storageKey })
        .from(mediaGarbage)
        .orderBy(asc(mediaGarbage.createdAt))
        .limit(500)
      if (garbage.length === 0) return
      await purgeStorage(
        services,
        garbage.map((row) => row.storageKey),
      )
      const [left] = await services.db
        .select({ count: sql<number>`count(*)::int` })
        .from(mediaGarbage)
        .where(
          inArray(
            mediaGarbage.storageKey,
            garbage.map((row) => row.storageKey),
          ),
        )
      if ((left?.count ?? 0) > 0) {
        throw new Error(
          `${left?.count} storage object(s) could not be deleted; the erasure resumes at its next run`,
        )
      }
    }
  },
} satisfies Record<string, (context: StepContext) => Promise<void>>

/** The erasure steps, in the order they run. */
export const ERASURE_STEPS = Object.keys(STEPS) as (keyof typeof STEPS)[]

/**
 * Erases a person whose deletion request is due: runs each step not yet recorded as done,
 * recording it once finished, then marks the request completed and forgets whose it was (only
 * the pseudonym stays). Safe to run again at any point: after a crash it resumes at the first
 * unfinished step. A canceled or not yet due request is left alone.
 *
 * @returns the request's status afterwards, or `undefined` for an unknown id.
 * @throws whatever a step throws (storage down…): the steps before it stay done.
 * @example
 * ```ts
 * await runErasure(services, 'del_…', new Date())
 * ```
 */
export async function runErasure(
  services: Services,
  deletionId: string,
  now: Date,
): Promise<Deletion['status'] | undefined> {
  const [claimed] = await services.db
    .update(privacyDeletions)
    .set({ status: 'running' })
    .where(
      and(
        eq(privacyDeletions.id, deletionId),
        inArray(privacyDeletions.status, ['scheduled', 'running']),
        lte(privacyDeletions.eraseAt, now),
        isNotNull(privacyDeletions.userId),
      ),
    )
    .returning()
  if (!claimed?.userId) {
    const [row] = await services.db
      .select({ status: privacyDeletions.status })
      .from(privacyDeletions)
      .where(eq(privacyDeletions.id, deletionId))
    return row?.status
  }
  const context = { services, deletion: claimed, userId: claimed.userId }
  for (const step of ERASURE_STEPS) {
    if (claimed.stepsDone.includes(step)) continue
    await STEPS[step](context)
    await services.db
      .update(privacyDeletions)
      .set({ stepsDone: sql`array_append(${privacyDeletions.stepsDone}, ${step})` })
      .where(eq(privacyDeletions.id, deletionId))
  }
  await services.db.transaction(async (tx) => {
    await tx
      .update(privacyDeletions)
      .set({ status: 'completed', userId: null, completedAt: sql`now()` })
      .where(eq(privacyDeletions.id, deletionId))
    await recordAudit(tx, SYSTEM, {
      action: 'user.erased',
      targetType: 'user',
      targetId: claimed.pseudonym,
      subjectUserId: claimed.pseudonym,
      details: { reason: claimed.reason, requestedAt: claimed.createdAt.toISOString() },
    })
  })
  services.logger.info({ deletion: deletionId, reason: claimed.reason }, 'account erased')
  return 'completed'
}

/**
 * Runs every erasure due at `now` (and any a crash interrupted), one after the other. An erasure
 * that fails is logged and retried at the next run; the others go on.
 *
 * @returns how many were completed.
 */
export async function runDueErasures(services: Services, now: Date): Promise<number> {
  const due = await services.db
    .select({ id: privacyDeletions.id })
    .from(privacyDeletions)
    .where(
      and(
        inArray(privacyDeletions.status, ['scheduled', 'running']),
        lte(privacyDeletions.eraseAt, now),
      ),
    )
    .orderBy(asc(privacyDeletions.eraseAt))
  let completed = 0
  for (const { id } of due) {
    try {
      if ((await runErasure(services, id, now)) === 'completed') completed += 1
    } catch (error) {
      services.logger.error({ err: error, deletion: id }, 'erasure interrupted; it resumes later')
    }
  }
  // The policy promises erasure within 30 days of the request: say so loudly well before.
  const overdue = await services.db
    .select({ id: privacyDeletions.id, requestedAt: privacyDeletions.createdAt })
    .from(privacyDeletions)
    .where(
      and(
        inArray(privacyDeletions.status, ['scheduled', 'running']),
        lte(privacyDeletions.createdAt, new Date(now.getTime() - OVERDUE_DAYS * DAY_MS)),
      ),
    )
  for (const deletion of overdue) {
    services.logger.error(
      { deletion: deletion.id, requestedAt: deletion.requestedAt },
      `an erasure requested over ${OVERDUE_DAYS} days ago is not complete: fix what interrupts it before the 30 days the privacy policy promises`,
    )
  }
  return completed
}
