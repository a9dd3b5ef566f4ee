import { existsSync } from 'node:fs'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Where a root process keeps what the unprivileged `postgres` user must reach but cannot where it
 * is: a cluster whose `DATA_DIR` sits in a private folder, or a copy of the binaries. Such folders
 * outlive the folder they stand in for, so each records it (see {@link markOrigin}) and
 * {@link pruneFallbackFolders} removes those whose origin is gone.
 */
export const ROOT_FALLBACK_DIR = '/var/lib/post-scheduler/embedded-postgres'

/** The file in a fallback folder naming the folder it stands in for. */
const ORIGIN_FILE = '.origin'

/**
 * Records in `folder` (under {@link ROOT_FALLBACK_DIR}) which folder it stands in for. Written at
 * every start, so folders made before origins were recorded gain theirs when next used.
 */
export async function markOrigin(folder: string, origin: string): Promise<void> {
  const file = join(folder, ORIGIN_FILE)
  if ((await readOrigin(folder)) !== origin) await writeFile(file, `${origin}\n`, { mode: 0o644 })
}

/** One folder under {@link ROOT_FALLBACK_DIR} and what became of it. */
export interface FallbackFolder {
  path: string
  /** The folder it stands in for (`DATA_DIR`, or the binaries' installation), when recorded. */
  origin: string | undefined
  /**
   * `removed` (its origin no longer exists), `kept` (its origin exists), `running` (origin gone,
   * but a PostgreSQL still runs on it: stop it first) or `unknown` (no origin recorded: it was
   * made before origins were, and has not been used since; remove it by hand if it is not yours).
   */
  state: 'removed' | 'kept' | 'running' | 'unknown'
}

/**
 * Removes the fallback folders whose `DATA_DIR` (or binaries' installation) no longer exists,
 * so a deleted data folder does not leave its cluster behind. A folder whose PostgreSQL still runs
 * is never removed, nor one whose origin is not recorded.
 *
 * @param options.dryRun report what would be removed, remove nothing.
 * @param options.root the folder to prune; {@link ROOT_FALLBACK_DIR} by default.
 * @returns every folder found, with what was done to it.
 * @example
 * ```ts
 * const folders = await pruneFallbackFolders()
 * for (const folder of folders) console.log(folder.state, folder.path)
 * ```
 */
export async function pruneFallbackFolders(
  options: { dryRun?: boolean; root?: string } = {},
): Promise<FallbackFolder[]> {
  const root = options.root ?? ROOT_FALLBACK_DIR
  const entries = await readdir(root, { withFileTypes: true }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  })
  const folders: FallbackFolder[] = []
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.includes('.partial-')) continue
    const path = join(root, entry.name)
    const origin = await readOrigin(path)
    if (origin === undefined) {
      folders.push({ path, origin, state: 'unknown' })
    } else if (existsSync(origin)) {
      folders.push({ path, origin, state: 'kept' })
    } else if (await runsPostgres(join(path, 'postgres'))) {
      folders.push({ path, origin, state: 'running' })
    } else {
      if (!options.dryRun) await rm(path, { recursive: true, force: true })
      folders.push({ path, origin, state: 'removed' })
    }
  }
  return folders
}

async function readOrigin(folder: string): Promise<string | undefined> {
  const text = await readFile(join(folder, ORIGIN_FILE), 'utf8').catch(() => undefined)
  return text?.trim() || undefined
}

/** Whether the cluster's `postmaster.pid` names a live process. */
async function runsPostgres(clusterDir: string): Promise<boolean> {
  const pid = Number(
    (await readFile(join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0],
  )
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
