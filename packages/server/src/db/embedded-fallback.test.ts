import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { spawnCLI } from '../../test/cli.ts'
import { createLogger } from '../logging/logger.ts'
import { pruneFallbackFolders, ROOT_FALLBACK_DIR } from './embedded-fallback.ts'
import { startEmbeddedPostgres } from './embedded-postgres.ts'

const folders: string[] = []
afterEach(async () => {
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })))
})

async function temporaryFolder() {
  const folder = await mkdtemp(join(tmpdir(), 'post-scheduler-fallback-'))
  folders.push(folder)
  return folder
}

describe('pruneFallbackFolders', () => {
  it('removes folders whose origin is gone and keeps the rest', async () => {
    const root = await temporaryFolder()
    const living = await temporaryFolder()
    const made = async (name: string, origin?: string) => {
      await mkdir(join(root, name, 'postgres'), { recursive: true })
      if (origin) await writeFile(join(root, name, '.origin'), `${origin}\n`)
      return join(root, name)
    }
    const orphan = await made('orphan', join(living, 'deleted-data-dir'))
    const kept = await made('kept', living)
    const unknown = await made('unknown')
    const running = await made('running', join(living, 'also-deleted'))
    await writeFile(join(running, 'postgres', 'postmaster.pid'), `${process.pid}\n/data\n`)

    const dry = await pruneFallbackFolders({ root, dryRun: true })
    expect(dry.find((folder) => folder.path === orphan)?.state).toBe('removed')
    expect(existsSync(orphan)).toBe(true)

    const states = Object.fromEntries(
      (await pruneFallbackFolders({ root })).map((folder) => [folder.path, folder.state]),
    )
    expect(states).toEqual({
      [orphan]: 'removed',
      [kept]: 'kept',
      [unknown]: 'unknown',
      [running]: 'running',
    })
    expect([orphan, kept, unknown, running].map((folder) => existsSync(folder))).toEqual([
      false,
      true,
      true,
      true,
    ])
  })

  it.runIf(process.getuid?.() === 0)(
    'as root, a cluster kept outside a private DATA_DIR is removed by the CLI once DATA_DIR is gone',
    async () => {
      // mkdtemp makes the folder 0700: the postgres user cannot enter it, so the cluster moves.
      const dataDir = await temporaryFolder()
      const embedded = await startEmbeddedPostgres({
        dataDir,
        logger: createLogger({ logLevel: 'silent', logFormat: 'json' }),
      })
      const fallback = dirname(embedded.clusterDir)
      folders.push(fallback)
      await embedded.stop()
      expect(fallback.startsWith(ROOT_FALLBACK_DIR)).toBe(true)

      const kept = spawnCLI(['embedded-postgres', 'prune'], {})
      expect(await kept.exited).toBe(0)
      expect(kept.output().stdout).toContain(`kept: ${fallback} (for ${dataDir})`)
      expect(existsSync(embedded.clusterDir)).toBe(true)

      await rm(dataDir, { recursive: true, force: true })
      const pruned = spawnCLI(['embedded-postgres', 'prune'], {})
      expect(await pruned.exited).toBe(0)
      expect(pruned.output().stdout).toContain(`removed: ${fallback} (for ${dataDir})`)
      expect(existsSync(fallback)).toBe(false)
    },
  )
})
