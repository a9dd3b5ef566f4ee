import type { ChildProcess } from 'node:child_process'
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { spawnCLI } from '../test/cli.ts'
import { TEST_KEYS } from '../test/config.ts'
import { createTestDatabase } from '../test/database.ts'
import { createOpenAPIDocument } from './app/app.ts'
import { createDatabaseClient } from './db/client.ts'
import { countPendingMigrations } from './db/migrate.ts'

async function run(args: string[], env: Record<string, string>) {
  const process = spawnCLI(args, env)
  const code = await process.exited
  return { code, ...process.output() }
}

const isListening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' })
    socket.once('connect', () => resolve(Boolean(socket.end())))
    socket.once('error', () => resolve(false))
  })

async function stopWithSIGTERM(child: ChildProcess, exited: Promise<number | null>) {
  child.kill('SIGTERM')
  return exited
}

describe('post-scheduler CLI', () => {
  it('exits non-zero with one clear line for a malformed PORT', async () => {
    const { code, stderr, stdout } = await run(['start'], { PORT: 'eighty' })
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toBe(
      'post-scheduler: Invalid configuration: PORT must be a whole number from 0 to 65535 (got "eighty")\n',
    )
  })

  it('exits non-zero with one clear line when DATABASE_URL does not answer', async () => {
    const { code, stderr } = await run(['start'], {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/x',
      LOG_LEVEL: 'silent',
    })
    expect(code).toBe(1)
    expect(stderr).toMatch(
      /^post-scheduler: Cannot connect to PostgreSQL at postgres:\/\/nobody@127\.0\.0\.1:1\/x: .*ECONNREFUSED.*\n$/,
    )
    expect(stderr.trim().split('\n')).toHaveLength(1)
  })

  it('prints usage and exits 2 for an unknown command', async () => {
    const { code, stderr } = await run(['serve'], {})
    expect(code).toBe(2)
    expect(stderr).toContain('Usage: post-scheduler <command>')
  })

  it('prints the OpenAPI document', async () => {
    const { code, stdout } = await run(['openapi'], {})
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toEqual(createOpenAPIDocument())
  })

  it('applies migrations with "migrate"', async () => {
    const databaseURL = await createTestDatabase({ empty: true })
    const { code } = await run(['migrate'], { DATABASE_URL: databaseURL })
    expect(code).toBe(0)
    const client = createDatabaseClient(databaseURL)
    expect(await countPendingMigrations(client.db)).toBe(0)
    await client.close()
  })

  it('re-encrypts stored secrets with "rotate-keys"', async () => {
    const { code, stdout } = await run(['rotate-keys'], {
      DATABASE_URL: await createTestDatabase(),
      ENCRYPTION_KEYS: `k2:${Buffer.alloc(32, 9).toString('base64')},${TEST_KEYS}`,
    })
    expect(code).toBe(0)
    expect(stdout).toContain('every secret now uses key \\"k2\\"')
  })

  it('serves until SIGTERM, then drains and exits 0', async () => {
    const server = spawnCLI(['start'], { DATABASE_URL: await createTestDatabase(), PORT: '0' })
    const { url } = await server.logLine(/^Post Scheduler listening/)
    expect((await fetch(`${url}/readyz`)).status).toBe(200)
    expect(await stopWithSIGTERM(server.child, server.exited)).toBe(0)
    expect(server.output().stdout).toContain('"msg":"Post Scheduler stopped"')
  })

  it('runs on its own embedded PostgreSQL when DATABASE_URL is unset, and stops it on exit', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'post-scheduler-cli-'))
    await chmod(dataDir, 0o755)
    try {
      const server = spawnCLI(['start'], { DATA_DIR: dataDir, PORT: '0', ENCRYPTION_KEYS: '' })
      const { url } = await server.logLine(/^Post Scheduler listening/)
      const { port: postgresPort } = (await server.logLine(/^embedded PostgreSQL started/)) as {
        port?: number
      }
      expect((await fetch(`${url}/readyz`)).status).toBe(200)
      expect(await isListening(Number(postgresPort))).toBe(true)

      // The first start prints a development API key with a curl line that works as printed.
      const { msg } = await server.logLine(/^development workspace created/)
      const [, apiKey, workspaceURL] = msg.match(/Bearer (psk_test_\w+)" (\S+)$/) ?? []
      const workspace = await fetch(String(workspaceURL), {
        headers: { authorization: `Bearer ${apiKey}` },
      })
      expect(workspace.status).toBe(200)
      expect(await workspace.json()).toMatchObject({ name: 'Development' })

      expect(await stopWithSIGTERM(server.child, server.exited)).toBe(0)
      expect(await isListening(Number(postgresPort))).toBe(false)

      // A second start finds its data again and prints no new key.
      // Without ENCRYPTION_KEYS, a development key was made once, readable by this user only.
      expect((await stat(join(dataDir, 'encryption-keys'))).mode & 0o777).toBe(0o600)
      const again = spawnCLI(['start'], { DATA_DIR: dataDir, PORT: '0', ENCRYPTION_KEYS: '' })
      await again.logLine(/^Post Scheduler listening/)
      expect(await stopWithSIGTERM(again.child, again.exited)).toBe(0)
      expect(again.output().stdout).not.toContain('development workspace created')
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
