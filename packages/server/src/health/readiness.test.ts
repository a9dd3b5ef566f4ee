import { afterEach, describe, expect, it } from 'vitest'
import { testConfig } from '../../test/config.ts'
import { createTestDatabase } from '../../test/database.ts'
import { createPostScheduler, type PostScheduler } from '../post-scheduler.ts'
import type { ReadinessReport } from './readiness.ts'

const started: PostScheduler[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map((scheduler) => scheduler.stop()))
})

async function startScheduler(
  databaseURL: string,
  options: Parameters<PostScheduler['start']>[0] = {},
) {
  const scheduler = createPostScheduler({ config: testConfig(databaseURL) })
  started.push(scheduler)
  await scheduler.start({ listen: false, ...options })
  return scheduler
}

const readyz = async (scheduler: PostScheduler) => {
  const response = await scheduler.app.request('/readyz')
  return {
    status: response.status,
    body: (await response.json()) as { checks: ReadinessReport['checks'] },
  }
}

describe('GET /readyz', () => {
  it('answers 200 with every check passing when the database, schema and a worker are fine', async () => {
    const scheduler = await startScheduler(await createTestDatabase())
    const { status, body } = await readyz(scheduler)
    expect(status).toBe(200)
    expect(body).toEqual({
      status: 'ready',
      checks: {
        database: { ok: true, detail: 'PostgreSQL answers' },
        migrations: { ok: true, detail: 'the schema is current' },
        worker: { ok: true, detail: '1 worker(s) alive' },
      },
    })
  })

  it('answers 503 naming the worker check when no worker runs', async () => {
    const scheduler = await startScheduler(await createTestDatabase(), { worker: false })
    const { status, body } = await readyz(scheduler)
    expect(status).toBe(503)
    expect(body).toMatchObject({
      code: 'NOT_READY',
      detail: expect.stringContaining('worker: no worker heartbeat seen recently'),
      checks: { database: { ok: true }, migrations: { ok: true }, worker: { ok: false } },
    })
  })

  it('sees a worker that runs in another process against the same database', async () => {
    const databaseURL = await createTestDatabase()
    const api = await startScheduler(databaseURL, { worker: false })
    expect((await readyz(api)).status).toBe(503)
    const worker = await startScheduler(databaseURL, { worker: true })
    expect((await readyz(api)).status).toBe(200)
    await worker.stop()
    expect((await readyz(api)).status).toBe(503)
  })

  it('answers 503 naming pending migrations when the schema is behind', async () => {
    const scheduler = await startScheduler(await createTestDatabase({ empty: true }), {
      migrate: false,
    })
    const { status, body } = await readyz(scheduler)
    expect(status).toBe(503)
    expect(body.checks.migrations).toEqual({
      ok: false,
      detail: expect.stringMatching(
        /^\d+ migration\(s\) not applied; run "post-scheduler migrate"$/,
      ),
    })
  })

  it('answers 503 before start and once stopping', async () => {
    const scheduler = createPostScheduler({ config: testConfig(await createTestDatabase()) })
    expect(await readyz(scheduler)).toMatchObject({
      status: 503,
      body: { detail: 'The server is starting' },
    })
    await scheduler.start({ listen: false })
    expect((await readyz(scheduler)).status).toBe(200)
    await scheduler.stop()
    expect(await readyz(scheduler)).toMatchObject({
      status: 503,
      body: { detail: 'The server is shutting down' },
    })
  })
})
