import { recordAudit } from '../audit/record.ts'
import type { TenantContext } from '../auth/principal.ts'
import { generateId } from '../db/ids.ts'
import {
  type PlatformOverride,
  type PostContentData,
  posts,
  publications,
} from '../db/schema/index.ts'
import type { Issue } from '../errors/problem.ts'
import { postEventData } from '../events/emit.ts'
import { recordEvent } from '../events/events.ts'
import { resolveProfileId } from '../profiles/resolve.ts'
import { buildPublications, publishingHorizon } from '../publishing/publications.ts'
import { enqueuePublications } from '../publishing/queue.ts'
import { takeQueueSlot } from '../scheduling/schedules.ts'
import { insertSeries, recurrenceOf } from '../scheduling/series.ts'
import { planTiming, type TimingInput } from '../scheduling/timing.ts'
import type { Services } from '../services.ts'
import { assertNoIssues, checkPost, profileFor, resolveTiming } from './checks.ts'
import { presentPost } from './list.ts'

/** What a caller asks for when creating a post; its timing is scheduling's {@link TimingInput}. */
export interface PostInput extends TimingInput {
  profileId?: string | undefined
  accountIds: string[]
  content: PostContentData
  overrides?: Record<string, PlatformOverride> | undefined
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
    const profileId = await resolveProfileId(services.db, tenant, input.profileId)
    const { issues } = await checkPost(services, tenant, profileId, input, { at: plannedAt })
    assertNoIssues([...issues, ...timingIssues])
  }

  const postId = generateId('post')
  const horizon = publishingHorizon(now)
  const { post, rows } = await db.transaction(async (tx) => {
    let profile = profileFor(tenant, input.profileId)
    let scheduledAt = plannedAt
    let timezone = input.timezone ?? 'UTC'
    if (input.queue) {
      profile = await resolveProfileId(tx, tenant, input.profileId)
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
      ? buildPublications(
          { id: postId, workspaceId: tenant.workspaceId },
          accounts,
          scheduledAt,
          horizon,
        )
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
  const profileId = await resolveProfileId(services.db, tenant, input.profileId)
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
