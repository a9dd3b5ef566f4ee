import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { spawnCLI } from '../../test/cli.ts'

// The embedded PostgreSQL's postmaster killed with SIGKILL under a running server (CLI `start`,
// no DATABASE_URL): it is restarted (PostgreSQL's own crash recovery) and the server serves again;
// when it cannot come back, the process exits non-zero so that its supervisor restarts it.

const dataDir = await mkdtemp(join(tmpdir(), 'post-scheduler-fault-embedded-'))
// mkdtemp makes the folder 0700; as root, the cluster would otherwise move to /var/lib.
await chmod(dataDir, 0o755)
afterAll(() => rm(dataDir, { recursive: true, force: true }))

async function startServer() {
  const server = spawnCLI(['start'], { DATA_DIR: dataDir, PORT: '0', SHUTDOWN_DRAIN_SECONDS: '0' })
  afterAll(() => server.child.kill('SIGKILL'))
  const { url } = (await server.logLine(/^Post Scheduler listening/)) as { url: string }
  const { clusterDir } = (await server.logLine(/^embedded PostgreSQL started/)) as {
    clusterDir?: string
  }
  const postmasterPid = async () =>
    Number((await readFile(join(String(clusterDir), 'postmaster.pid'), 'utf8')).split('\n')[0])
  return { server, url, clusterDir: String(clusterDir), postmasterPid }
}

const statusOf = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(5000) }).then(
    (response) => response.status,
    () => 0,
  )

describe('the embedded PostgreSQL killed', () => {
  it('is restarted, and the server serves again while /healthz stays 200', {
    timeout: 120_000,
  }, async () => {
    const { server, url, postmasterPid } = await startServer()
    const { msg } = (await server.logLine(/^development workspace created/)) as { msg: string }
    const [, apiKey, workspaceURL] = msg.match(/Bearer (psk_test_\w+)" (\S+)$/) ?? []
    expect(await statusOf(`${url}/readyz`)).toBe(200)

    const killed = await postmasterPid()
    const killedAt = Date.now()
    process.kill(killed, 'SIGKILL')
    const healthz: number[] = []
    let readyAfterMs: number | undefined
    while (readyAfterMs === undefined && Date.now() - killedAt < 60_000) {
      healthz.push(await statusOf(`${url}/healthz`))
      if ((await statusOf(`${url}/readyz`)) === 200) readyAfterMs = Date.now() - killedAt
      else await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const workspace = await fetch(String(workspaceURL), {
      headers: { authorization: `Bearer ${apiKey}` },
    })
    const restarted = await postmasterPid()
    console.log(
      `embedded PostgreSQL SIGKILLed: postmaster ${killed} → ${restarted}; /readyz 200 again after ${readyAfterMs} ms; /healthz answers ${JSON.stringify([...new Set(healthz)])} meanwhile; an API request after it ${workspace.status}`,
    )
    expect(readyAfterMs).toBeDefined()
    expect(restarted).not.toBe(killed)
    expect(new Set(healthz)).toEqual(new Set([200]))
    expect(workspace.status).toBe(200)
    expect(server.output().stdout).toContain('"msg":"embedded PostgreSQL restarted"')

    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  })

  it('makes the process exit non-zero within 60 s when it cannot come back', {
    timeout: 120_000,
  }, async () => {
    const { server, url, clusterDir, postmasterPid } = await startServer()
    expect(await statusOf(`${url}/readyz`)).toBe(200)
    // A data folder PostgreSQL refuses: every restart fails at once.
    await rm(join(clusterDir, 'PG_VERSION'))
    const killedAt = Date.now()
    process.kill(await postmasterPid(), 'SIGKILL')
    const healthz = new Set<number>()
    let exitedAfterMs: number | undefined
    void server.exited.then(() => {
      exitedAfterMs = Date.now() - killedAt
    })
    while (exitedAfterMs === undefined && Date.now() - killedAt < 90_000) {
      healthz.add(await statusOf(`${url}/healthz`))
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    const code = await server.exited
    console.log(
      `embedded PostgreSQL that cannot restart: process exited with ${code} after ${exitedAfterMs} ms; /healthz answered ${JSON.stringify([...healthz])} meanwhile (0: no answer, after the exit)`,
    )
    expect(code).not.toBe(0)
    expect(code).not.toBeNull()
    expect(exitedAfterMs).toBeLessThan(60_000)
    expect(server.output().stdout).toContain('could not be restarted')
  })
})
