// bench/publish: publications to the sandbox platform, beside raw pg-boss as the yardstick.
//   1. yardstick: N no-op jobs through pg-boss with the publish workers' fetch settings;
//   2. floor: N publications through the same fetch, each with only the design's least database
//      work as bare SQL (floor.ts): how much of the yardstick this design can reach here;
//   3. burst: N publications due at the same instant → throughput and lateness;
//   4. steady: R publications per second for D seconds → lateness p50/p99.
import postgres from 'postgres'
import { generateId } from '../packages/server/src/db/ids.ts'
import { startQueue } from '../packages/server/src/jobs/queue.ts'
import { createLogger } from '../packages/server/src/logging/logger.ts'
import { publishWorkOptions } from '../packages/server/src/publishing/jobs.ts'
import { FLOOR_CLIENT, floorPublisher } from './floor.ts'
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
const sql = postgres(database.url, { max: 20, onnotice: () => {} })

const boss = await startQueue({
  databaseURL: database.url,
  schema: 'pgboss',
  role: 'worker',
  heartbeatSeconds: 10,
  logger,
})

/**
 * Jobs per second of a pg-boss worker with the publish workers' fetch settings handling `ids`
 * (one job each, due now) with `handle`: from the start of the worker to the last job handled.
 */
async function throughput(
  queue: string,
  ids: string[],
  handle: (id: string) => Promise<unknown>,
): Promise<number> {
  await boss.createQueue(queue)
  await boss.insert(
    queue,
    ids.map((id) => ({ data: { id }, singletonKey: id, retryLimit: 0 })),
  )
  let handled = 0
  let last = 0
  const start = performance.now()
  await boss.work<{ id: string }>(queue, publishWorkOptions(CONCURRENCY), async (jobs) => {
    await Promise.all(jobs.map((job) => handle(job.data.id)))
    handled += jobs.length
    last = performance.now()
  })
  while (handled < ids.length) {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    progress(`${queue}: ${handled}/${ids.length}`)
  }
  await boss.offWork(queue)
  return ids.length / ((last - start) / 1000)
}

// 1. The yardstick: what pg-boss itself does with no work per job.
const yardstick = await throughput(
  'bench.noop',
  Array.from({ length: N }, (_, index) => String(index)),
  async () => {},
)

// An API process connects the accounts; a worker process publishes.
const api = await startScheduler(database.url, { listen: false, worker: false, migrate: false })
progress(`connecting ${ACCOUNTS} sandbox accounts`)
const account = await connectSandboxAccounts(api.scheduler, database.url, ACCOUNTS)

// 2. The floor: the design's least database work per attempt as bare SQL (floor.ts), before any
// worker of ours runs.
progress(`floor: ${N} publications`)
const floorPosts = await schedule(N, () => new Date(), 'floor')
const floorPublications = await sql<{ id: string }[]>`
  select id from post_scheduler.publications where post_id = any(${floorPosts})`
const floor = await throughput(
  'bench.floor',
  floorPublications.map((row) => row.id),
  floorPublisher(sql),
)
await boss.stop({ graceful: true, close: true })

// 3. and 4. The engine: a worker process publishing a burst, then a steady load.
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
  // From the post's time: a publication's own due time moves when a budget makes it wait.
  const rows = await sql<{ lateness: number; published: Date; due: Date; status: string }[]>`
    select extract(epoch from (publications.published_at - posts.scheduled_at))::float8 as lateness,
      publications.published_at as published, posts.scheduled_at as due, publications.status
    from post_scheduler.publications join post_scheduler.posts on posts.id = publications.post_id
    where publications.post_id = any(${postIds})`
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
>`select count(*)::int as count from post_scheduler.sandbox_posts where client_id <> ${FLOOR_CLIENT}`
const duplicates = await sql<{ count: number }[]>`
  select count(*)::int as count from (
    select text from post_scheduler.sandbox_posts where client_id <> ${FLOOR_CLIENT}
    group by text having count(*) > 1) d`
const f = (value: number, digits = 0) => value.toFixed(digits)
console.log(
  `bench/publish (concurrency ${CONCURRENCY} in one worker process, ${ACCOUNTS} sandbox accounts)`,
)
console.log(`  yardstick  pg-boss no-op jobs         ${f(yardstick)} jobs/s`)
console.log(
  `  floor      the design's least SQL      ${f(floor)} publications/s (${f((floor / yardstick) * 100)} % of the yardstick: the most any engine of this design reaches here)`,
)
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
