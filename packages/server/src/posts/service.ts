import { and, asc, eq, inArray } from 'drizzle-orm'
import { recordAudit } from '../audit/record.ts'
import type { TenantContext } from '../auth/middleware.ts'
import { generateId } from '../auth/secrets.ts'
import { SNAPSHOT, type Transaction } from '../db/client.ts'
import {
  type PlatformOverride,
  type PostContentData,
  posts,
  publicationAttempts,
  publications,
} from '../db/schema/index.ts'
import { postEventData } from '../events/emit.ts'
import { recordEvent } from '../events/events.ts'
import { ProblemError } from '../http/problem.ts'
import { enqueuePublications, HORIZON_SECONDS } from '../publishing/queue.ts'
import { takeQueueSlot } from '../scheduling/schedules.ts'
import { insertSeries, recurrenceOf } from '../scheduling/series.ts'
import { planTiming } from '../scheduling/timing.ts'
import type { Services } from '../services.ts'
import { assertNoIssues, checkPost, profileFor, resolveProfile, resolveTiming } from './checks.ts'

type Post = typeof posts.$inferSelect
type Publication = typeof publications.$inferSelect
type Attempt = typeof publicationAttempts.$inferSelect

/** What a caller asks for when creating a post. */
export interface PostInput {
  profileId?: string | undefined
  accountIds: string[]
  content: PostContentData
  overrides?: Record<string, PlatformOverride> | undefined
  /** When to publish; with `publishNow` or `draft` it must be absent. */
  scheduledAt?: string | undefined
  timezone?: string | undefined
  publishNow?: boolean | undefined
  draft?: boolean | undefined
  /** Take the next free slot of the profile's posting schedule (see `src/scheduling`). */
  queue?: boolean | undefined
  /** Repeat the post: an RRULE evaluated in `timezone` from `scheduledAt`. */
  recurrence?: { rule: string } | undefined
}

/** What the API shows of a post, with each publication and its attempts. */
export function presentPost(post: Post, rows: Publication[], attempts: Attempt[] = []) {
  return {
    id: post.id,
    profileId: post.profileId,
    status: post.status,
    content: post.content,
    overrides: post.overrides,
    accountIds: post.accountIds,
    scheduledAt: post.scheduledAt?.toISOString() ?? null,
    timezone: post.timezone,
    seriesId: post.seriesId ?? null,
    createdAt: post.createdAt.toISOString(),
    updatedAt: post.updatedAt.toISOString(),
    publications: rows.map((publication) => ({
      id: publication.id,
      accountId: publication.accountId,
      platform: publication.platform,
      status: publication.status,
      dueAt: publication.dueAt.toISOString(),
      attempts: publication.attempts,
      platformPostId: publication.platformPostId,
      url: publication.url,
      error: publication.error ?? null,
      publishedAt: publication.publishedAt?.toISOString() ?? null,
      timeline: attempts
        .filter((attempt) => attempt.publicationId === publication.id)
        .map((attempt) => ({
          attemptId: attempt.attemptId,
          startedAt: attempt.startedAt.toISOString(),
          finishedAt: attempt.finishedAt?.toISOString() ?? null,
          outcome: attempt.outcome,
          error: attempt.error ?? null,
        })),
    })),
  }
}

/**
 * Creates a post for one or more connected accounts of a profile, validated for each target
 * platform (every issue of every target at once, with its path). Unless it is a draft, one
 * publication per account is created; those due within the next minutes are enqueued in the same
 * transaction, the others by the sweeper when their time approaches.
 */
export async function createPost(services: Services, tenant: TenantContext, input: PostInput) {
  const { db } = services
  const now = Date.now()
  const planned = planTiming(input)
  const timing = input.queue
    ? { at: null, issues: [] }
    : resolveTiming(input, { required: true, now })
  const plannedAt = planned.firstAt ?? timing.at
  const timingIssues = [...timing.issues, ...planned.issues]
  if (timingIssues.length > 0) {
    // Every issue in one answer: the content's too.
    const profileId = await resolveProfile(services, tenant, input.profileId)
    const { issues } = await checkPost(services, tenant, profileId, input, { at: plannedAt })
    assertNoIssues([...issues, ...timingIssues])
  }

  const postId = generateId('post')
  const horizon = now + HORIZON_SECONDS * 1000
  const { post, rows } = await db.transaction(async (tx) => {
    let profile = profileFor(tenant, input.profileId)
    let scheduledAt = plannedAt
    let timezone = input.timezone ?? 'UTC'
    if (input.queue) {
      profile = await resolveProfile(services, tenant, input.profileId, tx)
      // A queued post takes its slot under a lock on the profile: two never take the same one.
      const queued = await takeQueueSlot(tx, profile, new Date(now))
      scheduledAt = queued?.scheduledAt ?? plannedAt
      timezone = input.timezone ?? queued?.timezone ?? 'UTC'
    }
    // Checked once, in the transaction that creates the publications, and under a lock on the
    // accounts' guards (taken in the checks' round trip), so two posts created at once cannot both
    // take an account's last slot. The check resolves the profile too.
    const { profileId, accounts, issues } = await checkPost(services, tenant, profile, input, {
      at: scheduledAt,
      db: tx,
      lockGuards: scheduledAt !== null,
    })
    assertNoIssues(issues)
    const seriesId =
      input.recurrence && input.scheduledAt && scheduledAt
        ? await insertSeries(tx, {
            workspaceId: tenant.workspaceId,
            profileId,
            rule: input.recurrence.rule,
            timezone,
            startsAt: new Date(input.scheduledAt),
            firstAt: scheduledAt,
            accountIds: input.accountIds,
            content: input.content,
            overrides: input.overrides ?? {},
            createdBy: tenant.actor.id ?? null,
          })
        : null
    const status = scheduledAt ? ('scheduled' as const) : ('draft' as const)
    const newPublications = scheduledAt
      ? accounts.map((account) => ({
          id: generateId('pub'),
          postId,
          workspaceId: tenant.workspaceId,
          accountId: account.id,
          platform: account.platform,
          status: scheduledAt.getTime() <= horizon ? ('queued' as const) : ('scheduled' as const),
          dueAt: scheduledAt,
        }))
      : []
    // Every write in one round trip. The post is issued before its publications (they reference
    // it): statements of a transaction run in the order they are issued.
    const postInsert = tx
      .insert(posts)
      .values({
        id: postId,
        workspaceId: tenant.workspaceId,
        profileId,
        status,
        content: input.content,
        overrides: input.overrides ?? {},
        accountIds: input.accountIds,
        scheduledAt: scheduledAt ?? null,
        timezone,
        seriesId,
        createdBy: tenant.actor.id ?? null,
      })
      .returning()
      .execute()
    const publicationsInsert =
      newPublications.length > 0
        ? tx.insert(publications).values(newPublications).returning().execute()
        : Promise.resolve([])
    const [[post], rows] = await Promise.all([
      postInsert,
      publicationsInsert,
      recordAudit(tx, tenant.actor, {
        action: 'post.created',
        workspaceId: tenant.workspaceId,
        targetType: 'post',
        targetId: postId,
        details: { accounts: accounts.length, status },
      }),
      status === 'scheduled'
        ? recordEvent(tx, {
            type: 'post.scheduled',
            workspaceId: tenant.workspaceId,
            profileId,
            data: postEventData(
              { id: postId, profileId, status, scheduledAt, timezone, seriesId },
              // A new publication has no platform post, URL, publishing time or error yet.
              newPublications.map((publication) => ({
                ...publication,
                platformPostId: null,
                url: null,
                publishedAt: null,
                error: null,
              })),
            ),
          })
        : undefined,
      // Those due within the horizon get their job now, in this transaction.
      enqueuePublications(
        tx,
        services.queue,
        newPublications.filter((publication) => publication.status === 'queued'),
        { expireInSeconds: services.config.publishing.deadlineSeconds * 2 },
      ),
    ])
    if (!post) throw new Error('the post insert returned no row')
    return { post, rows }
  })
  return { ...presentPost(post, rows), recurrence: await recurrenceOf(db, post.seriesId) }
}

/** A post of the caller's workspace (and profile, for profile tokens), with its publications. */
export async function getPost(services: Services, tenant: TenantContext, postId: string) {
  // One snapshot: a publication finishing between two reads would show a post that contradicts
  // its publications.
  return services.db.transaction(readPost, SNAPSHOT)

  async function readPost(db: Transaction) {
    const [post] = await db
      .select()
      .from(posts)
      .where(
        and(
          eq(posts.id, postId),
          eq(posts.workspaceId, tenant.workspaceId),
          tenant.profileId === undefined ? undefined : eq(posts.profileId, tenant.profileId),
        ),
      )
    if (!post) throw new ProblemError('NOT_FOUND', `No post ${postId}`)
    const { rows, attempts } = await loadPublications(db, [postId])
    return {
      ...presentPost(post, rows, attempts),
      recurrence: await recurrenceOf(db, post.seriesId),
    }
  }
}

/** The publications of posts, oldest first, with their attempts (for their timelines). */
export async function loadPublications(db: Transaction, postIds: string[]) {
  const rows = postIds.length
    ? await db
        .select()
        .from(publications)
        .where(inArray(publications.postId, postIds))
        .orderBy(asc(publications.createdAt))
    : []
  const attempts = rows.length
    ? await db
        .select()
        .from(publicationAttempts)
        .where(
          inArray(
            publicationAttempts.publicationId,
            rows.map((row) => row.id),
          ),
        )
        .orderBy(asc(publicationAttempts.startedAt))
    : []
  return { rows, attempts }
}
