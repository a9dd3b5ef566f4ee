import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { loadConfig } from '../../config/config.ts'
import { connectDatabase } from '../../db/connect.ts'
import { ProblemError } from '../../errors/problem.ts'
import { createLogger } from '../../logging/logger.ts'
import { eraseReportedChild } from '../../privacy/deletion.ts'
import { publishPolicyVersion } from '../../privacy/policy.ts'

/** Usage lines of the privacy commands, for the CLI's help. */
export const PRIVACY_USAGE = `  policy publish --file <path> --effective-at <ISO 8601> --summary <text>
                publish a new privacy policy version (users are notified, then it takes effect)
  privacy erase-child <user id or email>
                an account reported as a child's: sign it out and erase it within a minute`

/**
 * Runs a privacy command: `policy publish` or `privacy erase-child`. Answers on stdout with one
 * line (and logs); a refused input is one line on stderr and exit code 2.
 *
 * @returns the exit code, or `undefined` when `command` is not a privacy command.
 * @example
 * ```sh
 * post-scheduler policy publish --file policy-v2.txt --effective-at 2027-03-01T00:00:00Z --summary "Adds …"
 * post-scheduler privacy erase-child reported@example.com
 * ```
 */
export async function runPrivacyCommand(
  command: string | undefined,
  args: string[],
): Promise<number | undefined> {
  const action = `${command} ${args[0] ?? ''}`
  if (action !== 'policy publish' && action !== 'privacy erase-child') return undefined
  const config = loadConfig()
  const logger = createLogger(config)
  const database = await connectDatabase(config, logger)
  try {
    if (action === 'policy publish') {
      const { values } = parseArgs({
        args: args.slice(1),
        options: {
          file: { type: 'string' },
          'effective-at': { type: 'string' },
          summary: { type: 'string' },
        },
      })
      if (!values.file || !values['effective-at'] || !values.summary) {
        process.stderr.write(`post-scheduler: usage:\n${PRIVACY_USAGE}\n`)
        return 2
      }
      const version = await publishPolicyVersion(
        { db: database.db, config },
        {
          text: await readFile(values.file, 'utf8'),
          summary: values.summary,
          effectiveAt: new Date(values['effective-at']),
        },
      )
      logger.info({ version: version.version }, 'privacy policy published')
      process.stdout.write(
        `Published privacy policy version ${version.version}, effective ${version.effectiveAt.toISOString()}; the workers notify every user and workspace within a minute.\n`,
      )
      return 0
    }
    const account = args[1]
    if (!account) {
      process.stderr.write(`post-scheduler: usage:\n${PRIVACY_USAGE}\n`)
      return 2
    }
    const deletion = await eraseReportedChild(database.db, account)
    if (!deletion) {
      process.stderr.write(`post-scheduler: no account ${account}\n`)
      return 2
    }
    logger.info({ deletion: deletion.id }, 'child account scheduled for erasure now')
    process.stdout.write(
      `Account signed out; erasure ${deletion.id} runs within a minute (GET nothing: the account is gone once done).\n`,
    )
    return 0
  } catch (error) {
    if (error instanceof ProblemError) {
      process.stderr.write(`post-scheduler: ${error.message}\n`)
      return 2
    }
    throw error
  } finally {
    await database.close()
  }
}
