import { isAdapterError } from '@post-scheduler/adapter-core'
import { and, asc, eq, gte, inArray, lt, sql } from 'drizzle-orm'
import { recordAudit } from '../audit/record.ts'
import type { TenantContext } from '../auth/middleware.ts'
import { generateId } from '../auth/secrets.ts'
import { tokenContext } from '../connections/accounts.ts'
import { SNAPSHOT, type Transaction } from '../db/client.ts'
import {
  connectedAccounts,
  type PlatformOverride,
  type PostContentData,
  type PublicationError,
  posts,
  publications,
} from '../db/schema/index.ts'
import { recordPostEvent } from '../events/emit.ts'
import { chronological, toPage } from '../http/pagination.ts'
import { type Issue, ProblemError } from '../http/problem.ts'
import { resolveOAuthApp } from '../platforms/service.ts'
import { refreshPostStatus } from '../publishing/post-status.ts'
import { enqueuePublication, HORIZON_SECONDS, withdrawWaitingJobs } from '../publishing/queue.ts'
import type { Services } from '../services.ts'
import {
  assertNoIssues,
  checkPost,
  lockAccountGuards,
  resolveProfile,
  resolveTiming,
} from './checks.ts'
import { getPost, loadPublications, type PostInput, presentPost } from './service.ts'

type Post = typeof posts.$inferSelect
type Publication = typeof publications.$inferSelect
type Account = typeof connectedAccounts.$inferSelect

/** Publications that have not started: the only ones a change, a cancel or publish-now touches. */
const PENDING = ['scheduled', 'queued'] as const
const isPending = (row: Publication) => (PENDING as readonly string[]).includes(row.status)

const conflict = (detail: string) => new ProblemError('CONFLICT', detail)

/**
 * Locks a post of the caller's (workspace, and profile for profile tokens) and its publications
 * until the transaction ends. A worker claiming one of them waits, then finds what this
 * transaction left: a claim and a change never interleave.
 */
async function lockPost(tx: Transaction, tenant: TenantContext, postId: string) {
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
  const queued = at.getTime() <= Date.now() + HORIZON_SECONDS * 1000
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
  const queued = at.getTime() <= Date.now() + HORIZON_SECONDS * 1000
  const rows = await tx
    .insert(publications)
    .values(
      accounts.map((account) => ({
        id: generateId('pub'),
        postId: post.id,
        workspaceId: post.workspaceId,
        accountId: account.id,
        platform: account.platform,
        status: queued ? ('queued' as const) : ('scheduled' as const),
        dueAt: at,
      })),
    )
    .returning()
  for (const row of rows) if (queued) await enqueueNow(tx, services, row)
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

async function cancelPending(tx: Transaction, services: Services, pending: Publication[]) {
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

/** How deleting one published copy from its platform went. */
export interface PlatformDeletion {
  publicationId: string
  accountId: string
  platform: string
  platformPostId: string
  outcome: 'deleted' | 'not_supported' | 'failed'
  error: PublicationError | null
}

/**
 * Deletes a post and its publications. With `fromPlatforms`, published copies are first deleted
 * from their platforms where the adapter can (`deletePost`); each outcome is reported, and a
 * failure never keeps the post. Pending publications are canceled before any platform call, so no
 * worker publishes meanwhile.
 *
 * @throws {ProblemError} `CONFLICT` while a publication is being published.
 */
export async function deletePost(
  services: Services,
  tenant: TenantContext,
  postId: string,
  options: { fromPlatforms: boolean },
) {
  const rows = await services.db.transaction(async (tx) => {
    const { rows } = await lockPost(tx, tenant, postId)
    const inFlight = rows.filter((row) => row.status === 'publishing')
    if (inFlight.length > 0) {
      throw conflict(
        'A publication is being published right now; cancel the post, wait for the attempt to end, then delete it',
      )
    }
    await cancelPending(tx, services, rows.filter(isPending))
    return rows
  })
  const platformDeletions: PlatformDeletion[] = []
  if (options.fromPlatforms) {
    for (const row of rows) {
      if (row.status !== 'published' || !row.platformPostId) continue
      platformDeletions.push(await deleteFromPlatform(services, row, row.platformPostId))
    }
  }
  await services.db.transaction(async (tx) => {
    await tx
      .delete(posts)
      .where(and(eq(posts.id, postId), eq(posts.workspaceId, tenant.workspaceId)))
    await recordAudit(tx, tenant.actor, {
      action: 'post.deleted',
      workspaceId: tenant.workspaceId,
      targetType: 'post',
      targetId: postId,
      details: {
        fromPlatforms: options.fromPlatforms,
        platformDeletions: platformDeletions.map(({ publicationId, outcome }) => ({
          publicationId,
          outcome,
        })),
      },
    })
  })
  return { id: postId, deleted: true as const, platformDeletions }
}

async function deleteFromPlatform(
  services: Services,
  row: Publication,
  platformPostId: string,
): Promise<PlatformDeletion> {
  const result = {
    publicationId: row.id,
    accountId: row.accountId,
    platform: row.platform,
    platformPostId,
  }
  const [account] = await services.db
    .select()
    .from(connectedAccounts)
    .where(eq(connectedAccounts.id, row.accountId))
  const platform = services.platforms.get(row.platform)
  if (!platform.capabilities.features.deletePost) {
    return { ...result, outcome: 'not_supported', error: null }
  }
  if (account?.status !== 'active' || !account.accessTokenSealed) {
    return {
      ...result,
      outcome: 'failed',
      error: {
        code: 'ACCOUNT_NOT_CONNECTED',
        message: `The ${row.platform} account needs to be reconnected to delete the post there`,
        retryable: false,
        action: 'reconnect',
      },
    }
  }
  try {
    const adapter = platform.adapter(await resolveOAuthApp(services, account.workspaceId, platform))
    if (!adapter.deletePost) return { ...result, outcome: 'not_supported', error: null }
    await adapter.deletePost(
      {
        accessToken: services.vault.open(
          account.accessTokenSealed,
          tokenContext(account, 'access_token'),
        ),
        accountId: account.platformAccountId,
        platformPostId,
      },
      platform.callOptions,
    )
    return { ...result, outcome: 'deleted', error: null }
  } catch (error) {
    if (!isAdapterError(error)) {
      services.logger.error({ err: error, publication: row.id }, 'deleting a published post failed')
    }
    return {
      ...result,
      outcome: 'failed',
      error: isAdapterError(error)
        ? {
            code: error.code,
            message: error.message,
            retryable: error.retryable,
            ...(error.action && { action: error.action }),
          }
        : {
            code: 'INTERNAL_ERROR',
            message: 'Deleting the post on the platform failed on our side',
            retryable: true,
          },
    }
  }
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

/** Filters and page of {@link listPosts}. */
export interface PostListQuery {
  limit: number
  cursor?: string | undefined
  status?: Post['status'] | undefined
  profileId?: string | undefined
  accountId?: string | undefined
  platform?: string | undefined
  /** Scheduled at or after this instant. */
  from?: string | undefined
  /** Scheduled before this instant. */
  to?: string | undefined
}

/**
 * Posts of the caller's workspace (a profile token's profile only), newest first, filtered by
 * status, profile, account, platform and a window of `scheduledAt`, with their publications.
 */
export async function listPosts(services: Services, tenant: TenantContext, query: PostListQuery) {
  // One snapshot, so no post contradicts its publications (see getPost).
  return services.db.transaction(async (db) => {
    const order = chronological(posts.createdAt, posts.id, query.cursor, 'desc')
    const found = await db
      .select({ post: posts, key: order.key })
      .from(posts)
      .where(
        and(
          eq(posts.workspaceId, tenant.workspaceId),
          tenant.profileId === undefined ? undefined : eq(posts.profileId, tenant.profileId),
          query.profileId === undefined ? undefined : eq(posts.profileId, query.profileId),
          query.status === undefined ? undefined : eq(posts.status, query.status),
          query.accountId === undefined
            ? undefined
            : sql`${query.accountId} = any(${posts.accountIds})`,
          query.platform === undefined
            ? undefined
            : sql`exists (select 1 from ${connectedAccounts} where ${connectedAccounts.id} = any(${posts.accountIds}) and ${connectedAccounts.platform} = ${query.platform})`,
          query.from === undefined ? undefined : gte(posts.scheduledAt, new Date(query.from)),
          query.to === undefined ? undefined : lt(posts.scheduledAt, new Date(query.to)),
          order.after,
        ),
      )
      .orderBy(...order.orderBy)
      .limit(query.limit + 1)
    const { rows, attempts } = await loadPublications(
      db,
      found.slice(0, query.limit).map((row) => row.post.id),
    )
    return toPage(
      found,
      query.limit,
      (row) => ({ key: row.key, id: row.post.id }),
      (row) =>
        presentPost(
          row.post,
          rows.filter((publication) => publication.postId === row.post.id),
          attempts,
        ),
    )
  }, SNAPSHOT)
}

/** One target's part of a validation: its account, platform and issues. */
export interface TargetValidation {
  accountId: string
  platform: string | null
  valid: boolean
  issues: Issue[]
}

/**
 * A dry run of creating a post: every issue, per target and overall, exactly as create would
 * answer them — but a missing time is no issue (the post is checked as if published now).
 */
export async function validatePost(services: Services, tenant: TenantContext, input: PostInput) {
  const profileId = await resolveProfile(services, tenant, input.profileId)
  const timing = resolveTiming(input, { required: false })
  const { accounts, issues } = await checkPost(services, tenant, profileId, input, {
    at: timing.at,
  })
  const all = [...issues, ...timing.issues]
  const targets: TargetValidation[] = input.accountIds.map((accountId, index) => {
    const platform = accounts.find((account) => account.id === accountId)?.platform ?? null
    const own = all.filter(
      (issue) =>
        (issue.path[0] === 'accountIds' && issue.path[1] === index) ||
        (platform !== null && issue.path[0] === 'targets' && issue.path[1] === platform),
    )
    return { accountId, platform, valid: own.length === 0, issues: own }
  })
  return { valid: all.length === 0, issues: all, targets }
}
