#!/usr/bin/env node
import { OPERATOR_USAGE, runOperatorCommand } from './app/commands.ts'
import { ConfigError } from './config/config.ts'
import { StartupError } from './errors/startup.ts'
import { createPostScheduler, type StartOptions } from './post-scheduler.ts'

const USAGE = `Usage: post-scheduler <command>

Commands:
  start         run the HTTP API and the workers in one process
  api           run the HTTP API only (workers run elsewhere)
  worker        run the workers only
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
