import { loadConfig } from '../config/config.ts'
import { connectDatabase } from '../db/connect.ts'
import { pruneFallbackFolders } from '../db/embedded-fallback.ts'
import { migrateDatabase } from '../db/migrate.ts'
import { createLogger } from '../logging/logger.ts'
import { loadKeyring } from '../vault/keyring.ts'
import { createVault } from '../vault/vault.ts'
import { createOpenAPIDocument } from './app.ts'
import { PRIVACY_USAGE, runPrivacyCommand } from './commands/privacy.ts'
import { rotateKeys } from './commands/rotate-keys.ts'

/** An operator command: what `post-scheduler <name> …` does, then exits with its code. */
interface OperatorCommand {
  usage: string
  run(args: string[]): Promise<number>
}

/** Every operator command but the privacy ones (which share one runner), by name. */
const COMMANDS: Record<string, OperatorCommand> = {
  migrate: {
    usage: 'apply pending database migrations, then exit',
    async run() {
      const config = loadConfig()
      const logger = createLogger(config)
      const database = await connectDatabase(config, logger)
      try {
        const { applied } = await migrateDatabase(database.url)
        logger.info(
          { applied },
          applied ? 'database migrations applied' : 'database already current',
        )
      } finally {
        await database.close()
      }
      return 0
    },
  },
  'rotate-keys': {
    usage: 're-encrypt stored secrets with the first key of ENCRYPTION_KEYS, then exit',
    async run() {
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
    },
  },
  openapi: {
    usage: 'print the OpenAPI document, then exit',
    async run() {
      process.stdout.write(`${JSON.stringify(createOpenAPIDocument(), null, 2)}\n`)
      return 0
    },
  },
  'embedded-postgres': {
    usage: `prune [--dry-run]
                remove the embedded clusters a root process kept outside DATA_DIRs that no
                longer exist (in /var/lib/post-scheduler/embedded-postgres)`,
    async run(args) {
      if (args[0] !== 'prune') {
        process.stderr.write(
          'post-scheduler: usage: post-scheduler embedded-postgres prune [--dry-run]\n',
        )
        return 2
      }
      const dryRun = args.slice(1).includes('--dry-run')
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
    },
  },
}

/** Usage lines of every operator command, for the CLI's help. */
export const OPERATOR_USAGE = `${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(13)} ${command.usage}`)
  .join('\n')}
${PRIVACY_USAGE}`

/**
 * Runs an operator command — `migrate`, `rotate-keys`, `openapi`, `embedded-postgres prune`,
 * `policy publish`, `privacy erase-child` — from the command line's words after the program name.
 * Answers on stdout; a refused input is one line on stderr and exit code 2.
 *
 * @returns the exit code, or `undefined` when `command` is not an operator command.
 * @example
 * ```ts
 * const code = await runOperatorCommand('migrate', [])
 * ```
 */
export async function runOperatorCommand(
  command: string | undefined,
  args: string[],
): Promise<number | undefined> {
  const operator = command === undefined ? undefined : COMMANDS[command]
  if (operator) return operator.run(args)
  return runPrivacyCommand(command, args)
}
