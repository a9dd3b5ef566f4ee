import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { unzipSync } from 'fflate'
import { afterAll, describe, expect, it } from 'vitest'
import { connectionHelpers, local, RETURN_URL, type Tenant } from '../../test/connections.ts'
import { fileForm, makeImage, mediaTestConfig } from '../../test/media.ts'
import { servicesOf, startTestServer } from '../../test/server.ts'
import { insertApiKey } from '../api-keys/service.ts'
import { SECRET_PREFIXES } from '../auth/principal.ts'
import { generateSecret, hashSecret } from '../auth/secrets.ts'
import { tokenContext } from '../connections/accounts.ts'
import { createDatabaseClient } from '../db/client.ts'
import { connectedAccounts } from '../db/schema/index.ts'
import { recordEvent } from '../events/events.ts'
import type { MediaStorage } from '../media/storage.ts'
import type { Services } from '../services.ts'
import { createWorkspace } from '../workspaces/service.ts'
import { ERASURE_STEPS, runDueErasures } from './erasure.ts'
import {
  type DataSubject,
  findDataSubject,
  NOT_PERSONAL_DATA,
  PERSONAL_DATA,
  QUEUE_TABLES,
  readPersonalData,
} from './inventory.ts'

const mediaConfig = await mediaTestConfig()
const server = await startTestServer({ media: mediaConfig }, { worker: true })
const { request, mail } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { db, close } = createDatabaseClient(server.databaseURL, { max: 3 })
afterAll(close)

// The running server's own services, for calling the jobs with an injected clock.
const services = await servicesOf(server)

const DAY_MS = 86_400_000
const SYSTEM = { type: 'system', id: undefined, ip: undefined, requestId: undefined } as const
type Json = Record<string, unknown>
const json = async <T = Json>(response: Response, status: number): Promise<T> => {
  expect(response.status, await response.clone().text()).toBe(status)
  return (await response.json()) as T
}

/** Every table of our schema, from the database itself. */
async function tablesOfSchema() {
  const rows = await db.execute<{ name: string }>(sql`
    select table_name as name from information_schema.tables
    where table_schema = 'post_scheduler' and table_type = 'BASE TABLE' order by 1`)
  return rows.map((row) => row.name)
}

/** Every row of every table (ours and the queue's), as `schema.table {json}` lines. */
async function dumpRows() {
  const tables = await db.execute<{ schema: string; name: string }>(sql`
    select table_schema as schema, table_name as name from information_schema.tables
    where table_schema in ('post_scheduler', ${services.config.queueSchema}) and table_type = 'BASE TABLE'`)
  const lines: string[] = []
  for (const table of tables) {
    const rows = await db.execute<{ row: string }>(
      sql`select to_jsonb(t)::text as row from ${sql.identifier(table.schema)}.${sql.identifier(table.name)} t`,
    )
    lines.push(...rows.map((row) => `${table.schema}.${table.name} ${row.row}`))
  }
  return lines
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/**
 * A person with data in every table: a workspace of their own with two connected sandbox
 * accounts, a second profile and its token, their own OAuth app, media (uploaded and a half-done
 * resumable upload), a published post, a scheduled post using the media, a recurring series, a
 * posting schedule, publishing settings, a webhook endpoint with its event, delivery and attempt,
 * an export, consents, a pending address change, usage events; membership of someone else's
 * workspace (where they uploaded media and where that owner read their details), and a workspace
 * shared with a member who will inherit it.
 */
async function populate() {
  const person: Tenant = await tenantWithProfile()
  const session = person.person.token
  // An endpoint first, so that the workspace's events are delivered to it.
  await json(
    await request('/v1/webhook-endpoints', {
      token: person.apiKey,
      json: { url: 'https://hooks.example.test/in' },
    }),
    201,
  )

  const accounts = [
    (await connectPersonalAccount(person)).accountId,
    (await connectPersonalAccount(person)).accountId,
  ]
  const profile = await json<{ id: string }>(
    await request('/v1/profiles', { token: person.apiKey, json: { name: 'Second brand' } }),
    201,
  )
  await json(
    await request(`/v1/profiles/${profile.id}/tokens`, { token: person.apiKey, json: {} }),
    201,
  )
  await json(
    await request('/v1/oauth-apps/x', {
      method: 'PUT',
      token: person.apiKey,
      json: { clientId: 'own-x-app', clientSecret: 'own-x-app-secret-value-123' },
    }),
    200,
  )
  const image = await makeImage('png')
  const uploaded = await json<{ id: string }>(
    await server.scheduler.app.request('/v1/media', {
      method: 'POST',
      headers: { authorization: `Bearer ${person.apiKey}` },
      body: fileForm(image, 'holiday.png'),
    }),
    201,
  )
  const upload = await json<{ id: string }>(
    await request('/v1/media/uploads', { token: person.apiKey, json: { sizeBytes: 2048 } }),
    201,
  )
  await json(
    await server.scheduler.app.request(`/v1/media/uploads/${upload.id}/parts/1`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${person.apiKey}` },
      body: new Uint8Array(2048).fill(7),
    }),
    200,
  )
  const published = await json<{ id: string }>(
    await request('/v1/posts', {
      token: person.apiKey,
      headers: { 'idempotency-key': 'first-post' },
      json: {
        accountIds: accounts,
        content: { text: 'Hello from the erasure test' },
        publishNow: true,
      },
    }),
    201,
  )
  await json(
    await request('/v1/posts', {
      token: person.apiKey,
      json: {
        accountIds: [accounts[0]],
        content: { text: 'Later, with a picture', mediaIds: [uploaded.id] },
        scheduledAt: new Date(Date.now() + 3 * DAY_MS).toISOString(),
      },
    }),
    201,
  )
  await json(
    await request('/v1/posts', {
      token: person.apiKey,
      json: {
        accountIds: [accounts[1]],
        content: { text: 'Every week' },
        scheduledAt: new Date(Date.now() + 2 * DAY_MS).toISOString(),
        timezone: 'Europe/Paris',
        recurrence: { rule: 'FREQ=WEEKLY;COUNT=3' },
      },
    }),
    201,
  )
  await json(
    await request(`/v1/profiles/${person.profileId}/schedule`, {
      method: 'PUT',
      token: person.apiKey,
      json: { timezone: 'UTC', slots: [{ weekday: 1, time: '09:00' }] },
    }),
    200,
  )
  await json(
    await request(`/v1/workspaces/${person.workspaceId}/publishing-settings`, {
      method: 'PATCH',
      token: person.apiKey,
      json: { duplicateWindowSeconds: 60 },
    }),
    200,
  )
  await json(
    await request(`/v1/workspaces/${person.workspaceId}/invitations`, {
      token: person.apiKey,
      json: { email: `invitee-${Date.now()}@example.com`, role: 'member' },
    }),
    201,
  )
  let last: unknown
  await waitFor(async () => {
    const post = await json<{ status: string }>(
      await request(`/v1/posts/${published.id}`, { token: person.apiKey }),
      200,
    )
    last = post
    return post.status === 'published' ? post : undefined
  }, 'the post to be published').catch((error) => {
    throw new Error(`${error}: ${JSON.stringify(last)}`)
  })

  // Someone else's workspace the person belongs to, uploads to, and whose owner reads their details.
  const other = await server.createTenant()
  await json(
    await request(`/v1/workspaces/${other.workspaceId}/invitations`, {
      token: other.apiKey,
      json: { email: person.person.email, role: 'admin' },
    }),
    201,
  )
  await json(
    await request('/v1/invitations/accept', {
      token: session,
      json: { token: mail.codeFor(person.person.email, /You are invited/) },
    }),
    200,
  )
  await json(
    await server.scheduler.app.request('/v1/media', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${session}`,
        'post-scheduler-workspace': other.workspaceId,
        'x-forwarded-for': '192.0.2.1',
      },
      body: fileForm(image, 'team.png'),
    }),
    201,
  )
  await json(
    await request(`/v1/workspaces/${other.workspaceId}/members`, { token: other.person.token }),
    200,
  )
  await json(await request('/v1/audit-log', { token: other.apiKey }), 200)

  // A workspace the person owns, whose invitee joins during the undo window and must inherit it.
  const shared = await json<{ id: string }>(
    await request('/v1/workspaces', { token: session, json: { name: 'Shared' } }),
    201,
  )
  const heir = await server.signUp()
  await json(
    await request(`/v1/workspaces/${shared.id}/invitations`, {
      token: session,
      headers: { 'post-scheduler-workspace': shared.id },
      json: { email: heir.email, role: 'member' },
    }),
    201,
  )

  // The person's own choices and requests, through their session.
  await json(
    await request('/v1/me/consents', {
      token: session,
      json: { purpose: 'privacy_policy', granted: true },
    }),
    200,
  )
  await json(
    await request('/v1/me', {
      method: 'PATCH',
      token: session,
      json: { email: `new-${person.person.email}` },
    }),
    200,
  )
  // An event of the workspace delivered (and attempted) to its endpoint.
  await recordEvent(db, {
    type: 'policy.updated',
    workspaceId: person.workspaceId,
    data: { version: '2', effectiveAt: new Date().toISOString() },
  })
  const [event] = await db.execute<{ id: string; endpoint: string }>(sql`
    select d.event_id as id, d.endpoint_id as endpoint from post_scheduler.webhook_deliveries d
    where d.workspace_id = ${person.workspaceId} limit 1`)
  if (event) {
    await db.execute(sql`
      insert into post_scheduler.webhook_attempts (id, endpoint_id, event_id, workspace_id, attempted_at, duration_ms, outcome, status_code)
      select ${`wha_${event.id}`}, ${event.endpoint}, ${event.id}, ${person.workspaceId}, now(), 12, 'failed', 500
      where not exists (select 1 from post_scheduler.webhook_attempts where event_id = ${event.id})`)
  }
  const requested = await json<{ id: string }>(
    await request('/v1/me/exports', {
      token: session,
      headers: { 'idempotency-key': `export-${person.person.userId}` },
      json: {},
    }),
    202,
  )
  const ready = await waitFor(async () => {
    const current = await json<{ status: string; downloadURL: string | null }>(
      await request(`/v1/me/exports/${requested.id}`, { token: session }),
      200,
    )
    return current.status === 'ready' ? current : undefined
  }, 'the export to be built')

  return {
    person,
    accounts,
    other,
    shared,
    heir,
    exportId: requested.id,
    downloadURL: ready.downloadURL,
  }
}

const subject = await populate()
const { person } = subject

describe('the export', () => {
  it('covers every table of the schema: each is exported or listed as holding no personal data', async () => {
    const covered = [...Object.keys(PERSONAL_DATA), ...Object.keys(NOT_PERSONAL_DATA), 'migrations']
    expect((await tablesOfSchema()).filter((table) => !covered.includes(table))).toEqual([])
    expect(
      Object.keys(PERSONAL_DATA).filter(
        (table) => covered.indexOf(table) !== covered.lastIndexOf(table),
      ),
    ).toEqual([])
  })

  it('downloads through its short-lived link as a ZIP with every personal table, the media files and no secret', async () => {
    expect(subject.downloadURL).toMatch(/expires=\d+&signature=/)
    const download = await server.scheduler.app.request(local(subject.downloadURL as string))
    expect(download.status).toBe(200)
    const files = unzipSync(new Uint8Array(await download.arrayBuffer()))
    const tables = Object.keys(PERSONAL_DATA)
    for (const table of tables) {
      const rows = JSON.parse(new TextDecoder().decode(files[`${table}.json`])) as Json[]
      // The person has data in every table (exports are built while it is pending, hence not itself).
      if (table !== 'privacy_deletions' && table !== 'privacy_exports') {
        expect(rows.length, `${table}.json has the person's rows`).toBeGreaterThan(0)
      }
    }
    const announced = await db.execute<{ data: { exportId: string } }>(
      sql`select data from post_scheduler.events where type = 'export.ready' and workspace_id = ${person.workspaceId}`,
    )
    expect(announced.map((event) => event.data.exportId)).toEqual([subject.exportId])
    expect(mail.to(person.person.email).map((message) => message.subject)).toContain(
      'Your data export is ready',
    )
    const mediaFiles = Object.keys(files).filter((name) => name.startsWith('media/'))
    expect(mediaFiles.some((name) => name.endsWith('/original.png'))).toBe(true)

    // No credential: neither what the database keeps of them (hashes, ciphertexts) nor the secrets.
    const columns = await db.execute<{ table: string; column: string }>(sql`
      select table_name as table, column_name as column from information_schema.columns
      where table_schema = 'post_scheduler' and column_name ~ '(hash|sealed|secret|verifier|password)'`)
    const stored: string[] = []
    for (const { table, column } of columns) {
      const rows = await db.execute<{ value: string | null }>(
        sql`select ${sql.identifier(column)}::text as value from post_scheduler.${sql.identifier(table)}`,
      )
      stored.push(
        ...rows.flatMap((row) => (row.value && row.value.length >= 16 ? [row.value] : [])),
      )
    }
    expect(stored.length).toBeGreaterThan(5)
    const tokens = await db.select().from(connectedAccounts)
    const plaintext = [
      person.person.password,
      person.person.token,
      person.apiKey,
      'own-x-app-secret-value-123',
      ...tokens.flatMap((account) =>
        account.accessTokenSealed
          ? [services.vault.open(account.accessTokenSealed, tokenContext(account, 'access_token'))]
          : [],
      ),
    ]
    const everything = Object.entries(files)
      .filter(([name]) => name.endsWith('.json'))
      .map(([, bytes]) => new TextDecoder().decode(bytes))
      .join('\n')
    for (const secret of [...stored, ...plaintext]) expect(everything).not.toContain(secret)
  })
})

describe('the access view', () => {
  it('shows every personal table, connected accounts without tokens, and reads of the person’s data by others', async () => {
    const view = await json<{ data: Record<string, Json[]>; consents: Json }>(
      await request('/v1/me/data', { token: person.person.token }),
      200,
    )
    expect(Object.keys(view.data).sort()).toEqual(Object.keys(PERSONAL_DATA).sort())
    expect(view.data.connected_accounts).toHaveLength(2)
    for (const account of view.data.connected_accounts ?? []) {
      expect(
        Object.keys(account).filter(
          (key) =>
            /token/i.test(key) && key !== 'accessTokenExpiresAt' && key !== 'refreshTokenExpiresAt',
        ),
      ).toEqual([])
    }
    const viewed = (view.data.audit_log ?? []).find(
      (entry) => entry.action === 'member.personal_data_viewed',
    )
    // Who read it is shown; their client address is theirs, not the person's.
    expect(viewed).toMatchObject({ actorId: subject.other.person.userId, ip: null })
    expect(view.data.audit_log).toContainEqual(
      expect.objectContaining({
        action: 'audit_log.personal_data_viewed',
        actorType: 'api_key',
        actorId: subject.other.apiKeyId,
      }),
    )
    // Corrections are audited: the address change asked for during population.
    expect(view.data.audit_log).toContainEqual(
      expect.objectContaining({
        action: 'user.updated',
        details: { fields: ['email (pending confirmation)'] },
      }),
    )
    expect(view.data.users?.[0]).not.toHaveProperty('passwordHash')
  })
})

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

describe('which workspaces an erasure deletes', () => {
  const later = () => new Date(Date.now() + 8 * DAY_MS)

  /** Invites a new person with `role` through `token` and has them accept; returns the person. */
  async function join(workspaceId: string, token: string, role: 'admin' | 'member') {
    const joiner = await server.signUp()
    await json(
      await request(`/v1/workspaces/${workspaceId}/invitations`, {
        token,
        headers: { 'post-scheduler-workspace': workspaceId },
        json: { email: joiner.email, role },
      }),
      201,
    )
    await json(
      await request('/v1/invitations/accept', {
        token: joiner.token,
        json: { token: mail.codeFor(joiner.email, /You are invited/) },
      }),
      200,
    )
    return joiner
  }

  const askDeletion = (someone: { token: string; password: string }) =>
    request('/v1/me/deletion', { token: someone.token, json: { password: someone.password } })

  it('keeps a workspace run by its API key, with its posts, accounts and keys, when its only people — a member and an admin — are erased', async () => {
    // No owner, as the development bootstrap makes one: the product's backend runs it with its key.
    const workspace = await createWorkspace(db, { name: 'Run by its key' }, SYSTEM)
    const apiKey = generateSecret(SECRET_PREFIXES.liveKey)
    await insertApiKey(
      db,
      workspace.id,
      { name: 'backend', mode: 'live', scopes: ['read', 'write', 'admin'] },
      apiKey,
      SYSTEM,
    )
    await json(
      await request(`/v1/workspaces/${workspace.id}`, {
        method: 'PATCH',
        token: apiKey,
        json: { corsOrigins: [new URL(RETURN_URL).origin] },
      }),
      200,
    )
    const profiles = await json<{ data: { id: string }[] }>(
      await request('/v1/profiles', { token: apiKey }),
      200,
    )
    const tenant = {
      ...subject.other,
      workspaceId: workspace.id,
      apiKey,
      profileId: profiles.data[0]?.id as string,
    }
    const { accountId } = await connectPersonalAccount(tenant)
    await json(
      await request('/v1/webhook-endpoints', {
        token: apiKey,
        json: { url: 'https://hooks.example.test/kept' },
      }),
      201,
    )
    const member = await join(workspace.id, apiKey, 'member')
    const admin = await join(workspace.id, apiKey, 'admin')
    // Each made something there: the member a post, the admin a key.
    const post = await json<{ id: string }>(
      await request('/v1/posts', {
        token: member.token,
        headers: { 'post-scheduler-workspace': workspace.id },
        json: {
          accountIds: [accountId],
          content: { text: 'Written by the member' },
          scheduledAt: new Date(Date.now() + 30 * DAY_MS).toISOString(),
        },
      }),
      201,
    )
    const adminKey = await json<{ id: string; secret: string }>(
      await request('/v1/api-keys', {
        token: admin.token,
        headers: { 'post-scheduler-workspace': workspace.id },
        json: { name: 'made by the admin', scopes: ['read'] },
      }),
      201,
    )

    await json(await askDeletion(member), 202)
    await json(await askDeletion(admin), 202)
    expect(mail.to(member.email).at(-1)?.text).toContain('No workspace will be deleted')
    expect(await runDueErasures(services, later())).toBe(2)

    for (const key of [apiKey, adminKey.secret]) {
      await json(await request(`/v1/workspaces/${workspace.id}`, { token: key }), 200)
    }
    const kept = await json<{ status: string }>(
      await request(`/v1/posts/${post.id}`, { token: apiKey }),
      200,
    )
    expect(kept.status).toBe('scheduled')
    const accounts = await json<{ data: { id: string; status: string }[] }>(
      await request('/v1/accounts', { token: apiKey }),
      200,
    )
    expect(accounts.data).toEqual([expect.objectContaining({ id: accountId, status: 'active' })])
    const endpoints = await json<{ data: unknown[] }>(
      await request('/v1/webhook-endpoints', { token: apiKey }),
      200,
    )
    expect(endpoints.data).toHaveLength(1)
    const members = await json<{ data: unknown[] }>(
      await request(`/v1/workspaces/${workspace.id}/members`, { token: apiKey }),
      200,
    )
    expect(members.data).toEqual([])
    // What they made stays, without who made it.
    const authors = await db.execute<{ created_by: string | null }>(sql`
      select created_by from post_scheduler.posts where id = ${post.id}
      union all select created_by from post_scheduler.api_keys where id = ${adminKey.id}`)
    expect(authors).toEqual([{ created_by: null }, { created_by: null }])
    for (const someone of [member, admin]) {
      expect((await request('/v1/me', { token: someone.token })).status).toBe(401)
    }
  })

  it('refuses to delete the only owner of a workspace others belong to, naming it, until someone else is owner', async () => {
    const owner = await server.createTenant()
    const colleague = await join(owner.workspaceId, owner.apiKey, 'admin')
    const refused = await json<{ code: string; detail: string; workspaces: unknown[] }>(
      await askDeletion(owner.person),
      409,
    )
    expect(refused.code).toBe('CONFLICT')
    expect(refused.workspaces).toEqual([
      { id: owner.workspaceId, name: `Workspace of ${owner.person.email}` },
    ])
    expect(refused.detail).toMatch(/only owner/)
    expect((await request('/v1/me/deletion', { token: owner.person.token })).status).toBe(404)

    await json(
      await request(`/v1/workspaces/${owner.workspaceId}/members/${colleague.userId}`, {
        method: 'PATCH',
        token: owner.person.token,
        headers: { 'post-scheduler-workspace': owner.workspaceId },
        json: { role: 'owner' },
      }),
      200,
    )
    await json(await askDeletion(owner.person), 202)
    expect(await runDueErasures(services, later())).toBe(1)

    await json(await request(`/v1/workspaces/${owner.workspaceId}`, { token: owner.apiKey }), 200)
    const members = await json<{ data: { userId: string; role: string }[] }>(
      await request(`/v1/workspaces/${owner.workspaceId}/members`, { token: owner.apiKey }),
      200,
    )
    expect(members.data.map(({ userId, role }) => ({ userId, role }))).toEqual([
      { userId: colleague.userId, role: 'owner' },
    ])
  })

  it('deletes a workspace whose owner is the only one in it, with its keys, and says so beforehand', async () => {
    const owner = await server.createTenant()
    await json(await askDeletion(owner.person), 202)
    expect(mail.to(owner.person.email).at(-1)?.text).toContain(
      `“Workspace of ${owner.person.email}” (${owner.workspaceId})`,
    )
    expect(await runDueErasures(services, later())).toBe(1)
    expect(
      (await request(`/v1/workspaces/${owner.workspaceId}`, { token: owner.apiKey })).status,
    ).toBe(401)
    const left = await db.execute(
      sql`select 1 from post_scheduler.workspaces where id = ${owner.workspaceId}`,
    )
    expect(left).toEqual([])
  })
})
