#!/usr/bin/env node
import { createOpenAPIDocument } from './app/app.ts'
import { OPERATOR_USAGE, runOperatorCommand } from './app/commands/privacy.ts'
import { rotateKeys } from './app/commands/rotate-keys.ts'
import { ConfigError, loadConfig } from './config/config.ts'
import { connectDatabase } from './db/connect.ts'
import { pruneFallbackFolders } from './db/embedded-fallback.ts'
import { migrateDatabase } from './db/migrate.ts'
import { StartupError } from './errors/startup.ts'
import { createLogger } from './logging/logger.ts'
import { createPostScheduler, type StartOptions } from './post-scheduler.ts'
import { loadKeyring } from './vault/keyring.ts'
import { createVault } from './vault/vault.ts'

const USAGE = `Usage: post-scheduler <command>

Commands:
  start         run the HTTP API and the workers in one process
  api           run the HTTP API only (workers run elsewhere)
  worker        run the workers only
  migrate       apply pending database migrations, then exit
  rotate-keys   re-encrypt stored secrets with the first key of ENCRYPTION_KEYS, then exit
  openapi       print the OpenAPI document, then exit
  embedded-postgres prune [--dry-run]
                remove the embedded clusters a root process kept outside DATA_DIRs that no
                longer exist (in /var/lib/post-scheduler/embedded-postgres)
${OPERATOR_USAGE}

Configuration comes from environment variables (PORT, DATABASE_URL, DATA_DIR, ...);
the README lists them all.`

/** How long a process that cannot recover spends stopping before it exits anyway. */
const FATAL_STOP_MS = 10_000

const ROLES: Record<string, StartOptions> = {
  start: { listen: true, worker: true },
  api: { listen: true, worker: false },
  worker: { listen: false, worker: true },
}

async function main(command: string | undefined): Promise<number> {
  if (command === 'openapi') {
    process.stdout.write(`${JSON.stringify(createOpenAPIDocument(), null, 2)}\n`)
    return 0
  }
  if (command === 'migrate') {
    const config = loadConfig()
    const logger = createLogger(config)
    const database = await connectDatabase(config, logger)
    try {
      const { applied } = await migrateDatabase(database.url)
      logger.info({ applied }, applied ? 'database migrations applied' : 'database already current')
    } finally {
      await database.close()
    }
    return 0
  }
  if (command === 'rotate-keys') {
    const config = loadConfig()
    const logger = createLogger(config)
    const vault = createVault(await loadKeyring(config, logger))
    const database = await connectDatabase(config, logger)
    try {
      const { resealed } = await rotateKeys(database.db, vault, {
        onProgress: (count) => logger.info({ resealed: count }, 're-encrypting secrets'),
      })
      logger.info(
        { resealed, primaryKeyId: vault.primaryKeyId },
        `${resealed} secret(s) re-encrypted; every secret now uses key "${vault.primaryKeyId}"`,
      )
    } finally {
      await database.close()
    }
    return 0
  }
  if (command === 'embedded-postgres' && process.argv[3] === 'prune') {
    const dryRun = process.argv.slice(4).includes('--dry-run')
    const folders = await pruneFallbackFolders({ dryRun })
    const verb = {
      removed: dryRun ? 'would remove' : 'removed',
      kept: 'kept',
      running: 'kept (PostgreSQL still runs on it)',
      unknown: 'kept (origin unknown)',
    }
    for (const folder of folders) {
      const origin = folder.origin ? ` (for ${folder.origin})` : ''
      process.stdout.write(`${verb[folder.state]}: ${folder.path}${origin}\n`)
    }
    if (folders.length === 0) process.stdout.write('No embedded PostgreSQL folders to prune.\n')
    return 0
  }
  const operated = await runOperatorCommand(command, process.argv.slice(3))
  if (operated !== undefined) return operated
  const role = command ? ROLES[command] : undefined
  if (!role) {
    process.stderr.write(`${USAGE}\n`)
    return command === 'help' || command === '--help' || command === '-h' ? 0 : 2
  }

  const scheduler = createPostScheduler({
    onFatal: (error) => {
      // Nothing can serve again in this process: exit non-zero so that a supervisor restarts it.
      scheduler.logger.fatal({ err: error }, 'exiting: the server cannot recover on its own')
      setTimeout(() => process.exit(1), FATAL_STOP_MS).unref()
      scheduler.stop().finally(() => process.exit(1))
    },
  })
  let signalled = false
  const shutDown = (signal: NodeJS.Signals) => {
    if (signalled) {
      scheduler.logger.warn({ signal }, 'second signal: exiting without waiting')
      process.exit(1)
    }
    signalled = true
    scheduler.logger.info({ signal }, 'shutting down: draining requests and jobs')
    scheduler.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        scheduler.logger.error({ err: error }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', shutDown)
  process.on('SIGINT', shutDown)
  await scheduler.start(role)
  return -1 // keep running until a signal arrives
}

main(process.argv[2]).then(
  (code) => {
    if (code >= 0) process.exitCode = code
  },
  (error: unknown) => {
    // Operator mistakes get one clear line; anything else is a bug and keeps its stack.
    const known = error instanceof ConfigError || error instanceof StartupError
    process.stderr.write(
      `post-scheduler: ${known ? error.message : error instanceof Error ? error.stack : String(error)}\n`,
    )
    process.exit(1)
  },
)
