import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { afterAll, expect, it } from 'vitest'
import { spawnCLI } from '../../test/cli.ts'
import { connectionHelpers } from '../../test/connections.ts'
import { fileForm, makeImage, mediaTestConfig } from '../../test/media.ts'
import { servicesOf, startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { runDueErasures } from './erasure.ts'
import { PRIVACY_QUEUES } from './jobs.ts'

const mediaConfig = await mediaTestConfig()
const server = await startTestServer({
  media: mediaConfig,
  privacy: { ...(await import('../config/config.ts')).loadConfig({}).privacy, deletionUndoDays: 0 },
})
const { request } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)

// The running server's own services, for calling the jobs with an injected clock.
const services = await servicesOf(server)

async function poll<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const liveGrants = async () =>
  db.execute<{ key: string }>(
    sql`select key from post_scheduler.sandbox_state where key like 'grant:%' and (value->>'revoked')::boolean is not true`,
  )

it('resumes an erasure whose worker process was killed (SIGKILL) in the middle of revoking tokens, and ends complete', async () => {
  const tenant = await tenantWithProfile()
  await connectPersonalAccount(tenant)
  await connectPersonalAccount(tenant)
  const uploaded = await server.scheduler.app.request('/v1/media', {
    method: 'POST',
    headers: { authorization: `Bearer ${tenant.apiKey}` },
    body: fileForm(await makeImage('png'), 'photo.png'),
  })
  expect(uploaded.status).toBe(201)
  expect((await liveGrants()).length).toBe(2)
  const requested = await request('/v1/me/deletion', {
    token: tenant.person.token,
    json: { password: tenant.person.password },
  })
  expect(requested.status).toBe(202)
  const { id } = (await requested.json()) as { id: string }

  // A worker process whose platform is slow (2.5 s a call), killed once it is revoking tokens.
  const worker = spawnCLI(['worker'], {
    DATABASE_URL: server.databaseURL,
    PUBLIC_URL: 'http://post-scheduler.test',
    MEDIA_LOCAL_DIR: mediaConfig.localDir,
    SANDBOX_LATENCY_MS: '2500',
    LOG_LEVEL: 'info',
  })
  await worker.logLine(/started/)
  await services.queue.send(PRIVACY_QUEUES.sweep, {})
  const progress = () =>
    db.execute<{ status: string; steps_done: string[] }>(
      sql`select status, steps_done from post_scheduler.privacy_deletions where id = ${id}`,
    )
  await poll(async () => {
    const [row] = await progress()
    return row?.steps_done.includes('sign_out') ? row : undefined
  }, 'the worker to start the erasure')
  await new Promise((resolve) => setTimeout(resolve, 3500))
  worker.child.kill('SIGKILL')
  await worker.exited

  const [killed] = await progress()
  expect(killed?.status).toBe('running')
  expect(killed?.steps_done).toEqual(['sign_out'])
  // Usually one account is revoked and the other not yet: the kill lands between the two calls.
  expect((await liveGrants()).length).toBeGreaterThan(0)

  // The next run (here in this process) resumes and completes it.
  expect(await runDueErasures(services, new Date())).toBe(1)
  const [done] = await db.execute<{ status: string; user_id: string | null }>(
    sql`select status, user_id from post_scheduler.privacy_deletions where id = ${id}`,
  )
  expect(done).toEqual({ status: 'completed', user_id: null })
  expect(await liveGrants()).toEqual([])
  for (const table of ['users', 'sessions', 'workspace_members']) {
    const column = table === 'users' ? 'id' : 'user_id'
    const rows = await db.execute(
      sql`select 1 from post_scheduler.${sql.identifier(table)} where ${sql.identifier(column)} = ${tenant.person.userId}`,
    )
    expect(rows, table).toEqual([])
  }
  const workspace = await db.execute(
    sql`select 1 from post_scheduler.workspaces where id = ${tenant.workspaceId}`,
  )
  expect(workspace).toEqual([])
  const files = await readdir(join(mediaConfig.localDir, 'media'), { recursive: true }).catch(
    () => [],
  )
  expect(files.filter((name) => name.includes(tenant.workspaceId))).toEqual([])
}, 90_000)
