import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { TEST_KEYS } from './config.ts'

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url))

/** Runs the CLI from source in a child process with only the given variables set. */
export function spawnCLI(args: string[], env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', cli, ...args],
    {
      env: {
        PATH: process.env.PATH ?? '',
        LOG_FORMAT: 'json',
        ENCRYPTION_KEYS: TEST_KEYS,
        // A short drain keeps SIGTERM tests quick; the fault suite sets its own.
        SHUTDOWN_DRAIN_SECONDS: '1',
        ...env,
      },
    },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    /** Resolves with the first JSON log line whose message matches. */
    logLine: (message: RegExp) =>
      waitFor(() =>
        stdout
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { msg: string; url?: string })
          .find((line) => message.test(line.msg)),
      ),
  }
}

export async function waitFor<T>(probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
