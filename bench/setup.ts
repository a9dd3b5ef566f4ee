// Shared set-up of the benchmarks: a database, a Post Scheduler on it, and a sandbox account
// connected through the real OAuth flow.
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../packages/server/src/config/config.ts'
import { createDatabaseClient } from '../packages/server/src/db/client.ts'
import { startEmbeddedPostgres } from '../packages/server/src/db/embedded-postgres.ts'
import { migrateDatabase } from '../packages/server/src/db/migrate.ts'
import { bootstrapDevelopment } from '../packages/server/src/development/bootstrap.ts'
import { createLogger } from '../packages/server/src/logging/logger.ts'
import { createPostScheduler, type StartOptions } from '../packages/server/src/post-scheduler.ts'
import { generateKeyEntry } from '../packages/server/src/vault/vault.ts'

export const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)

/** A database for the run: `DATABASE_URL`, or an embedded PostgreSQL in a temporary folder. */
export async function startDatabase() {
  const logger = createLogger({ logLevel: 'warn', logFormat: 'json' }, process.stderr)
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} }
  const dataDir = await mkdtemp(join(tmpdir(), 'post-scheduler-bench-'))
  await chmod(dataDir, 0o755)
  const embedded = await startEmbeddedPostgres({ dataDir, logger })
  await migrateDatabase(embedded.url)
  return {
    url: embedded.url,
    stop: async () => {
      await embedded.stop()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/** A Post Scheduler on the database, quiet, with limits out of the way of a benchmark. */
export async function startScheduler(
  databaseURL: string,
  start: StartOptions,
  env: Record<string, string> = {},
) {
  const config = loadConfig({
    DATABASE_URL: databaseURL,
    PORT: '0',
    LOG_LEVEL: 'error',
    LOG_FORMAT: 'json',
    ENCRYPTION_KEYS: process.env.ENCRYPTION_KEYS ?? BENCH_KEYS,
    PUBLIC_URL: 'http://post-scheduler.bench',
    RATE_LIMIT_PER_MINUTE: '1000000',
    ...env,
  })
  const scheduler = createPostScheduler({ config })
  const { url } = await scheduler.start(start)
  return { scheduler, url }
}
const BENCH_KEYS = generateKeyEntry('bench')

/**
 * A workspace with an API key and `count` sandbox accounts (distinct sandbox users) connected
 * through consent, in its default profile.
 */
export async function connectSandboxAccounts(
  scheduler: Awaited<ReturnType<typeof startScheduler>>['scheduler'],
  databaseURL: string,
  count = 1,
) {
  const client = createDatabaseClient(databaseURL, { max: 1 })
  const created = await bootstrapDevelopment(
    client.db,
    scheduler.logger,
    'http://post-scheduler.bench',
  )
  await client.close()
  if (!created) throw new Error('benchmarks need a database without workspaces')
  const call = async (path: string, init: { method?: string; json?: unknown } = {}) => {
    const response = await scheduler.app.request(path, {
      method: init.method ?? (init.json ? 'POST' : 'GET'),
      headers: { authorization: `Bearer ${created.apiKey}`, 'content-type': 'application/json' },
      body: init.json ? JSON.stringify(init.json) : undefined,
    })
    if (response.status >= 400)
      throw new Error(`${path}: ${response.status} ${await response.text()}`)
    return response
  }
  const profiles = (await (await call('/v1/profiles')).json()) as { data: { id: string }[] }
  const profileId = profiles.data[0]?.id
  const accountIds: string[] = []
  for (let index = 0; index < count; index++) {
    const connection = (await (
      await call(`/v1/profiles/${profileId}/connections`, { json: { platform: 'sandbox' } })
    ).json()) as {
      id: string
      authorizationURL: string
    }
    const form = new URLSearchParams(new URL(connection.authorizationURL).searchParams)
    form.set('decision', 'allow')
    form.set('name', `Bench User ${index + 1}`)
    const consent = await scheduler.app.request('/sandbox/oauth/authorize', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    })
    const callback = new URL(consent.headers.get('location') as string)
    await scheduler.app.request(`${callback.pathname}${callback.search}`)
    const pending = (await (await call(`/v1/connections/${connection.id}`)).json()) as {
      choices: { id: string; kind: string }[]
    }
    const personal = pending.choices.find((choice) => choice.kind === 'personal')
    const done = (await (
      await call(`/v1/connections/${connection.id}/accounts`, {
        json: { accountIds: [personal?.id] },
      })
    ).json()) as {
      connectedAccounts: { id: string }[]
    }
    accountIds.push(String(done.connectedAccounts[0]?.id))
  }
  return {
    apiKey: created.apiKey,
    workspaceId: created.workspaceId,
    profileId: String(profileId),
    accountIds,
  }
}

/** The p-th percentile of sorted numbers. */
export const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number)
