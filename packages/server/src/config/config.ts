import { isIPv4, isIPv6 } from 'node:net'
import { join, resolve } from 'node:path'
import { z } from 'zod'
import { type Keyring, parseKeyring } from '../vault/vault.ts'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const integer = (min: number, max: number) => {
  const expected = `must be a whole number from ${min} to ${max}`
  return z
    .string()
    .regex(/^\d+$/, expected)
    .transform(Number)
    .pipe(z.number().min(min, expected).max(max, expected))
}

const postgresURL = z
  .string()
  .refine((value) => URL.canParse(value) && /^postgres(ql)?:$/.test(new URL(value).protocol), {
    error:
      'must be a PostgreSQL connection URL such as postgres://user:password@host:5432/database',
  })

const isCIDR = (value: string) => {
  const [address = '', bits, ...rest] = value.split('/')
  const max = isIPv4(address) ? 32 : isIPv6(address) ? 128 : -1
  return rest.length === 0 && bits !== undefined && /^\d+$/.test(bits) && Number(bits) <= max
}

/** Comma-separated CIDR networks such as `10.1.0.0/16,fd12::/16`. */
const cidrList = z.string().transform((value, context) => {
  const networks = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  for (const network of networks) {
    if (!isCIDR(network)) {
      context.addIssue({
        code: 'custom',
        message: `must be comma-separated CIDR networks such as 10.1.0.0/16 (${network} is not one)`,
      })
      return z.NEVER
    }
  }
  return networks
})

/** A Graph API version as it appears in Meta's paths: `v23.0`. */
const graphVersion = z.string().regex(/^v\d+\.\d+$/, 'must be a Graph API version such as v23.0')

/**
 * The environment variables Post Scheduler reads, each with its default. The table in the README
 * is the user-facing description of the same list.
 */
const environmentSchema = z.object({
  PORT: integer(0, 65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: z
    .string()
    .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
      error: 'must be the http(s) URL people and platforms reach this server at',
    })
    .transform((value) => value.replace(/\/+$/, ''))
    .optional(),
  DATABASE_URL: postgresURL.optional(),
  DATA_DIR: z.string().min(1).default('.post-scheduler'),
  EMBEDDED_POSTGRES_PORT: integer(1, 65535).optional(),
  QUEUE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case PostgreSQL identifier such as pgboss')
    .default('pgboss'),
  WORKER_HEARTBEAT_SECONDS: integer(1, 3600).default(10),
  LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })
    .default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty'], { error: 'must be json or pretty' }).optional(),
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  MAX_BODY_BYTES: integer(1, 2 ** 31).default(1024 * 1024),
  SHUTDOWN_TIMEOUT_SECONDS: integer(1, 3600).default(30),
  SHUTDOWN_DRAIN_SECONDS: integer(0, 3600).default(5),
  TRUST_PROXY: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((value) => value === 'true'),
  SMTP_URL: z
    .string()
    .refine((value) => URL.canParse(value) && /^smtps?:$/.test(new URL(value).protocol), {
      error: 'must be an SMTP URL such as smtps://user:password@smtp.example.com:465',
    })
    .optional(),
  MAIL_FROM: z.string().min(3).default('Post Scheduler <no-reply@localhost>'),
  SESSION_TTL_DAYS: integer(1, 365).default(30),
  PROFILE_TOKEN_TTL_SECONDS: integer(60, 86_400).default(900),
  RATE_LIMIT_PER_MINUTE: integer(1, 1_000_000).default(600),
  PUBLISH_DEADLINE_SECONDS: integer(5, 3600).default(600),
  PUBLISH_CONCURRENCY: integer(1, 1000).default(50),
  PUBLISH_MAX_ATTEMPTS: integer(1, 50).default(5),
  PUBLISH_ACCOUNT_CONCURRENCY: integer(1, 100).default(4),
  PUBLISH_PLATFORM_CONCURRENCY: integer(1, 10_000).default(200),
  PUBLISH_MAX_PROCESSING_SECONDS: integer(60, 30 * 86_400).default(86_400),
  SWEEP_INTERVAL_SECONDS: integer(1, 3600).default(10),
  SANDBOX_LATENCY_MS: integer(0, 60_000).default(0),
  PLATFORM_EMULATORS: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((value) => value === 'true'),
  X_CLIENT_ID: z.string().min(1).optional(),
  X_CLIENT_SECRET: z.string().min(1).optional(),
  LINKEDIN_CLIENT_ID: z.string().min(1).optional(),
  LINKEDIN_CLIENT_SECRET: z.string().min(1).optional(),
  LINKEDIN_REFRESH_TOKENS: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((value) => value === 'true'),
  INSTAGRAM_CLIENT_ID: z.string().min(1).optional(),
  INSTAGRAM_CLIENT_SECRET: z.string().min(1).optional(),
  INSTAGRAM_LOGIN: z
    .enum(['instagram', 'facebook'], { error: 'must be instagram or facebook' })
    .default('instagram'),
  INSTAGRAM_GRAPH_VERSION: graphVersion.optional(),
  FACEBOOK_CLIENT_ID: z.string().min(1).optional(),
  FACEBOOK_CLIENT_SECRET: z.string().min(1).optional(),
  FACEBOOK_GRAPH_VERSION: graphVersion.optional(),
  MEDIA_STORAGE: z.enum(['local', 's3'], { error: 'must be local or s3' }).default('local'),
  MEDIA_LOCAL_DIR: z.string().min(1).optional(),
  MEDIA_S3_BUCKET: z.string().min(3).max(63).optional(),
  MEDIA_S3_ENDPOINT: z
    .string()
    .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
      error: 'must be the http(s) URL of an S3-compatible store such as https://s3.example.com',
    })
    .optional(),
  MEDIA_S3_REGION: z.string().min(1).default('us-east-1'),
  MEDIA_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  MEDIA_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  MEDIA_S3_FORCE_PATH_STYLE: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .optional()
    .transform((value) => (value === undefined ? undefined : value === 'true')),
  MEDIA_S3_PREFIX: z
    .string()
    .regex(/^([a-z0-9_-]+\/)+$/, 'must be folder names ending with /, such as post-scheduler/')
    .optional(),
  MEDIA_MAX_FILE_BYTES: integer(1024, 2 ** 45).default(2 * 1024 ** 3),
  MEDIA_WORKSPACE_QUOTA_BYTES: integer(0, 2 ** 50).default(50 * 1024 ** 3),
  MEDIA_UPLOAD_PART_BYTES: integer(1024, 2 ** 31).default(8 * 1024 ** 2),
  MEDIA_UPLOAD_TTL_HOURS: integer(1, 24 * 30).default(24),
  MEDIA_UNREFERENCED_TTL_HOURS: integer(0, 24 * 3650).default(720),
  MEDIA_SIGNED_URL_TTL_SECONDS: integer(60, 7 * 86_400).default(3600),
  MEDIA_IMPORT_TIMEOUT_SECONDS: integer(1, 3600).default(60),
  MEDIA_IMPORT_ALLOWED_NETWORKS: cidrList.optional(),
  PRIVACY_DELETION_UNDO_DAYS: integer(0, 14).default(7),
  PRIVACY_EXPORT_TTL_HOURS: integer(1, 720).default(72),
  PRIVACY_EXPORT_LINK_TTL_SECONDS: integer(60, 86_400).default(900),
  PRIVACY_POLICY_NOTICE_DAYS: integer(1, 365).default(30),
  MEDIA_PUBLISHED_GRACE_HOURS: integer(0, 24 * 365).default(168),
  WEBHOOK_ALLOWED_NETWORKS: cidrList.optional(),
  WEBHOOK_TIMEOUT_SECONDS: integer(1, 60).default(15),
  WEBHOOK_CONCURRENCY: integer(1, 1000).default(10),
  ENCRYPTION_KEYS: z
    .string()
    .transform((value, context) => {
      try {
        return parseKeyring(value)
      } catch (error) {
        context.addIssue({
          code: 'custom',
          message: `must be id:base64key,… — ${(error as Error).message}`,
        })
        return z.NEVER
      }
    })
    .optional(),
})

/** Variables whose values never appear in error messages. */
const SECRET_VARIABLES = new Set([
  'ENCRYPTION_KEYS',
  'SMTP_URL',
  'DATABASE_URL',
  'X_CLIENT_SECRET',
  'LINKEDIN_CLIENT_SECRET',
  'INSTAGRAM_CLIENT_SECRET',
  'FACEBOOK_CLIENT_SECRET',
  'MEDIA_S3_SECRET_ACCESS_KEY',
])

/** A log level understood by the server's logger. */
export type LogLevel = (typeof LOG_LEVELS)[number]

/** The server's validated configuration. Build one with {@link loadConfig}. */
export interface Config {
  /** TCP port the HTTP server listens on; 0 picks a free one. */
  port: number
  /** Interface the HTTP server binds to. */
  host: string
  /**
   * The URL people and platforms reach this server at (OAuth callbacks, the sandbox platform).
   * Defaults to `http://<HOST>:<PORT>`.
   */
  publicURL: string
  /** External PostgreSQL; when absent an embedded PostgreSQL runs in `dataDir`. */
  databaseURL: string | undefined
  /** Absolute path of the folder for local state (embedded PostgreSQL, later media). */
  dataDir: string
  /** Fixed port for the embedded PostgreSQL; a free one is picked when absent. */
  embeddedPostgresPort: number | undefined
  /** PostgreSQL schema that holds the pg-boss job queue. */
  queueSchema: string
  /** How often a worker reports it is alive; readiness wants one seen within three beats. */
  workerHeartbeatSeconds: number
  logLevel: LogLevel
  /** `pretty` for people, `json` for log collectors; defaults by whether stdout is a terminal. */
  logFormat: 'json' | 'pretty'
  /** Serve HTTPS directly with this PEM certificate and key. */
  tls: { certFile: string; keyFile: string } | undefined
  /** Largest request body accepted; larger ones get 413. */
  maxBodyBytes: number
  /** How long shutdown waits for in-flight requests and jobs. */
  shutdownTimeoutSeconds: number
  /**
   * How long a stopping server keeps serving after readiness turned 503, before it stops
   * accepting: the time load balancers need to see it and route elsewhere.
   */
  shutdownDrainSeconds: number
  /** Take the client's address from `X-Forwarded-For` (only behind a proxy that sets it). */
  trustProxy: boolean
  /** Where emails go; without it they are written to the log (development). */
  smtpURL: string | undefined
  mailFrom: string
  /** How long a sign-in lasts. */
  sessionTTLDays: number
  /** Default lifetime of profile tokens minted for the browser widgets. */
  profileTokenTTLSeconds: number
  /** Requests per minute allowed to one API key, session, profile token or anonymous address. */
  rateLimitPerMinute: number
  /** Keys that encrypt platform tokens at rest, newest first; a development key file when absent. */
  encryptionKeys: Keyring | undefined
  /**
   * Publishing: claim deadline, concurrent publications per worker and per connected account
   * (across workers), attempts, sweep interval.
   */
  publishing: {
    deadlineSeconds: number
    concurrency: number
    /** Publications of one connected account in flight at once, across every worker. */
    accountConcurrency: number
    /** Publications to one platform in flight at once, across every worker and account. */
    platformConcurrency: number
    maxAttempts: number
    /** How long a publication may wait for the platform to finish it (`processing`). */
    maxProcessingSeconds: number
    sweepIntervalSeconds: number
  }
  /** Delay the sandbox platform adds to every API call, to make the network feel real. */
  sandboxLatencyMs: number
  /**
   * Development: host each platform's emulator at `/emulators/<platform>` and connect that
   * platform to it instead of the real one. Refused when `NODE_ENV=production`.
   */
  platformEmulators: boolean
  /** Server-wide OAuth apps per platform; workspaces may register their own instead. */
  platformApps: {
    x: { clientId: string; clientSecret: string } | undefined
    linkedin: { clientId: string; clientSecret: string } | undefined
    instagram?: { clientId: string; clientSecret: string } | undefined
    facebook?: { clientId: string; clientSecret: string } | undefined
  }
  /** Whether the LinkedIn app was approved for refresh tokens (partner apps only). */
  linkedinRefreshTokens: boolean
  /**
   * Meta's Graph API: which login the server-wide Instagram app uses (`instagram`: Instagram Login;
   * `facebook`: Facebook Login, the business account reached through its Page) and the API version
   * each adapter calls (the adapter's default when unset).
   */
  meta: {
    instagramLogin: 'instagram' | 'facebook'
    instagramGraphVersion: string | undefined
    facebookGraphVersion: string | undefined
  }
  /** Where media bytes are kept, how large they may be, and how imports are fetched. */
  media: MediaConfig
  /** Data rights: deletion undo window, exports, policy change notice (the `PRIVACY_*` variables). */
  privacy: PrivacyConfig
  /** Outbound webhooks: which private networks they may reach, timeout, concurrency. */
  webhooks: {
    /** Private networks (CIDR) deliveries may reach (self-hosted receivers); none by default. */
    allowedNetworks: string[]
    /** Longest one delivery attempt may take, redirects included. */
    timeoutSeconds: number
    /** Deliveries one worker sends at a time. */
    concurrency: number
  }
}

/** Data rights settings (the `PRIVACY_*` and `MEDIA_PUBLISHED_GRACE_HOURS` variables). */
export interface PrivacyConfig {
  /** Days between a deletion request and the erasure, during which it can be canceled (at most 14). */
  deletionUndoDays: number
  /** How long a finished export is kept before it and its file are removed. */
  exportTTLHours: number
  /** Lifetime of an export's download link. */
  exportLinkTTLSeconds: number
  /** A new policy version must be published at least this many days before it takes effect. */
  policyNoticeDays: number
  /** Media files are removed this long after the last post using them was published. */
  publishedMediaGraceHours: number
}

/** Media storage, limits and imports (the `MEDIA_*` variables). */
export interface MediaConfig {
  /** `local`: files in `localDir`; `s3`: any S3-compatible bucket. */
  storage: 'local' | 's3'
  /** Folder of the local driver; `<DATA_DIR>/media` by default. */
  localDir: string
  s3:
    | {
        bucket: string
        endpoint: string | undefined
        region: string
        credentials: { accessKeyId: string; secretAccessKey: string } | undefined
        forcePathStyle: boolean
        prefix: string | undefined
      }
    | undefined
  /** Largest media file accepted, by any way of uploading. */
  maxFileBytes: number
  /** Bytes of media one workspace may keep (uploads in progress count); 0 for no limit. */
  workspaceQuotaBytes: number
  /** Size of each part of a resumable upload (the last one may be smaller). */
  uploadPartBytes: number
  /** How long a resumable upload can wait for its parts and completion. */
  uploadTTLHours: number
  /** Media that nothing references are deleted this long after upload; 0 keeps them. */
  unreferencedTTLHours: number
  /** Lifetime of signed media URLs handed to platforms and browsers. */
  signedURLTTLSeconds: number
  /** Longest an import from a URL may take. */
  importTimeoutSeconds: number
  /** Private networks imports may reach anyway (an internal CDN), as CIDR; none by default. */
  importAllowedNetworks: string[]
}

/**
 * Thrown when the environment holds an invalid value. Its message is one line naming each bad
 * variable and what it expects, fit to print as is.
 */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

/**
 * Reads and validates the configuration from environment variables. Empty values count as unset.
 *
 * @throws {ConfigError} naming every invalid variable and what it expects.
 * @example
 * ```ts
 * const config = loadConfig(process.env)
 * console.log(config.port) // 3000 unless PORT is set
 * ```
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''))
  const parsed = environmentSchema.safeParse(present)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0])
      const got = SECRET_VARIABLES.has(name) ? '' : ` (got ${JSON.stringify(present[name])})`
      return `${name} ${issue.message}${got}`
    })
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`)
  }
  const e = parsed.data
  if (e.MEDIA_STORAGE === 's3' && !e.MEDIA_S3_BUCKET) {
    throw new ConfigError(
      'Invalid configuration: MEDIA_STORAGE=s3 needs MEDIA_S3_BUCKET (and MEDIA_S3_ENDPOINT for stores other than AWS)',
    )
  }
  if (Boolean(e.MEDIA_S3_ACCESS_KEY_ID) !== Boolean(e.MEDIA_S3_SECRET_ACCESS_KEY)) {
    throw new ConfigError(
      'Invalid configuration: MEDIA_S3_ACCESS_KEY_ID and MEDIA_S3_SECRET_ACCESS_KEY must be set together (or both left unset to use the AWS default credentials)',
    )
  }
  if (Boolean(e.TLS_CERT_FILE) !== Boolean(e.TLS_KEY_FILE)) {
    throw new ConfigError(
      'Invalid configuration: TLS_CERT_FILE and TLS_KEY_FILE must be set together to serve HTTPS',
    )
  }
  return {
    port: e.PORT,
    host: e.HOST,
    publicURL: e.PUBLIC_URL ?? `http://${e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST}:${e.PORT}`,
    databaseURL: e.DATABASE_URL,
    dataDir: resolve(e.DATA_DIR),
    embeddedPostgresPort: e.EMBEDDED_POSTGRES_PORT,
    queueSchema: e.QUEUE_SCHEMA,
    workerHeartbeatSeconds: e.WORKER_HEARTBEAT_SECONDS,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json'),
    tls:
      e.TLS_CERT_FILE && e.TLS_KEY_FILE
        ? { certFile: resolve(e.TLS_CERT_FILE), keyFile: resolve(e.TLS_KEY_FILE) }
        : undefined,
    maxBodyBytes: e.MAX_BODY_BYTES,
    shutdownTimeoutSeconds: e.SHUTDOWN_TIMEOUT_SECONDS,
    shutdownDrainSeconds: e.SHUTDOWN_DRAIN_SECONDS,
    trustProxy: e.TRUST_PROXY,
    smtpURL: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    sessionTTLDays: e.SESSION_TTL_DAYS,
    profileTokenTTLSeconds: e.PROFILE_TOKEN_TTL_SECONDS,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    encryptionKeys: e.ENCRYPTION_KEYS,
    publishing: {
      deadlineSeconds: e.PUBLISH_DEADLINE_SECONDS,
      concurrency: e.PUBLISH_CONCURRENCY,
      accountConcurrency: e.PUBLISH_ACCOUNT_CONCURRENCY,
      platformConcurrency: e.PUBLISH_PLATFORM_CONCURRENCY,
      maxProcessingSeconds: e.PUBLISH_MAX_PROCESSING_SECONDS,
      maxAttempts: e.PUBLISH_MAX_ATTEMPTS,
      sweepIntervalSeconds: e.SWEEP_INTERVAL_SECONDS,
    },
    sandboxLatencyMs: e.SANDBOX_LATENCY_MS,
    platformEmulators: e.PLATFORM_EMULATORS,
    platformApps: {
      x:
        e.X_CLIENT_ID && e.X_CLIENT_SECRET
          ? { clientId: e.X_CLIENT_ID, clientSecret: e.X_CLIENT_SECRET }
          : undefined,
      linkedin:
        e.LINKEDIN_CLIENT_ID && e.LINKEDIN_CLIENT_SECRET
          ? { clientId: e.LINKEDIN_CLIENT_ID, clientSecret: e.LINKEDIN_CLIENT_SECRET }
          : undefined,
      instagram:
        e.INSTAGRAM_CLIENT_ID && e.INSTAGRAM_CLIENT_SECRET
          ? { clientId: e.INSTAGRAM_CLIENT_ID, clientSecret: e.INSTAGRAM_CLIENT_SECRET }
          : undefined,
      facebook:
        e.FACEBOOK_CLIENT_ID && e.FACEBOOK_CLIENT_SECRET
          ? { clientId: e.FACEBOOK_CLIENT_ID, clientSecret: e.FACEBOOK_CLIENT_SECRET }
          : undefined,
    },
    linkedinRefreshTokens: e.LINKEDIN_REFRESH_TOKENS,
    meta: {
      instagramLogin: e.INSTAGRAM_LOGIN,
      instagramGraphVersion: e.INSTAGRAM_GRAPH_VERSION,
      facebookGraphVersion: e.FACEBOOK_GRAPH_VERSION,
    },
    media: {
      storage: e.MEDIA_STORAGE,
      localDir: resolve(e.MEDIA_LOCAL_DIR ?? join(e.DATA_DIR, 'media')),
      s3: e.MEDIA_S3_BUCKET
        ? {
            bucket: e.MEDIA_S3_BUCKET,
            endpoint: e.MEDIA_S3_ENDPOINT,
            region: e.MEDIA_S3_REGION,
            credentials:
              e.MEDIA_S3_ACCESS_KEY_ID && e.MEDIA_S3_SECRET_ACCESS_KEY
                ? {
                    accessKeyId: e.MEDIA_S3_ACCESS_KEY_ID,
                    secretAccessKey: e.MEDIA_S3_SECRET_ACCESS_KEY,
                  }
                : undefined,
            forcePathStyle: e.MEDIA_S3_FORCE_PATH_STYLE ?? e.MEDIA_S3_ENDPOINT !== undefined,
            prefix: e.MEDIA_S3_PREFIX,
          }
        : undefined,
      maxFileBytes: e.MEDIA_MAX_FILE_BYTES,
      workspaceQuotaBytes: e.MEDIA_WORKSPACE_QUOTA_BYTES,
      uploadPartBytes: e.MEDIA_UPLOAD_PART_BYTES,
      uploadTTLHours: e.MEDIA_UPLOAD_TTL_HOURS,
      unreferencedTTLHours: e.MEDIA_UNREFERENCED_TTL_HOURS,
      signedURLTTLSeconds: e.MEDIA_SIGNED_URL_TTL_SECONDS,
      importTimeoutSeconds: e.MEDIA_IMPORT_TIMEOUT_SECONDS,
      importAllowedNetworks: e.MEDIA_IMPORT_ALLOWED_NETWORKS ?? [],
    },
    privacy: {
      deletionUndoDays: e.PRIVACY_DELETION_UNDO_DAYS,
      exportTTLHours: e.PRIVACY_EXPORT_TTL_HOURS,
      exportLinkTTLSeconds: e.PRIVACY_EXPORT_LINK_TTL_SECONDS,
      policyNoticeDays: e.PRIVACY_POLICY_NOTICE_DAYS,
      publishedMediaGraceHours: e.MEDIA_PUBLISHED_GRACE_HOURS,
    },
    webhooks: {
      allowedNetworks: e.WEBHOOK_ALLOWED_NETWORKS ?? [],
      timeoutSeconds: e.WEBHOOK_TIMEOUT_SECONDS,
      concurrency: e.WEBHOOK_CONCURRENCY,
    },
  }
}
