import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { DAY_MS, startPrivacyTest } from '../../test/privacy.ts'
import { hashSecret } from '../auth/secrets.ts'
import type { MediaStorage } from '../media/storage.ts'
import type { Services } from '../services.ts'
import { ERASURE_STEPS, runDueErasures } from './erasure.ts'
import { type DataSubject, findDataSubject, QUEUE_TABLES, readPersonalData } from './inventory.ts'

const {
  mediaConfig,
  server,
  request,
  mail,
  db,
  services,
  json,
  dumpRows,
  filesUnder,
  waitFor,
  populate,
} = await startPrivacyTest()
const subject = await populate()
const { person } = subject

describe('the erasure', () => {
  it('knows every table of the job queue (archives included, should pg-boss add one): each is classified, and partitions count as their parent', async () => {
    const tables = await db.execute<{ name: string; parent: string | null }>(sql`
      select c.relname as name, p.relname as parent from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      left join pg_inherits i on i.inhrelid = c.oid
      left join pg_class p on p.oid = i.inhparent
      where n.nspname = ${services.config.queueSchema} and c.relkind in ('r', 'p')`)
    const named = tables.map((table) => table.parent ?? table.name)
    expect(named).toContain('job')
    expect([...new Set(named)].filter((name) => !(name in QUEUE_TABLES))).toEqual([])
    expect(Object.keys(QUEUE_TABLES).filter((name) => !named.includes(name))).toEqual([])
  })

  it('can be canceled during the undo window, and not without the password', async () => {
    const someone = await server.signUp()
    expect(
      (
        await request('/v1/me/deletion', {
          token: someone.token,
          json: { password: 'wrong password!' },
        })
      ).status,
    ).toBe(401)
    const scheduled = await json<{ eraseAt: string; status: string }>(
      await request('/v1/me/deletion', {
        token: someone.token,
        json: { password: someone.password },
      }),
      202,
    )
    expect(new Date(scheduled.eraseAt).getTime() - Date.now()).toBeGreaterThan(7 * DAY_MS - 60_000)
    expect(mail.to(someone.email).at(-1)?.subject).toBe('Your account will be deleted')
    expect(
      (
        await request('/v1/me/deletion', {
          token: someone.token,
          json: { password: someone.password },
        })
      ).status,
    ).toBe(409)
    await json(await request('/v1/me/deletion', { method: 'DELETE', token: someone.token }), 200)
    expect((await request('/v1/me/deletion', { token: someone.token })).status).toBe(404)
    await runDueErasures(services, new Date(Date.now() + 8 * DAY_MS))
    expect((await request('/v1/me', { token: someone.token })).status).toBe(200)
  })

  it('leaves no row about the person in any table, no file, no queued job, and revokes every platform token — even when interrupted half-way', async () => {
    const userId = person.person.userId
    const sessionRows = await db.execute<{ id: string; ip: string }>(
      sql`select id, ip from post_scheduler.sessions where user_id = ${userId}`,
    )
    const name = (
      await db.execute<{ name: string }>(
        sql`select name from post_scheduler.users where id = ${userId}`,
      )
    )[0]?.name as string
    const forbidden = [
      userId,
      person.person.email,
      name,
      ...new Set(sessionRows.map((row) => row.ip)),
    ]
    // Sessions, in whatever form a rate-limit counter keys them. The pseudonymised audit log keeps
    // them as the targets of what happened (sign-ins): with the sessions gone they name nothing.
    const sessionIds = sessionRows.flatMap((row) => [row.id, hashSecret(row.id)])
    const counters = await db.execute<{ key: string }>(
      sql`select key from post_scheduler.rate_limits`,
    )
    expect(
      counters.filter((counter) =>
        sessionRows.some(
          (row) => counter.key.includes(hashSecret(row.id)) || counter.key.includes(row.id),
        ),
      ),
    ).not.toEqual([])
    // The id of every row the person's workspace holds (from the schema: each table with an id and
    // a workspace), which the job queue must not keep once the workspace is gone.
    const workspaceTables = await db.execute<{ table: string }>(sql`
      select w.table_name as table from information_schema.columns w
      join information_schema.columns i on i.table_schema = w.table_schema and i.table_name = w.table_name
        and i.column_name = 'id' and i.data_type = 'text'
      join information_schema.tables t on t.table_schema = w.table_schema and t.table_name = w.table_name
        and t.table_type = 'BASE TABLE'
      where w.table_schema = 'post_scheduler' and w.column_name = 'workspace_id'`)
    expect(workspaceTables.map((row) => row.table)).toEqual(
      expect.arrayContaining(['events', 'webhook_endpoints', 'posts', 'publications']),
    )
    const held: string[] = [person.workspaceId]
    for (const { table } of workspaceTables) {
      const rows = await db.execute<{ id: string }>(
        sql`select id from post_scheduler.${sql.identifier(table)} where workspace_id = ${person.workspaceId}`,
      )
      held.push(...rows.map((row) => row.id))
    }
    // A finished delivery job of the workspace's events, holding their ids, is there to be erased.
    const queueLines = async () =>
      (await dumpRows()).filter((line) => line.startsWith(`${services.config.queueSchema}.`))
    await waitFor(async () => {
      const jobs = await db.execute<{ id: string }>(sql`
        select j.id from ${sql.identifier(services.config.queueSchema)}.job j
        where j.name = 'webhooks.deliver' and j.state = 'completed'
          and j.data->>'endpointId' = any(${`{${held.join(',')}}`}::text[])`)
      return jobs.length > 0 ? jobs : undefined
    }, 'a finished webhook delivery job')
    const grantsBefore = await db.execute<{ key: string }>(
      sql`select key from post_scheduler.sandbox_state where key like 'grant:%' and (value->>'revoked')::boolean is not true`,
    )
    expect(grantsBefore.length).toBeGreaterThanOrEqual(2)
    // A job that mentions the person, as a stray one would.
    await services.queue.send('privacy.exports', { exportId: subject.exportId, note: userId })

    await json(
      await request('/v1/me/deletion', {
        token: person.person.token,
        json: { password: person.person.password },
      }),
      202,
    )
    // Joining during the undo window makes the person the only owner of a workspace others belong
    // to, which a request is refused for (below); the erasure hands it over instead.
    await json(
      await request('/v1/invitations/accept', {
        token: subject.heir.token,
        json: { token: mail.codeFor(subject.heir.email, /You are invited/) },
      }),
      200,
    )
    // Before: the person has rows in every table that holds personal data (the list is checked
    // against the database above), so the erasure below is tried on all of them.
    const subjectNow = await findDataSubject(db, userId)
    const before = await readPersonalData(db, subjectNow as DataSubject)
    expect(Object.entries(before).filter(([, rows]) => rows.length === 0)).toEqual([])

    // Not due yet: nothing happens.
    expect(await runDueErasures(services, new Date())).toBe(0)
    expect((await request('/v1/me', { token: person.person.token })).status).toBe(200)

    // The first run dies half-way: storage is down when the files are to go.
    let storageDown = true
    const storage: MediaStorage = {
      ...services.media.storage,
      delete: async (key) => {
        if (storageDown) throw new Error('storage unavailable')
        return services.media.storage.delete(key)
      },
    }
    const faulty: Services = { ...services, media: { ...services.media, storage } }
    const later = new Date(Date.now() + 8 * DAY_MS)
    expect(await runDueErasures(faulty, later)).toBe(0)
    const [interrupted] = await db.execute<{ status: string; steps_done: string[] }>(
      sql`select status, steps_done from post_scheduler.privacy_deletions where user_id = ${userId}`,
    )
    expect(interrupted?.status).toBe('running')
    expect(interrupted?.steps_done).toEqual(
      ERASURE_STEPS.slice(0, ERASURE_STEPS.indexOf('storage')),
    )
    expect(await filesUnder(join(mediaConfig.localDir, 'media', person.workspaceId))).not.toEqual(
      [],
    )

    // The next run resumes and finishes; a third changes nothing.
    storageDown = false
    expect(await runDueErasures(faulty, later)).toBe(1)
    expect(await runDueErasures(services, later)).toBe(0)

    const leftovers = (await dumpRows()).filter((line) =>
      forbidden.some((value) => line.toLowerCase().includes(value.toLowerCase())),
    )
    expect(leftovers).toEqual([])
    const sessionLeftovers = (await dumpRows()).filter(
      (line) =>
        !line.startsWith('post_scheduler.audit_log ') &&
        sessionIds.some((value) => line.includes(value)),
    )
    expect(sessionLeftovers).toEqual([])
    // Nor does any table of the job queue (every one of its schema, finished jobs included) hold
    // the id of anything that went with the person's workspace.
    const queueLeftovers = (await queueLines()).filter((line) =>
      held.some((id) => line.includes(id)),
    )
    expect(queueLeftovers).toEqual([])
    const replays = await db.execute(
      sql`select 1 from post_scheduler.idempotency_keys where scope = ${`api_key:${person.apiKeyId}`}`,
    )
    expect(replays).toEqual([])

    // Every table scoped to a workspace has nothing left of the person's own workspace, except the
    // pseudonymised audit log (kept as the legal record of what happened in it).
    const scoped = await db.execute<{ table: string }>(sql`
      select table_name as table from information_schema.columns
      where table_schema = 'post_scheduler' and column_name = 'workspace_id' and table_name <> 'audit_log'`)
    for (const { table } of scoped) {
      const [row] = await db.execute<{ count: number }>(
        sql`select count(*)::int as count from post_scheduler.${sql.identifier(table)} where workspace_id = ${person.workspaceId}`,
      )
      expect(row?.count, table).toBe(0)
    }
    expect(await filesUnder(join(mediaConfig.localDir, 'media', person.workspaceId))).toEqual([])
    expect(await filesUnder(join(mediaConfig.localDir, 'uploads', person.workspaceId))).toEqual([])
    expect(await filesUnder(join(mediaConfig.localDir, 'exports'))).toEqual([])

    // The platform saw each account's token revoked.
    const grantsAfter = await db.execute<{ key: string }>(
      sql`select key from post_scheduler.sandbox_state where key like 'grant:%' and (value->>'revoked')::boolean is not true`,
    )
    expect(
      grantsAfter.filter((grant) => grantsBefore.some((before) => before.key === grant.key)),
    ).toEqual([])

    // What stays: the pseudonymous record, the shared workspaces with a new owner, the team's media.
    const [record] = await db.execute<{
      status: string
      user_id: string | null
      pseudonym: string
    }>(
      sql`select status, user_id, pseudonym from post_scheduler.privacy_deletions where status = 'completed'`,
    )
    expect(record).toMatchObject({ status: 'completed', user_id: null })
    const pseudonymous = await db.execute<{ action: string }>(
      sql`select action from post_scheduler.audit_log where subject_user_id = ${record?.pseudonym} or actor_id = ${record?.pseudonym}`,
    )
    expect(pseudonymous.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['user.signed_up', 'user.deletion_requested', 'user.erased']),
    )
    const heirRole = await db.execute<{ role: string }>(
      sql`select role from post_scheduler.workspace_members where workspace_id = ${subject.shared.id} and user_id = ${subject.heir.userId}`,
    )
    expect(heirRole).toEqual([{ role: 'owner' }])
    const teamMedia = await db.execute<{ created_by: string | null }>(
      sql`select created_by from post_scheduler.media where workspace_id = ${subject.other.workspaceId}`,
    )
    expect(teamMedia).toEqual([{ created_by: null }])
    expect((await request('/v1/me', { token: person.person.token })).status).toBe(401)
  })
})
