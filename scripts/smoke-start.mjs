// Runs the README's start command (`pnpm start`) in a fresh data folder, as a newcomer would, and
// checks what they should see: /readyz answering 200 and /docs rendering within 60 s, then a clean
// stop on SIGTERM that leaves no PostgreSQL behind. Used by .ci/run; prints what it measured.
import { spawn } from 'node:child_process'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const LIMIT_MS = 60_000
const dataDir = await mkdtemp(join(tmpdir(), 'post-scheduler-smoke-'))
await chmod(dataDir, 0o755) // reachable by the postgres user when run as root
const port = await freePort()
const base = `http://127.0.0.1:${port}`
const startedAt = Date.now()
const child = spawn('pnpm', ['start'], {
  env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_FORMAT: 'json' },
  detached: true,
  stdio: ['ignore', 'pipe', 'inherit'],
})
let log = ''
child.stdout.on('data', (chunk) => {
  log += chunk
})
// pnpm exits at once on SIGTERM; the server is done when the last writer closes the pipe.
const outputClosed = new Promise((resolve) => child.stdout.on('close', resolve))

try {
  const readyAfterMs = await poll(async () => (await fetch(`${base}/readyz`)).status === 200)
  const page = await fetch(`${base}/docs`)
  const html = await page.text()
  const bundle = await fetch(`${base}/docs/scalar.js`)
  const document = await fetch(`${base}/openapi.json`).then((response) => response.json())
  check(page.status === 200 && html.includes('/docs/scalar.js'), '/docs serves the reference page')
  check(
    bundle.status === 200 && (await bundle.arrayBuffer()).byteLength > 100_000,
    '/docs/scalar.js serves the bundle',
  )
  check(document.openapi === '3.1.0', '/openapi.json serves an OpenAPI 3.1 document')
  const docsAfterMs = Date.now() - startedAt
  check(docsAfterMs < LIMIT_MS, `/docs within ${LIMIT_MS / 1000} s`)

  const postgresPort = logLines().find((line) => line.msg === 'embedded PostgreSQL started')?.port
  process.kill(-child.pid, 'SIGTERM')
  await outputClosed
  check(
    logLines().some((line) => line.msg === 'Post Scheduler stopped'),
    'stopped gracefully on SIGTERM',
  )
  check(
    postgresPort && !(await isListening(postgresPort)),
    'the embedded PostgreSQL stopped with it',
  )
  console.log(
    `smoke: pnpm start → /readyz 200 after ${(readyAfterMs / 1000).toFixed(1)} s, /docs after ${(docsAfterMs / 1000).toFixed(1)} s; clean stop`,
  )
} catch (error) {
  console.error(`smoke: FAILED: ${error.message}\n--- server output ---\n${log}`)
  process.exitCode = 1
  try {
    process.kill(-child.pid, 'SIGKILL')
  } catch {}
} finally {
  await rm(dataDir, { recursive: true, force: true })
}

function check(condition, what) {
  if (!condition) throw new Error(what)
}

function logLines() {
  return log
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line))
}

async function poll(probe) {
  for (;;) {
    if (await probe().catch(() => false)) return Date.now() - startedAt
    if (Date.now() - startedAt > LIMIT_MS)
      throw new Error(`/readyz answered 200 within ${LIMIT_MS / 1000} s`)
    if (child.exitCode !== null) throw new Error('pnpm start kept running')
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function isListening(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' })
    socket.once('connect', () => resolve(Boolean(socket.end())))
    socket.once('error', () => resolve(false))
  })
}
