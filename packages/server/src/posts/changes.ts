import { and, asc, eq, inArray, sql } from 'drizzle-orm'
import { recordAudit } from '../audit/record.ts'
import type { TenantContext } from '../auth/principal.ts'
import type { Transaction } from '../db/client.ts'
import {
  type connectedAccounts,
  type PlatformOverride,
  type PostContentData,
  posts,
  publications,
} from '../db/schema/index.ts'
import { type Issue, ProblemError } from '../errors/problem.ts'
import { recordPostEvent } from '../events/emit.ts'
import { refreshPostStatus } from '../publishing/post-status.ts'
import { buildPublications, publishingHorizon } from '../publishing/publications.ts'
import { enqueuePublication, withdrawWaitingJobs } from '../publishing/queue.ts'
import type { Services } from '../services.ts'
import { assertNoIssues, checkPost, lockAccountGuards, resolveTiming } from './checks.ts'
import { getPost } from './list.ts'

type Post = typeof posts.$inferSelect
type Publication = typeof publications.$inferSelect
type Account = typeof connectedAccounts.$inferSelect

/** Publications that have not started: the only ones a change, a cancel or publish-now touches. */
const PENDING = ['scheduled', 'queued'] as const
export const isPending = (row: Publication) => (PENDING as readonly string[]).includes(row.status)

export const conflict = (detail: string) => new ProblemError('CONFLICT', detail)

/**
 * Locks a post of the caller's (workspace, and profile for profile tokens) and its publications
 * until the transaction ends. A worker claiming one of them waits, then finds what this
 * transaction left: a claim and a change never interleave.
 */
export async function lockPost(tx: Transaction, tenant: TenantContext, postId: string) {
  const [post] = await tx
    .select()
    .from(posts)
    .where(
      and(
        eq(posts.id, postId),
        eq(posts.workspaceId, tenant.workspaceId),
        tenant.profileId === undefined ? undefined : eq(posts.profileId, tenant.profileId),
      ),
    )
    .for('update')
  if (!post) throw new ProblemError('NOT_FOUND', `No post ${postId}`)
  const rows = await tx
    .select()
    .from(publications)
    .where(eq(publications.postId, postId))
    .orderBy(asc(publications.createdAt))
    .for('update')
  return { post, rows }
}

/**
 * Moves pending publications to `at` with conditional updates (still `scheduled`/`queued`), and
 * enqueues those due within the horizon in the same transaction.
 *
 * @throws {ProblemError} `CONFLICT` when one has started meanwhile.
 */
async function retime(tx: Transaction, services: Services, rows: Publication[], at: Date) {
  const queued = at <= publishingHorizon()
  for (const row of rows) {
    const [moved] = await tx
      .update(publications)
      // A new time from the user ends any wait for the account's budget (see `awaitingSlotSince`).
      .set({
        status: queued ? 'queued' : 'scheduled',
        dueAt: at,
        awaitingSlotSince: null,
        updatedAt: sql`now()`,
      })
      .where(and(eq(publications.id, row.id), inArray(publications.status, [...PENDING])))
      .returning()
    if (!moved) throw conflict(`Publishing of ${row.id} has started; it can no longer change`)
    await withdrawWaitingJobs(tx, services.config.queueSchema, [row.id])
    if (queued) await enqueueNow(tx, services, moved)
  }
}

const enqueueNow = (tx: Transaction, services: Services, publication: Publication) =>
  enqueuePublication(tx, services.queue, publication, {
    expireInSeconds: services.config.publishing.deadlineSeconds * 2,
  })

/** Inserts a publication per account, due at `at`, enqueued when within the horizon. */
async function insertPublications(
  tx: Transaction,
  services: Services,
  post: Post,
  accounts: Pick<Account, 'id' | 'platform'>[],
  at: Date,
) {
  if (accounts.length === 0) return
  const rows = await tx
    .insert(publications)
    .values(buildPublications(post, accounts, at, publishingHorizon()))
    .returning()
  for (const row of rows) if (row.status === 'queued') await enqueueNow(tx, services, row)
}

/** What a caller may change of a post. `scheduledAt: null` turns it back into a draft. */
export interface PostPatch {
  accountIds?: string[] | undefined
  content?: PostContentData | undefined
  overrides?: Record<string, PlatformOverride> | undefined
  scheduledAt?: string | null | undefined
  timezone?: string | undefined
}

/**
 * Changes a post's content, targets or time — turning a draft into a scheduled post, or back —
 * while none of its publications has started. Checked like a new post (targets, caps,
 * duplicates); publications of removed accounts go, new accounts get theirs, and a new time moves
 * every pending publication (re-enqueued in the same transaction when due soon).
 *
 * @throws {ProblemError} `CONFLICT` once publishing has started or after a cancel;
 * `VALIDATION_FAILED` with every issue.
 */
export async function updatePost(
  services: Services,
  tenant: TenantContext,
  postId: string,
  patch: PostPatch,
) {
  const now = Date.now()
  await services.db.transaction(async (tx) => {
    const { post, rows } = await lockPost(tx, tenant, postId)
    if (post.status === 'canceled') throw conflict('The post was canceled; create a new one')
    const started = rows.filter((row) => !isPending(row))
    if (started.length > 0) {
      throw conflict(
        `Publishing has started (${started.map((row) => `${row.platform}: ${row.status}`).join(', ')}); a post can change only until then`,
      )
    }
    const draft = {
      accountIds: patch.accountIds ?? post.accountIds,
      content: patch.content ?? post.content,
      overrides: patch.overrides ?? post.overrides,
    }
    const timing =
      patch.scheduledAt === undefined
        ? { at: post.scheduledAt, issues: [] as Issue[] }
        : patch.scheduledAt === null
          ? { at: null, issues: [] as Issue[] }
          : resolveTiming({ scheduledAt: patch.scheduledAt }, { required: true, now })
    const at = timing.at
    if (at && draft.accountIds.length === 0) {
      timing.issues.push({
        location: 'body',
        path: ['accountIds'],
        code: 'missing_accounts',
        message: 'A scheduled post needs at least one account',
      })
    }
    if (at) await lockAccountGuards(tx, draft.accountIds)
    const { accounts, issues } = await checkPost(services, tenant, post.profileId, draft, {
      at,
      excludePostId: post.id,
      db: tx,
    })
    assertNoIssues([...issues, ...timing.issues])

    const leaving = at ? rows.filter((row) => !draft.accountIds.includes(row.accountId)) : rows
    if (leaving.length > 0) {
      const removed = await tx
        .delete(publications)
        .where(
          and(
            inArray(
              publications.id,
              leaving.map((row) => row.id),
            ),
            inArray(publications.status, [...PENDING]),
          ),
        )
        .returning({ id: publications.id })
      if (removed.length !== leaving.length) throw conflict('Publishing has started meanwhile')
      await withdrawWaitingJobs(
        tx,
        services.config.queueSchema,
        leaving.map((row) => row.id),
      )
    }
    if (at) {
      const staying = rows.filter((row) => draft.accountIds.includes(row.accountId))
      if (at.getTime() !== post.scheduledAt?.getTime()) await retime(tx, services, staying, at)
      const arriving = draft.accountIds
        .filter((id) => !rows.some((row) => row.accountId === id))
        .map((id) => accounts.find((account) => account.id === id))
        .filter((account) => account !== undefined)
      await insertPublications(tx, services, post, arriving, at)
    }
    await tx
      .update(posts)
      .set({
        ...draft,
        scheduledAt: at,
        timezone: patch.timezone ?? post.timezone,
        status: at ? 'scheduled' : 'draft',
        updatedAt: sql`now()`,
      })
      .where(eq(posts.id, post.id))
    if (at && (post.status === 'draft' || at.getTime() !== post.scheduledAt?.getTime())) {
      await recordPostEvent(tx, post.id, 'post.scheduled')
    }
    await recordAudit(tx, tenant.actor, {
      action: 'post.updated',
      workspaceId: tenant.workspaceId,
      targetType: 'post',
      targetId: post.id,
      details: { fields: Object.keys(patch), status: at ? 'scheduled' : 'draft' },
    })
  })
  return getPost(services, tenant, postId)
}

/**
 * Cancels what has not started: pending publications become `canceled` (a draft becomes a
 * canceled post). Publications already publishing or finished are left as they are.
 *
 * @throws {ProblemError} `CONFLICT` when nothing is left to cancel.
 */
export async function cancelPost(services: Services, tenant: TenantContext, postId: string) {
  await services.db.transaction(async (tx) => {
    const { post, rows } = await lockPost(tx, tenant, postId)
    if (post.status === 'canceled') return
    const pending = rows.filter(isPending)
    if (rows.length > 0 && pending.length === 0) {
      throw conflict('Nothing left to cancel: every publication has started or finished')
    }
    await cancelPending(tx, services, pending)
    await tx
      .update(posts)
      .set({
        canceledAt: sql`now()`,
        updatedAt: sql`now()`,
        ...(rows.length === 0 && { status: 'canceled' as const }),
      })
      .where(eq(posts.id, post.id))
    await refreshPostStatus(tx, post.id)
    // A draft has no publications to recompute the status from.
    if (rows.length === 0) await recordPostEvent(tx, post.id, 'post.canceled')
    await recordAudit(tx, tenant.actor, {
      action: 'post.canceled',
      workspaceId: tenant.workspaceId,
      targetType: 'post',
      targetId: post.id,
      details: { canceledPublications: pending.length },
    })
  })
  return getPost(services, tenant, postId)
}

/** Cancels pending publications (conditionally) and withdraws their waiting jobs. */
export async function cancelPending(tx: Transaction, services: Services, pending: Publication[]) {
  if (pending.length === 0) return
  const canceled = await tx
    .update(publications)
    .set({ status: 'canceled', updatedAt: sql`now()` })
    .where(
      and(
        inArray(
          publications.id,
          pending.map((row) => row.id),
        ),
        inArray(publications.status, [...PENDING]),
      ),
    )
    .returning({ id: publications.id })
  if (canceled.length !== pending.length) throw conflict('Publishing has started meanwhile')
  await withdrawWaitingJobs(
    tx,
    services.config.queueSchema,
    pending.map((row) => row.id),
  )
}

/**
 * Publishes a post now: its pending publications become due at once (checked against today's caps
 * and the duplicate window), or a draft gets its publications.
 *
 * @throws {ProblemError} `CONFLICT` when nothing is pending (use retry for a failed publication).
 */
export async function publishPostNow(services: Services, tenant: TenantContext, postId: string) {
  await services.db.transaction(async (tx) => {
    const { post, rows } = await lockPost(tx, tenant, postId)
    if (post.status === 'canceled') throw conflict('The post was canceled; create a new one')
    const pending = rows.filter(isPending)
    if (rows.length > 0 && pending.length === 0) {
      throw conflict(
        'Nothing is waiting to be published; retry a failed or unconfirmed publication instead',
      )
    }
    const at = new Date()
    const accountIds =
      rows.length === 0 ? post.accountIds : pending.map((publication) => publication.accountId)
    if (accountIds.length === 0) {
      assertNoIssues([
        {
          location: 'body',
          path: ['accountIds'],
          code: 'missing_accounts',
          message: 'The draft has no accounts; add some with PATCH first',
        },
      ])
    }
    await lockAccountGuards(tx, accountIds)
    const { accounts, issues } = await checkPost(
      services,
      tenant,
      post.profileId,
      { accountIds, content: post.content, overrides: post.overrides },
      { at, excludePostId: post.id, db: tx },
    )
    assertNoIssues(issues)
    if (rows.length === 0) await insertPublications(tx, services, post, accounts, at)
    else await retime(tx, services, pending, at)
    await tx
      .update(posts)
      .set({ status: 'scheduled', scheduledAt: at, updatedAt: sql`now()` })
      .where(eq(posts.id, post.id))
    await refreshPostStatus(tx, post.id)
    // Immediate posts announce their time like scheduled ones.
    await recordPostEvent(tx, post.id, 'post.scheduled')
    await recordAudit(tx, tenant.actor, {
      action: 'post.published_now',
      workspaceId: tenant.workspaceId,
      targetType: 'post',
      targetId: post.id,
      details: { publications: accountIds.length },
    })
  })
  return getPost(services, tenant, postId)
}

/**
 * Tries a `failed` or `unconfirmed` publication again, now. Its saved handles stay: for an
 * unconfirmed one the engine first asks the platform whether the earlier attempt made the post,
 * and publishes only if it did not.
 *
 * @throws {ProblemError} `CONFLICT` for a publication in any other state.
 */
export async function retryPublication(
  services: Services,
  tenant: TenantContext,
  postId: string,
  publicationId: string,
) {
  await services.db.transaction(async (tx) => {
    const { rows } = await lockPost(tx, tenant, postId)
    const row = rows.find((candidate) => candidate.id === publicationId)
    if (!row) throw new ProblemError('NOT_FOUND', `No publication ${publicationId} in this post`)
    if (row.status !== 'failed' && row.status !== 'unconfirmed') {
      throw conflict(
        `The publication is ${row.status}; only failed or unconfirmed ones can be retried`,
      )
    }
    const [queued] = await tx
      .update(publications)
      .set({ status: 'queued', dueAt: new Date(), deadlineAt: null, updatedAt: sql`now()` })
      .where(
        and(eq(publications.id, row.id), inArray(publications.status, ['failed', 'unconfirmed'])),
      )
      .returning()
    if (!queued) throw conflict('The publication changed meanwhile')
    await withdrawWaitingJobs(tx, services.config.queueSchema, [row.id])
    await enqueueNow(tx, services, queued)
    await refreshPostStatus(tx, postId)
    await recordAudit(tx, tenant.actor, {
      action: 'publication.retried',
      workspaceId: tenant.workspaceId,
      targetType: 'publication',
      targetId: row.id,
      details: { postId, previousStatus: row.status },
    })
  })
  return getPost(services, tenant, postId)
}
