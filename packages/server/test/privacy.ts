import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { afterAll, expect } from 'vitest'
import { createDatabaseClient } from '../src/db/client.ts'
import { recordEvent } from '../src/events/events.ts'
import { connectionHelpers, type Tenant } from './connections.ts'
import { fileForm, makeImage, mediaTestConfig } from './media.ts'
import { servicesOf, startTestServer } from './server.ts'

/** A JSON object as a response body. */
export type Json = Record<string, unknown>

/** A day, in milliseconds. */
export const DAY_MS = 86_400_000

/** The actor of jobs and bootstrap calls. */
export const SYSTEM = {
  type: 'system',
  id: undefined,
  ip: undefined,
  requestId: undefined,
} as const

/**
 * The privacy tests' world: a test server with its worker and local media, a database client,
 * the server's services, small helpers, and `populate()` — a person with data in every table.
 * Each test file starts its own.
 */
export async function startPrivacyTest() {
  const mediaConfig = await mediaTestConfig()
  const server = await startTestServer({ media: mediaConfig }, { worker: true })
  const { request, mail } = server
  const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
  const { db, close } = createDatabaseClient(server.databaseURL, { max: 3 })
  afterAll(close)

  // The running server's own services, for calling the jobs with an injected clock.
  const services = await servicesOf(server)

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

  return {
    mediaConfig,
    server,
    request,
    mail,
    db,
    services,
    tenantWithProfile,
    connectPersonalAccount,
    json,
    tablesOfSchema,
    dumpRows,
    filesUnder,
    waitFor,
    populate,
  }
}
