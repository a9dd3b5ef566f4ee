// bench/api: POST /v1/posts at 50 concurrent clients, beside a bare Hono endpoint that inserts
// one row with postgres.js (the yardstick) and the floor of a create (the least database work the
// API design asks of one, as bare SQL: floor.ts), all served over HTTP on the same database in the
// same run.
// Each client posts for its own connected account (an embedding product's users each have theirs);
// then all clients post for one account, where the publishing guards (daily cap, duplicates)
// serialise creates by design — printed for information.
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import postgres from 'postgres'
import { floorCreates } from './floor.ts'
import { connectSandboxAccounts, env, percentile, startDatabase, startScheduler } from './setup.ts'

const CLIENTS = env('BENCH_CLIENTS', 50)
const SECONDS = env('BENCH_SECONDS', 10)
const ACCOUNTS = env('BENCH_ACCOUNTS', CLIENTS)
const database = await startDatabase()

/** Requests sent so far, across runs: each post's text is unique (the duplicate guard). */
let sent = 0

/** Runs `CLIENTS` loops of `request` for `SECONDS`; returns requests/s and latency percentiles. */
async function load(request: (index: number, client: number) => Promise<Response>) {
  const latencies: number[] = []
  let errors = 0
  const until = performance.now() + SECONDS * 1000
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      while (performance.now() < until) {
        const started = performance.now()
        const response = await request(sent++, client)
        const answer = await response.text()
        latencies.push(performance.now() - started)
        if (!response.ok) {
          errors += 1
          if (errors === 1)
            process.stderr.write(`bench/api: first error ${response.status} ${answer}\n`)
        }
      }
    }),
  )
  latencies.sort((a, b) => a - b)
  return {
    rps: latencies.length / SECONDS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  }
}

// The bare endpoint: parse JSON, insert one row, answer JSON.
const sql = postgres(database.url, { max: 10, onnotice: () => {} })
await sql`create table if not exists bench_bare (id bigserial primary key, body jsonb not null, created_at timestamptz not null default now())`
const bare = new Hono().post('/posts', async (c) => {
  const body = await c.req.json()
  const [row] = await sql`insert into bench_bare (body) values (${sql.json(body)}) returning id`
  return c.json({ id: row?.id }, 201)
})
const bareServer = serve({ fetch: bare.fetch, port: 0, hostname: '127.0.0.1' })
await new Promise((resolve) => bareServer.once('listening', resolve))
const barePort = (bareServer.address() as { port: number }).port

// Post Scheduler, listening, with a connected sandbox account; posts scheduled a day ahead.
const { scheduler, url } = await startScheduler(database.url, {
  listen: true,
  worker: false,
  migrate: false,
})
process.stderr.write(`bench/api: connecting ${ACCOUNTS} sandbox accounts\n`)
const account = await connectSandboxAccounts(scheduler, database.url, ACCOUNTS)
// The floors get a pool of their own, as large as the server's.
const floorSql = postgres(database.url, { max: 20, onnotice: () => {} })
/** Serves a floor of a create (floor.ts) over HTTP; its port. */
async function serveFloor(options: Parameters<typeof floorCreates>[2]) {
  const server = serve({
    fetch: floorCreates(floorSql, account, options).fetch,
    port: 0,
    hostname: '127.0.0.1',
  })
  await new Promise((resolve) => server.once('listening', resolve))
  return { server, port: (server.address() as { port: number }).port }
}
const floors = {
  plain: await serveFloor({ guards: false, daysAhead: 7 }),
  guarded: await serveFloor({ guards: true, daysAhead: 14 }),
}
const scheduledAt = new Date(Date.now() + 24 * 3600 * 1000).toISOString()
const body = (index: number, accountId = account.accountIds[index % ACCOUNTS]) =>
  JSON.stringify({
    accountIds: [accountId],
    content: { text: `Bench post ${index}` },
    scheduledAt,
  })

const warmUp = async (target: string, headers: Record<string, string>) => {
  for (let i = 0; i < 200; i++)
    await (
      await fetch(target, {
        method: 'POST',
        headers,
        body: body(-i - 1, account.accountIds[i % ACCOUNTS]),
      })
    ).arrayBuffer()
}
const bareHeaders = { 'content-type': 'application/json' }
const apiHeaders = { 'content-type': 'application/json', authorization: `Bearer ${account.apiKey}` }
await warmUp(`http://127.0.0.1:${barePort}/posts`, bareHeaders)
for (const floor of Object.values(floors))
  await warmUp(`http://127.0.0.1:${floor.port}/posts`, apiHeaders)
await warmUp(`${url}/v1/posts`, apiHeaders)
const bareResult = await load((index) =>
  fetch(`http://127.0.0.1:${barePort}/posts`, {
    method: 'POST',
    headers: bareHeaders,
    body: body(index),
  }),
)
const floorLoad = (port: number) =>
  load((index, client) =>
    fetch(`http://127.0.0.1:${port}/posts`, {
      method: 'POST',
      headers: apiHeaders,
      body: body(index, account.accountIds[client % ACCOUNTS]),
    }),
  )
const floorResult = await floorLoad(floors.plain.port)
const guardedResult = await floorLoad(floors.guarded.port)
const apiResult = await load((index, client) =>
  fetch(`${url}/v1/posts`, {
    method: 'POST',
    headers: apiHeaders,
    body: body(index, account.accountIds[client % ACCOUNTS]),
  }),
)
const oneAccount = await load((index) =>
  fetch(`${url}/v1/posts`, {
    method: 'POST',
    headers: apiHeaders,
    body: body(index, account.accountIds[0]),
  }),
)

const f = (value: number, digits = 0) => value.toFixed(digits)
console.log(`bench/api (${CLIENTS} concurrent clients, ${SECONDS} s each, ${ACCOUNTS} accounts)`)
console.log(
  `  bare Hono + postgres insert   ${f(bareResult.rps)} req/s, p50 ${f(bareResult.p50, 1)} ms, p99 ${f(bareResult.p99, 1)} ms, ${bareResult.errors} errors`,
)
const floorLine = (label: string, result: typeof bareResult) =>
  console.log(
    `  ${label.padEnd(30)}${f(result.rps)} req/s (${f((result.rps / bareResult.rps) * 100)} % of bare), p50 ${f(result.p50, 1)} ms, p99 ${f(result.p99, 1)} ms, ${result.errors} errors`,
  )
floorLine('floor: key, limit, write', floorResult)
floorLine('floor: … and guards', guardedResult)
console.log(
  `  POST /v1/posts                ${f(apiResult.rps)} req/s (${f((apiResult.rps / bareResult.rps) * 100)} % of bare; target ≥ 60 %), p50 ${f(apiResult.p50, 1)} ms, p99 ${f(apiResult.p99, 1)} ms (target ≤ 50 ms), ${apiResult.errors} errors`,
)
console.log(
  `  POST /v1/posts, one account   ${f(oneAccount.rps)} req/s, p50 ${f(oneAccount.p50, 1)} ms, p99 ${f(oneAccount.p99, 1)} ms (creates for one account wait for each other's guard checks), ${oneAccount.errors} errors`,
)

bareServer.close()
for (const floor of Object.values(floors)) floor.server.close()
await scheduler.stop()
await sql.end()
await floorSql.end()
await database.stop()
