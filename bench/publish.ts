// bench/publish: publications to the sandbox platform, beside raw pg-boss as the yardstick.
//   1. yardstick: N no-op jobs through pg-boss with the same concurrency and polling;
//   2. burst: N publications due at the same instant → throughput and lateness;
//   3. steady: R publications per second for D seconds → lateness p50/p99.
import postgres from 'postgres'
import { generateId } from '../packages/server/src/auth/secrets.ts'
import { startQueue } from '../packages/server/src/jobs/queue.ts'
import { publishWorkOptions } from '../packages/server/src/jobs/workers.ts'
import { createLogger } from '../packages/server/src/logging/logger.ts'
import { connectSandboxAccounts, env, percentile, startDatabase, startScheduler } from './setup.ts'

const N = env('BENCH_PUBLICATIONS', 10_000)
const CONCURRENCY = env('BENCH_CONCURRENCY', 50)
const STEADY_RATE = env('BENCH_STEADY_PER_SECOND', 50)
const STEADY_SECONDS = env('BENCH_STEADY_SECONDS', 20)
const ACCOUNTS = env('BENCH_ACCOUNTS', 50)
const logger = createLogger({ logLevel: 'error', logFormat: 'json' }, process.stderr)
const progress = (message: string) => process.stderr.write(`bench/publish: ${message}\n`)
const database = await startDatabase()
progress(`database ready; yardstick: ${N} no-op jobs`)
const sql = postgres(database.url, { max: 4, onnotice: () => {} })

// 1. The yardstick: what pg-boss itself does with no work per job.
const boss = await startQueue({
  databaseURL: database.url,
  schema: 'pgboss',
  role: 'worker',
  heartbeatSeconds: 10,
  logger,
})
await boss.createQueue('bench.noop')
await boss.insert(
  'bench.noop',
  Array.from({ length: N }, () => ({ data: {} })),
)
let noops = 0
const yardstickStart = performance.now()
// The same fetch settings as the publish workers.
await boss.work('bench.noop', publishWorkOptions(CONCURRENCY), async (jobs) => {
  noops += jobs.length
})
while (noops < N) {
  await new Promise((resolve) => setTimeout(resolve, 1000))
  progress(`yardstick ${noops}/${N}`)
}
const yardstick = N / ((performance.now() - yardstickStart) / 1000)
await boss.stop({ graceful: true, close: true })

// 2. and 3. The engine: an API process to connect the account, a worker process to publish.
const api = await startScheduler(database.url, { listen: false, worker: false, migrate: false })
progress(`connecting ${ACCOUNTS} sandbox accounts`)
const account = await connectSandboxAccounts(api.scheduler, database.url, ACCOUNTS)
const worker = await startScheduler(
  database.url,
  { listen: false, worker: true, migrate: false },
  {
    PUBLISH_CONCURRENCY: String(CONCURRENCY),
    SWEEP_INTERVAL_SECONDS: '1',
  },
)

async function schedule(count: number, dueAt: (index: number) => Date, label: string) {
  const postRows = Array.from({ length: count }, (_, index) => ({
    id: generateId('post'),
    text: `${label} ${index} ${crypto.randomUUID()}`,
    dueAt: dueAt(index),
    // Round robin over the accounts, as an embedding product's many users would post.
    accountId: account.accountIds[index % ACCOUNTS] as string,
  }))
  for (let start = 0; start < count; start += 1000) {
    const chunk = postRows.slice(start, start + 1000)
    await sql`insert into post_scheduler.posts ${sql(
      chunk.map((row) => ({
        id: row.id,
        workspace_id: account.workspaceId,
        profile_id: account.profileId,
        status: 'scheduled',
        content: sql.json({ text: row.text, mediaIds: [] }),
        overrides: sql.json({}),
        account_ids: [row.accountId],
        scheduled_at: row.dueAt,
      })),
    )}`
    await sql`insert into post_scheduler.publications ${sql(
      chunk.map((row) => ({
        id: generateId('pub'),
        post_id: row.id,
        workspace_id: account.workspaceId,
        account_id: row.accountId,
        platform: 'sandbox',
        status: 'scheduled',
        due_at: row.dueAt,
      })),
    )}`
  }
  return postRows.map((row) => row.id)
}

async function measure(postIds: string[], label: string) {
  for (;;) {
    const [open] = await sql<{ count: number }[]>`
      select count(*)::int as count from post_scheduler.publications
      where post_id in ${sql(postIds)} and status not in ('published', 'failed', 'unconfirmed')`
    if (open?.count === 0) break
    progress(`${label}: ${postIds.length - (open?.count ?? 0)}/${postIds.length} finished`)
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
  const rows = await sql<{ lateness: number; published: Date; due: Date; status: string }[]>`
    select extract(epoch from (published_at - due_at))::float8 as lateness, published_at as published, due_at as due, status
    from post_scheduler.publications where post_id in ${sql(postIds)}`
  const published = rows.filter((row) => row.status === 'published')
  const lateness = published.map((row) => row.lateness).sort((a, b) => a - b)
  const first = Math.min(...published.map((row) => row.due.getTime()))
  const last = Math.max(...published.map((row) => row.published.getTime()))
  return {
    published: published.length,
    failed: rows.length - published.length,
    throughput: published.length / ((last - first) / 1000),
    p50: percentile(lateness, 50),
    p99: percentile(lateness, 99),
  }
}

const burstAt = new Date(Date.now() + 15_000)
const burst = await measure(await schedule(N, () => burstAt, 'burst'), 'burst')

const steadyStart = Date.now() + 10_000
const steady = await measure(
  await schedule(
    STEADY_RATE * STEADY_SECONDS,
    (index) => new Date(steadyStart + (index * 1000) / STEADY_RATE),
    'steady',
  ),
  'steady',
)

const copies = await sql<
  { count: number }[]
>`select count(*)::int as count from post_scheduler.sandbox_posts`
const duplicates = await sql<{ count: number }[]>`
  select count(*)::int as count from (select text from post_scheduler.sandbox_posts group by text having count(*) > 1) d`
const f = (value: number, digits = 0) => value.toFixed(digits)
console.log(
  `bench/publish (concurrency ${CONCURRENCY} in one worker process, ${ACCOUNTS} sandbox accounts)`,
)
console.log(`  yardstick  pg-boss no-op jobs         ${f(yardstick)} jobs/s`)
console.log(
  `  burst      ${N} due at one instant    ${f(burst.throughput)} publications/s (${f((burst.throughput / yardstick) * 100)} % of the yardstick; target ≥ 50 %); lateness p50 ${f(burst.p50, 2)} s, p99 ${f(burst.p99, 2)} s; ${burst.failed} not published`,
)
console.log(
  `  steady     ${STEADY_RATE}/s for ${STEADY_SECONDS} s             lateness p50 ${f(steady.p50, 3)} s, p99 ${f(steady.p99, 3)} s (target ≤ 1 s); ${steady.failed} not published`,
)
console.log(
  `  sandbox    ${copies[0]?.count} posts received, ${duplicates[0]?.count} published twice`,
)

await worker.scheduler.stop()
await api.scheduler.stop()
await sql.end()
await database.stop()
