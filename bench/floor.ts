// The floors of the benchmarks: the least database work our design asks, as bare SQL with nothing
// else, run beside the real thing in the same run. A floor shows how much of a yardstick any
// implementation of the design could reach on the machine at hand.
//
// bench/publish's floor (no adapter, budgets, locks, or reads of tokens and policies). The design
// (../shared/DESIGN.md, docs/publishing-guarantees.md) asks, per attempt, for:
//   1. a conditional claim that starts an attempt (publication, attempt row, post status);
//   2. the adapter's handles saved, fenced by the attempt, before the irreversible call;
//   3. the platform storing the post (the sandbox platform is served from the same database);
//   4. a fenced finish (publication, attempt row, outcome event, post status).
// Each step is one statement for all the attempts that reach it together, as in the engine.
import { Hono } from 'hono'
import type { Sql } from 'postgres'
import { hashSecret } from '../packages/server/src/auth/secrets.ts'
import { coalesce } from '../packages/server/src/db/coalesce.ts'
import { generateId } from '../packages/server/src/db/ids.ts'

/** The client id of what the floor "publishes" on the sandbox, to tell its posts apart. */
export const FLOOR_CLIENT = 'bench-floor'

/** One attempt per publication id, with the floor's four statements batched across callers. */
export function floorPublisher(sql: Sql) {
  const claim = coalesce(async (ids: string[]) => {
    const rows = await sql<{ id: string; account_id: string; attempt_id: string; text: string }[]>`
      with claimed as (
        update post_scheduler.publications
        set status = 'publishing', attempt_id = 'att_' || id || '_' || (attempts + 1),
          attempts = attempts + 1, deadline_at = now() + interval '60 seconds', updated_at = now()
        where id = any(${ids}) and status in ('scheduled', 'queued') and due_at <= now()
        returning id, post_id, account_id, attempt_id),
      attempt as (
        insert into post_scheduler.publication_attempts (attempt_id, publication_id)
        select attempt_id, id from claimed),
      post as (
        update post_scheduler.posts set status = 'publishing'
        where id in (select post_id from claimed))
      select claimed.id, claimed.account_id, claimed.attempt_id, posts.content->>'text' as text
      from claimed join post_scheduler.posts on posts.id = claimed.post_id`
    const byId = new Map(rows.map((row) => [row.id, row]))
    return ids.map((id) => byId.get(id))
  })
  const checkpoint = coalesce(async (attempts: { id: string; attempt_id: string }[]) => {
    await sql`
      update post_scheduler.publications
      set handles = handles || jsonb_build_object('idempotencyKey', attempt_id), updated_at = now()
      where id = any(${attempts.map((row) => row.id)}) and attempt_id = any(${attempts.map((row) => row.attempt_id)})
        and status = 'publishing' and deadline_at > now()`
    return attempts.map(() => true)
  })
  const platform = coalesce(
    async (attempts: { account_id: string; attempt_id: string; text: string }[]) => {
      const rows = attempts.map((row) => ({
        id: generateId('sbp'),
        account_id: row.account_id,
        client_id: FLOOR_CLIENT,
        idempotency_key: row.attempt_id,
        attempt_id: row.attempt_id,
        text: row.text,
        media: sql.json([]),
        thread: sql.json([]),
        options: sql.json({}),
        content_digest: row.attempt_id,
        created_at: new Date(),
      }))
      await sql`insert into post_scheduler.sandbox_posts ${sql(rows)}`
      return rows.map((row) => row.id)
    },
  )
  const finish = coalesce(async (attempts: { id: string; attempt_id: string }[]) => {
    await sql`
      with finished as (
        update post_scheduler.publications
        set status = 'published', published_at = now(), deadline_at = null, updated_at = now(),
          platform_post_id = attempt_id
        where id = any(${attempts.map((row) => row.id)}) and attempt_id = any(${attempts.map((row) => row.attempt_id)})
          and status = 'publishing'
        returning id, post_id, attempt_id, workspace_id),
      attempt as (
        update post_scheduler.publication_attempts set finished_at = now(), outcome = 'published'
        where attempt_id in (select attempt_id from finished)),
      event as (
        insert into post_scheduler.events (id, workspace_id, type, version, data)
        select 'evt_' || attempt_id, workspace_id, 'publication.published', 1,
          jsonb_build_object('publicationId', id)
        from finished)
      update post_scheduler.posts set status = 'published'
      where id in (select post_id from finished)`
    return attempts.map(() => true)
  })
  return async (publicationId: string) => {
    const claimed = await claim(publicationId)
    if (!claimed) return
    await checkpoint(claimed)
    await platform(claimed)
    await finish(claimed)
  }
}

/**
 * The floor of bench/api: an endpoint doing the least database work the API design asks of a
 * create, as bare SQL — the API key looked up and the request counted against the rate limit
 * (each one statement for the requests arriving together, as in the server), then the post and
 * its publication written in one statement. No validation beyond parsing the JSON, no
 * idempotency, no usage record, a bare answer.
 *
 * With `guards`, also the publishing guards as the design has them: in one transaction, the
 * account's guard lock and (in the next statement, so it sees what committed while it waited) its
 * posts that day and any same text within 24 hours, sent together with `BEGIN`; then the write,
 * sent together with `COMMIT`. Two round trips of its own.
 *
 * Its posts go `daysAhead` days after the asked time: out of the daily counts and duplicate
 * windows that the server's own creates (and the other floor) read in the same run.
 */
export function floorCreates(
  sql: Sql,
  target: { profileId: string },
  options: { guards: boolean; daysAhead: number },
) {
  const findKey = coalesce(async (hashes: string[]) => {
    const rows = await sql<{ key_hash: string; workspace_id: string }[]>`
      select key_hash, workspace_id from post_scheduler.api_keys
      where key_hash = any(${[...new Set(hashes)]}) and revoked_at is null`
    return hashes.map((hash) => rows.find((row) => row.key_hash === hash)?.workspace_id)
  })
  const countHit = coalesce(async (keys: string[]) => {
    const hits = new Map<string, number>()
    for (const key of keys) hits.set(key, (hits.get(key) ?? 0) + 1)
    await sql`
      insert into post_scheduler.rate_limits as limits (key, window_started_at, hits)
      select key, now(), hits from unnest(${[...hits.keys()]}::text[], ${[...hits.values()]}::int[]) as given(key, hits)
      on conflict (key) do update set hits = limits.hits + excluded.hits`
    return keys.map(() => true)
  })
  return new Hono().post('/posts', async (c) => {
    const hash = hashSecret((c.req.header('authorization') ?? '').replace(/^Bearer /, ''))
    const body = await c.req.json<{
      accountIds: string[]
      content: { text: string }
      scheduledAt: string
    }>()
    const workspaceId = await findKey(hash)
    if (!workspaceId) return c.json({ error: 'unauthorized' }, 401)
    await countHit(`floor:${hash}`)
    const id = generateId('post')
    const at = new Date(Date.parse(body.scheduledAt) + options.daysAhead * 86_400_000)
    const accountId = body.accountIds[0] ?? ''
    const write = (db: Sql) => db`
      with post as (
        insert into post_scheduler.posts (id, workspace_id, profile_id, status, content, overrides, account_ids, scheduled_at)
        values (${id}, ${workspaceId}, ${target.profileId}, 'scheduled',
          ${sql.json({ text: body.content.text, mediaIds: [] })}, '{}', ${body.accountIds}, ${at})
        returning id)
      insert into post_scheduler.publications (id, post_id, workspace_id, account_id, platform, status, due_at)
      select ${generateId('pub')}, post.id, ${workspaceId}, ${accountId}, 'sandbox', 'scheduled', ${at}
      from post`
    if (!options.guards) {
      await write(sql)
      return c.json({ id }, 201)
    }
    const day = new Date(at)
    day.setUTCHours(0, 0, 0, 0)
    const tx = await sql.reserve()
    try {
      const begun = tx`begin`.execute()
      const locked =
        tx`select pg_advisory_xact_lock(hashtextextended(${`floor-guard:${accountId}`}, 0))`.execute()
      const [check] = await tx<{ today: number; duplicate: boolean }[]>`
        select
          (select count(*)::int from post_scheduler.publications
            where account_id = ${accountId} and status not in ('canceled', 'failed')
              and due_at >= ${day} and due_at < ${new Date(day.getTime() + 86_400_000)}) as today,
          exists (select 1 from post_scheduler.publications
            join post_scheduler.posts on posts.id = publications.post_id
            where publications.account_id = ${accountId} and publications.status not in ('canceled', 'failed')
              and publications.due_at > ${at}::timestamptz - interval '24 hours'
              and publications.due_at < ${at}::timestamptz + interval '24 hours'
              and posts.content->>'text' = ${body.content.text}) as duplicate`
      await Promise.all([begun, locked])
      if (!check || check.duplicate || check.today >= 100_000) {
        await tx`rollback`
        return c.json({ error: 'guard' }, 422)
      }
      const [, committed] = await Promise.all([write(tx).execute(), tx`commit`.execute()])
      if (committed.command !== 'COMMIT') throw new Error('the floor create rolled back')
      return c.json({ id }, 201)
    } catch (error) {
      await tx`rollback`.catch(() => {})
      throw error
    } finally {
      tx.release()
    }
  })
}
