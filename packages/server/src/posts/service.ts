import { and, asc, eq, inArray } from 'drizzle-orm'
import { recordAudit } from '../audit/record.ts'
import type { TenantContext } from '../auth/middleware.ts'
import { generateId } from '../auth/secrets.ts'
import {
  connectedAccounts,
  type PlatformOverride,
  type PostContentData,
  posts,
  profiles,
  publicationAttempts,
  publications,
} from '../db/schema/index.ts'
import type { Issue } from '../http/problem.ts'
import { ProblemError } from '../http/problem.ts'
import { contentFor } from '../publishing/engine.ts'
import { enqueuePublication, HORIZON_SECONDS } from '../publishing/queue.ts'
import type { Services } from '../services.ts'

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
}

/** What the API shows of a post, with each publication and its attempts. */
export function presentPost(post: Post, rows: Publication[], attempts: Attempt[] = []) {
  return {
    id: post.id,
    profileId: post.profileId,
    status: post.status,
    content: post.content,
    overrides: post.overrides,
    scheduledAt: post.scheduledAt?.toISOString() ?? null,
    timezone: post.timezone,
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

const invalid = (issues: Issue[]) => {
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`
  return new ProblemError('VALIDATION_FAILED', `The post has ${count}; see issues`, { issues })
}

/**
 * Creates a post for one or more connected accounts of a profile, validated for each target
 * platform (every issue of every target at once, with its path). Unless it is a draft, one
 * publication per account is created; those due within the next minutes are enqueued in the same
 * transaction, the others by the sweeper when their time approaches.
 */
export async function createPost(services: Services, tenant: TenantContext, input: PostInput) {
  const { db } = services
  const profileId = await resolveProfile(services, tenant, input.profileId)
  const accounts = await db
    .select()
    .from(connectedAccounts)
    .where(
      and(
        eq(connectedAccounts.workspaceId, tenant.workspaceId),
        eq(connectedAccounts.profileId, profileId),
        inArray(connectedAccounts.id, input.accountIds),
      ),
    )
  const issues: Issue[] = []
  input.accountIds.forEach((accountId, index) => {
    const account = accounts.find((candidate) => candidate.id === accountId)
    if (!account) {
      issues.push({
        location: 'body',
        path: ['accountIds', index],
        code: 'unknown_account',
        message: `No connected account ${accountId} in this profile`,
      })
    } else if (account.status !== 'active') {
      issues.push({
        location: 'body',
        path: ['accountIds', index],
        code: 'account_not_active',
        message: `${account.displayName} (${account.platform}) is ${account.status}: reconnect it first`,
      })
    }
  })
  if (input.content.mediaIds.length > 0) {
    issues.push({
      location: 'body',
      path: ['content', 'mediaIds'],
      code: 'media_not_supported_yet',
      message: 'Posts with media are not supported by this server version yet',
    })
  }
  const draftPost = { content: input.content, overrides: input.overrides ?? {} } as Post
  for (const platform of new Set(accounts.map((account) => account.platform))) {
    for (const issue of services.platforms
      .get(platform)
      .validatePost({ post: contentFor(draftPost, platform) })) {
      issues.push({
        location: 'body',
        path: ['targets', platform, ...issue.path],
        code: issue.code,
        message: issue.message,
      })
    }
  }
  const now = Date.now()
  const scheduledAt = input.draft
    ? null
    : input.publishNow
      ? new Date(now)
      : input.scheduledAt
        ? new Date(input.scheduledAt)
        : undefined
  if (scheduledAt === undefined) {
    issues.push({
      location: 'body',
      path: ['scheduledAt'],
      code: 'missing_time',
      message: 'Give scheduledAt, or set publishNow or draft',
    })
  } else if (scheduledAt && !input.publishNow && scheduledAt.getTime() < now - 60_000) {
    issues.push({
      location: 'body',
      path: ['scheduledAt'],
      code: 'in_the_past',
      message: 'scheduledAt is in the past; use publishNow to publish at once',
    })
  }
  if (issues.length > 0) throw invalid(issues)

  const postId = generateId('post')
  const horizon = now + HORIZON_SECONDS * 1000
  const { post, rows } = await db.transaction(async (tx) => {
    const [post] = await tx
      .insert(posts)
      .values({
        id: postId,
        workspaceId: tenant.workspaceId,
        profileId,
        status: scheduledAt ? 'scheduled' : 'draft',
        content: input.content,
        overrides: input.overrides ?? {},
        scheduledAt: scheduledAt ?? null,
        timezone: input.timezone ?? 'UTC',
        createdBy: tenant.actor.id ?? null,
      })
      .returning()
    if (!post) throw new Error('the post insert returned no row')
    const rows = scheduledAt
      ? await tx
          .insert(publications)
          .values(
            accounts.map((account) => ({
              id: generateId('pub'),
              postId,
              workspaceId: tenant.workspaceId,
              accountId: account.id,
              platform: account.platform,
              status:
                scheduledAt.getTime() <= horizon ? ('queued' as const) : ('scheduled' as const),
              dueAt: scheduledAt,
            })),
          )
          .returning()
      : []
    for (const publication of rows) {
      if (publication.status === 'queued') {
        await enqueuePublication(tx, services.queue, publication, {
          expireInSeconds: services.config.publishing.deadlineSeconds * 2,
        })
      }
    }
    await recordAudit(tx, tenant.actor, {
      action: 'post.created',
      workspaceId: tenant.workspaceId,
      targetType: 'post',
      targetId: postId,
      details: { accounts: accounts.length, status: post.status },
    })
    return { post, rows }
  })
  return presentPost(post, rows)
}

/** A post of the caller's workspace (and profile, for profile tokens), with its publications. */
export async function getPost(services: Services, tenant: TenantContext, postId: string) {
  const [post] = await services.db
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
  const rows = await services.db
    .select()
    .from(publications)
    .where(eq(publications.postId, postId))
    .orderBy(asc(publications.createdAt))
  const attempts = rows.length
    ? await services.db
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
  return presentPost(post, rows, attempts)
}

async function resolveProfile(
  services: Services,
  tenant: TenantContext,
  requested: string | undefined,
) {
  if (tenant.profileId !== undefined) {
    if (requested !== undefined && requested !== tenant.profileId)
      throw new ProblemError('NOT_FOUND', `No profile ${requested}`)
    return tenant.profileId
  }
  const [profile] = await services.db
    .select({ id: profiles.id })
    .from(profiles)
    .where(
      and(
        eq(profiles.workspaceId, tenant.workspaceId),
        requested === undefined ? eq(profiles.isDefault, true) : eq(profiles.id, requested),
      ),
    )
  if (!profile) throw new ProblemError('NOT_FOUND', `No profile ${requested ?? '(default)'}`)
  return profile.id
}
