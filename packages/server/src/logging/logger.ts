import { type Logger, pino } from 'pino'
import pretty from 'pino-pretty'
import type { Config } from '../config/config.ts'

export type { Logger }

/**
 * Paths that never reach a log line. They guard against credentials leaking into log storage,
 * which usually has wider access than the database.
 */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.secret',
  '*.apiKey',
  '*.databaseURL',
  '*.smtpURL',
  '*.encryptionKeys',
]

/**
 * Creates the structured logger: JSON lines for collectors, or colourised lines for people.
 * Secrets at well-known paths are replaced with `[redacted]`.
 *
 * @example
 * ```ts
 * const logger = createLogger({ logLevel: 'info', logFormat: 'json' })
 * logger.info({ port: 3000 }, 'listening')
 * ```
 */
export function createLogger(
  config: Pick<Config, 'logLevel' | 'logFormat'>,
  destination: NodeJS.WritableStream = process.stdout,
): Logger {
  const options = {
    level: config.logLevel,
    base: { service: 'post-scheduler' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  }
  if (config.logFormat === 'pretty') {
    return pino(
      options,
      pretty({ destination, ignore: 'pid,hostname,service', singleLine: true, sync: true }),
    )
  }
  return pino(options, destination)
}

/**
 * Hides the password of a connection URL so it can appear in logs and error messages.
 *
 * @example
 * ```ts
 * redactURL('postgres://app:hunter2@db:5432/app') // 'postgres://app:***@db:5432/app'
 * ```
 */
export function redactURL(value: string): string {
  if (!URL.canParse(value)) return value
  const url = new URL(value)
  if (url.password) url.password = '***'
  return url.toString()
}
