import { sql } from 'drizzle-orm'
import type { TenantContext } from '../auth/principal.ts'
import type { Database, Transaction } from '../db/client.ts'
import { lockKeys } from '../db/locks.ts'
import {
  connectedAccounts,
  type PlatformOverride,
  type PostContentData,
  posts,
  profiles,
  publications,
  publishingSettings,
} from '../db/schema/index.ts'
import { type Issue, ProblemError } from '../errors/problem.ts'
import { describeWorkspaceMedia, validateMediaForPlatforms } from '../media/publishing.ts'
import { profileNotFound, resolveProfileId, tokenProfileId } from '../profiles/resolve.ts'
import type { Services } from '../services.ts'
import { contentFor, mediaIdsFor } from './content.ts'
import {
  DEFAULT_DUPLICATE_WINDOW_SECONDS,
  type EffectivePublishingSettings,
  effectivePublishingSettings,
} from './publishing-settings.ts'

type Db = Database | Transaction
type Account = typeof connectedAccounts.$inferSelect

/** What a post is made of, as checked before it is created, changed or validated. */
export interface PostDraft {
  accountIds: string[]
  content: PostContentData
  overrides?: Record<string, PlatformOverride> | undefined
}

/** What the checks read of a connected account (never its tokens). */
export type CheckedAccount = Pick<Account, 'id' | 'platform' | 'status' | 'displayName'>

/** The outcome of {@link checkPost}: the accounts found and every issue, with its path. */
export interface PostCheck {
  /** The profile checked against (resolved by the check when it was given as a request). */
  profileId: string
  accounts: CheckedAccount[]
  issues: Issue[]
}

/** Publications that count against caps and duplicates: everything but what will never post. */
const LIVE = [
  'scheduled',
  'queued',
  'publishing',
  'processing',
  'published',
  'unconfirmed',
] as const

/**
 * Checks a post for its targets, all at once: each account must be connected and active in the
 * profile, the content must suit every target platform (each adapter's `validatePost`, paths
 * under `targets.<platform>`), and — when it has a time — each account must stay under its daily
 * cap and not get the same text twice within the workspace's duplicate window. Shared by create,
 * update and validate, so they never disagree.
 */
export async function checkPost(
  services: Services,
  tenant: TenantContext,
  profile: string | ProfileRequest,
  draft: PostDraft,
  options: {
    at: Date | null
    excludePostId?: string | undefined
    db?: Db
    /**
     * Take the accounts' guard locks (see {@link lockAccountGuards}) in the same round trip, just
     * before the checks' statement: for a transaction that has not taken them yet.
     */
    lockGuards?: boolean
  },
): Promise<PostCheck> {
  const db = options.db ?? services.db
  const { profileId, accounts, guards } = draft.accountIds.length
    ? await readChecks(services, tenant.workspaceId, profile, draft.accountIds, {
        at: options.at,
        excludePostId: options.excludePostId,
        db,
        lockGuards: options.lockGuards ?? false,
      })
    : {
        profileId:
          typeof profile === 'string'
            ? profile
            : await resolveProfileId(db, tenant, profile.requested),
        accounts: [],
        guards: undefined,
      }
  const issues: Issue[] = []
  draft.accountIds.forEach((accountId, index) => {
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
  const asPost = { content: draft.content, overrides: draft.overrides ?? {} }
  for (const platform of new Set(accounts.map((account) => account.platform))) {
    // Media are checked against each platform's limits with what they are (type, size,
    // dimensions, duration), in the same answer as the text.
    const mediaIds = mediaIdsFor(asPost, platform)
    const mediaIssues = await validateMediaForPlatforms(services, tenant.workspaceId, mediaIds, [
      platform,
    ])
    for (const issue of mediaIssues) {
      issues.push({
        location: 'body',
        path: ['targets', platform, ...issue.path],
        code: issue.code,
        message: issue.message,
      })
    }
    // The adapter sees the media too: its own rules (Instagram's JPEG-only images, a media post
    // needing a reachable PUBLIC_URL) and whether a post needs media at all are its to judge.
    const seen = new Set(mediaIssues.map((issue) => `${issue.path.join('/')} ${issue.code}`))
    const post = {
      ...contentFor(asPost, platform),
      media: await describeWorkspaceMedia(services, tenant.workspaceId, mediaIds),
    }
    for (const issue of services.platforms.get(platform).validatePost({ post })) {
      if (seen.has(`${issue.path.join('/')} ${issue.code}`)) continue
      issues.push({
        location: 'body',
        path: ['targets', platform, ...issue.path],
        code: issue.code,
        message: issue.message,
      })
    }
  }
  if (options.at && guards) {
    issues.push(...checkGuards(draft, accounts, options.at, guards))
  }
  return { profileId, accounts, issues }
}

/**
 * Serializes the guard checks of the given accounts until the transaction ends, so two posts
 * created at once cannot both take an account's last slot of the day (or both be "the first" of
 * a duplicate pair). Locks in id order: no deadlock between two posts sharing accounts.
 */
export async function lockAccountGuards(tx: Pick<Transaction, 'execute'>, accountIds: string[]) {
  await lockKeys(tx, guardKeys(accountIds))
}

const guardKeys = (accountIds: string[]) =>
  [...new Set(accountIds)].sort().map((accountId) => `publishing-guard:${accountId}`)

interface GuardRows {
  settings: EffectivePublishingSettings
  counts: { accountId: string; count: number }[]
  nearby: { accountId: string; postId: string; text: string | null }[]
}

/**
 * What the checks read, in one statement (one snapshot, taken after any guard locks the caller
 * holds): the accounts of the profile among `accountIds`, and — for a post going out at `at` —
 * the workspace's settings, each account's live publications that UTC day, and the texts due
 * within the workspace's duplicate window around `at`.
 */
async function readChecks(
  services: Services,
  workspaceId: string,
  profile: string | ProfileRequest,
  accountIds: string[],
  options: { at: Date | null; excludePostId: string | undefined; db: Db; lockGuards: boolean },
): Promise<{ profileId: string; accounts: CheckedAccount[]; guards: GuardRows | undefined }> {
  const { at } = options
  const ids = [...new Set(accountIds)]
  const profileId =
    typeof profile === 'string'
      ? sql`${profile}`
      : sql`(select ${profiles.id} from ${profiles} where ${profiles.workspaceId} = ${workspaceId}
          and ${profile.requested === undefined ? sql`${profiles.isDefault}` : sql`${profiles.id} = ${profile.requested}`})`
  const resolved = (row: { profile_id: string | null } | undefined) => {
    if (typeof profile === 'string') return profile
    if (!row?.profile_id) throw profileNotFound(profile.requested)
    return row.profile_id
  }
  const accounts = sql`${profileId} as profile_id, (select coalesce(json_agg(json_build_object('id', ${connectedAccounts.id},
      'platform', ${connectedAccounts.platform}, 'status', ${connectedAccounts.status},
      'displayName', ${connectedAccounts.displayName})), '[]')
    from ${connectedAccounts}
    where ${connectedAccounts.workspaceId} = ${workspaceId}
      and ${connectedAccounts.profileId} = ${profileId}
      and ${connectedAccounts.id} in ${ids}) as accounts`
  if (!at) {
    const [row] = await options.db.execute<{
      profile_id: string | null
      accounts: CheckedAccount[]
    }>(sql`select ${accounts}`)
    return { profileId: resolved(row), accounts: row?.accounts ?? [], guards: undefined }
  }
  const dayStart = startOfUTCDay(at)
  const dayEnd = new Date(dayStart.getTime() + 86_400_000)
  const notThisPost = options.excludePostId
    ? sql`and ${publications.postId} <> ${options.excludePostId}`
    : sql``
  const atInstant = sql`${at.toISOString()}::timestamptz`
  const window = sql`make_interval(secs => coalesce(settings.duplicate_window_seconds, ${DEFAULT_DUPLICATE_WINDOW_SECONDS}))`
  // The duplicate query compares what `contentFor` publishes: the platform's override text, else
  // the shared text.
  const keys = options.lockGuards ? guardKeys(ids) : []
  // With lockGuards, the lock statement is issued first and this one right behind it on the
  // transaction's connection: it starts (and takes its snapshot) once the locks are held. It
  // counts the guard locks its transaction holds, so statements sent out of order fail loudly
  // instead of checking without the locks.
  const locked = keys.length
    ? sql`, (select count(*)::int from pg_locks
        where locktype = 'advisory' and pid = pg_backend_pid() and granted and objsubid = 1
          and ((classid::bigint << 32) | objid::bigint) in (
            select hashtextextended(key, 0)
            from jsonb_array_elements_text(${JSON.stringify(keys)}::jsonb) key)) as guards_locked`
    : sql``
  const statement = options.db.execute<{
    profile_id: string | null
    guards_locked?: number
    accounts: CheckedAccount[]
    settings: {
      dailyCaps: Record<string, number>
      duplicateWindowSeconds: number | null
      missedAfterSeconds: number | null
    } | null
    counts: GuardRows['counts']
    nearby: GuardRows['nearby']
  }>(sql`
    with settings as (
      select ${publishingSettings.dailyCaps} as daily_caps,
        ${publishingSettings.duplicateWindowSeconds} as duplicate_window_seconds,
        ${publishingSettings.missedAfterSeconds} as missed_after_seconds
      from ${publishingSettings} where ${publishingSettings.workspaceId} = ${workspaceId}
    )
    select ${accounts},
      (select json_build_object('dailyCaps', daily_caps,
          'duplicateWindowSeconds', duplicate_window_seconds,
          'missedAfterSeconds', missed_after_seconds) from settings) as settings,
      (select coalesce(json_agg(json_build_object('accountId', account_id, 'count', count)), '[]')
        from (
          select ${publications.accountId} as account_id, count(*)::int as count
          from ${publications}
          where ${publications.accountId} in ${ids}
            and ${publications.status} in ${[...LIVE]}
            and ${publications.dueAt} >= ${dayStart.toISOString()}::timestamptz
            and ${publications.dueAt} < ${dayEnd.toISOString()}::timestamptz
            ${notThisPost}
          group by ${publications.accountId}) counts) as counts,
      (select coalesce(json_agg(json_build_object('accountId', account_id, 'postId', post_id, 'text', text)), '[]')
        from (
          select ${publications.accountId} as account_id, ${posts.id} as post_id,
            coalesce(${posts.overrides} -> ${publications.platform} ->> 'text', ${posts.content} ->> 'text') as text
          from ${publications}
          join ${posts} on ${posts.id} = ${publications.postId}
          left join settings on true
          where ${publications.accountId} in ${ids}
            and ${publications.status} not in ('canceled', 'failed')
            and ${publications.dueAt} >= ${atInstant} - ${window}
            and ${publications.dueAt} < ${atInstant} + ${window}
            ${notThisPost}) nearby) as nearby
      ${locked}`)
  const [, [row]] = await Promise.all([
    keys.length ? lockAccountGuards(options.db, ids) : undefined,
    statement,
  ])
  if (keys.length && row?.guards_locked !== keys.length) {
    throw new Error('The post checks ran without their guard locks (statements out of order)')
  }
  return {
    profileId: resolved(row),
    accounts: row?.accounts ?? [],
    guards: {
      settings: effectivePublishingSettings(services, row?.settings ?? undefined),
      counts: row?.counts ?? [],
      nearby: row?.nearby ?? [],
    },
  }
}

const startOfUTCDay = (at: Date) =>
  new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()))

/** Daily caps and the duplicate guard, per active account, for a post going out at `at`. */
function checkGuards(
  draft: PostDraft,
  accounts: CheckedAccount[],
  at: Date,
  { settings, counts, nearby }: GuardRows,
): Issue[] {
  const active = accounts.filter((account) => account.status === 'active')
  const issues: Issue[] = []
  const day = startOfUTCDay(at).toISOString().slice(0, 10)
  for (const account of active) {
    const cap = settings.dailyCaps[account.platform] ?? Number.POSITIVE_INFINITY
    const used = counts.find((row) => row.accountId === account.id)?.count ?? 0
    if (used + 1 > cap) {
      issues.push({
        location: 'body',
        path: ['accountIds', draft.accountIds.indexOf(account.id)],
        code: 'daily_cap_reached',
        message: `${account.displayName} (${account.platform}) already has ${used} posts on ${day} (UTC), its daily cap of ${cap}; pick another day or change the cap in the workspace's publishing settings`,
      })
    }
  }

  if (settings.duplicateWindowSeconds > 0) {
    const asPost = { content: draft.content, overrides: draft.overrides ?? {} }
    for (const account of active) {
      const text = normalizeText(contentFor(asPost, account.platform).text)
      if (!text) continue
      const twin = nearby.find(
        (row) => row.accountId === account.id && normalizeText(row.text ?? '') === text,
      )
      if (twin) {
        issues.push({
          location: 'body',
          path: ['accountIds', draft.accountIds.indexOf(account.id)],
          code: 'duplicate_content',
          message: `${account.displayName} (${account.platform}) gets the same text in post ${twin.postId} within ${formatWindow(settings.duplicateWindowSeconds)}; platforms refuse duplicates — change the text or the time`,
        })
      }
    }
  }
  return issues
}

/** Text as the duplicate guard compares it: NFC, case-folded, whitespace collapsed. */
export const normalizeText = (text: string) =>
  text.normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim()

const formatWindow = (seconds: number) =>
  seconds % 3600 === 0 ? `${seconds / 3600} h` : `${Math.round(seconds / 60)} min`

/** Throws `422 VALIDATION_FAILED` with every issue, when there are any. */
export function assertNoIssues(issues: Issue[]) {
  if (issues.length === 0) return
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`
  throw new ProblemError('VALIDATION_FAILED', `The post has ${count}; see issues`, { issues })
}

/** A profile a workspace caller asked for (`undefined`: the default), resolved by the check. */
export interface ProfileRequest {
  requested: string | undefined
}

/**
 * The profile a post of `tenant` goes to, resolved without a query where it can be: a profile
 * token's own, else a {@link ProfileRequest} for {@link checkPost} to resolve in its statement.
 *
 * @throws {ProblemError} `NOT_FOUND` for a profile token asking for another profile.
 */
export function profileFor(
  tenant: TenantContext,
  requested: string | undefined,
): string | ProfileRequest {
  return tokenProfileId(tenant, requested) ?? { requested }
}

/**
 * When a post asks to go out: a draft has none (`null`), `publishNow` means now; otherwise
 * `scheduledAt`, which must not be in the past. With `required`, a post that says none of these
 * is an issue (create); without, it is checked as if published now (validate).
 */
export function resolveTiming(
  input: { scheduledAt?: string | undefined; publishNow?: boolean | undefined; draft?: boolean },
  options: { required: boolean; now?: number },
): { at: Date | null; issues: Issue[] } {
  const now = options.now ?? Date.now()
  if (input.draft) return { at: null, issues: [] }
  if (input.publishNow) return { at: new Date(now), issues: [] }
  if (!input.scheduledAt) {
    return options.required
      ? {
          at: null,
          issues: [
            {
              location: 'body',
              path: ['scheduledAt'],
              code: 'missing_time',
              message: 'Give scheduledAt, or set publishNow or draft',
            },
          ],
        }
      : { at: new Date(now), issues: [] }
  }
  const at = new Date(input.scheduledAt)
  if (at.getTime() < now - 60_000) {
    return {
      at,
      issues: [
        {
          location: 'body',
          path: ['scheduledAt'],
          code: 'in_the_past',
          message: 'scheduledAt is in the past; use publishNow to publish at once',
        },
      ],
    }
  }
  return { at, issues: [] }
}
