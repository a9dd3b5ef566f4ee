import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { dirname, join } from 'node:path'
import postgres from 'postgres'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../logging/logger.ts'
import { EmbeddedPostgresError, startEmbeddedPostgres } from './embedded-postgres.ts'

const logger = createLogger({ logLevel: 'silent', logFormat: 'json' })
const folders: string[] = []
afterEach(async () => {
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })))
})

async function dataFolder() {
  const folder = await mkdtemp(join(tmpdir(), 'post-scheduler-pg-'))
  await chmod(folder, 0o755)
  folders.push(folder)
  return folder
}

describe('startEmbeddedPostgres', () => {
  it('keeps its data and password across restarts', async () => {
    const dataDir = await dataFolder()
    const first = await startEmbeddedPostgres({ dataDir, logger })
    const sql = postgres(first.url, { max: 1, onnotice: () => {} })
    await sql`create table kept (value text)`
    await sql`insert into kept values ('still here')`
    await sql.end()
    await first.stop()

    const second = await startEmbeddedPostgres({ dataDir, logger })
    const again = postgres(second.url, { max: 1 })
    expect(await again`select value from kept`).toEqual([{ value: 'still here' }])
    await again.end()
    await second.stop()
  })

  it('shows the server log when PostgreSQL cannot start', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      const failure = startEmbeddedPostgres({ dataDir: await dataFolder(), port, logger })
      await expect(failure).rejects.toThrow(EmbeddedPostgresError)
      await expect(failure).rejects.toThrow(/could not start[\s\S]*Its log:[\s\S]*could not bind/)
    } finally {
      blocker.close()
    }
  })

  it('refuses a data folder whose cluster lost its password file', async () => {
    const dataDir = await dataFolder()
    await mkdir(join(dataDir, 'postgres'))
    await writeFile(join(dataDir, 'postgres', 'PG_VERSION'), '18\n')
    await expect(startEmbeddedPostgres({ dataDir, logger })).rejects.toThrow(
      /postgres\.password is missing/,
    )
  })

  it.runIf(userInfo().uid === 0)(
    'keeps the cluster where the postgres user can reach it when, as root, the data folder is private',
    async () => {
      const parent = await dataFolder()
      await chmod(parent, 0o700)
      const dataDir = join(parent, 'data')
      const first = await startEmbeddedPostgres({ dataDir, logger })
      try {
        expect(first.clusterDir).toMatch(
          /^\/var\/lib\/post-scheduler\/embedded-postgres\/[0-9a-f]{16}\/postgres$/,
        )
        const sql = postgres(first.url, { max: 1 })
        expect(await sql`select 1 as one`).toEqual([{ one: 1 }])
        await sql.end()
        await first.stop()
        // The same data folder finds the same cluster again.
        const second = await startEmbeddedPostgres({ dataDir, logger })
        expect(second.clusterDir).toBe(first.clusterDir)
        await second.stop()
      } finally {
        await rm(dirname(first.clusterDir), { recursive: true, force: true })
      }
    },
  )
})
