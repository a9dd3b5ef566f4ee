import type { OpenAPIHono } from '@hono/zod-openapi'
import type { PgBoss } from 'pg-boss'
import { createApp } from './app/app.ts'
import { type HTTPServer, serveHTTP } from './app/serve.ts'
import { createQueues, startWorkers, type Workers } from './app/workers.ts'
import { type Config, loadConfig } from './config/config.ts'
import { type ConnectedDatabase, connectDatabase } from './db/connect.ts'
import { migrateDatabase } from './db/migrate.ts'
import { bootstrapDevelopment } from './development/bootstrap.ts'
import { ProblemError } from './errors/problem.ts'
import { checkReadiness } from './health/readiness.ts'
import type { AppEnv } from './http/router.ts'
import { startQueue } from './jobs/queue.ts'
import { createLogger, type Logger } from './logging/logger.ts'
import { createLogTransport, createSMTPTransport, type MailTransport } from './mail/transport.ts'
import { createMediaServices, type MediaServices } from './media/media-services.ts'
import { bundledPlatforms } from './platforms/bundled/index.ts'
import type { PlatformDefinition } from './platforms/definition.ts'
import { checkPlatformDefinitions, createPlatformRegistry } from './platforms/registry.ts'
import type { Services } from './services.ts'
import { usageEventsWritten } from './usage/events.ts'
import { loadKeyring } from './vault/keyring.ts'
import { createVault, type Vault } from './vault/vault.ts'

/** Options of {@link createPostScheduler}. */
export interface PostSchedulerOptions {
  /** Validated configuration; read from `process.env` with `loadConfig()` when absent. */
  config?: Config
  /** Logger to use; one is made from the configuration when absent. */
  logger?: Logger
  /**
   * Where emails go. Defaults to SMTP when `SMTP_URL` is set, otherwise to the log (development).
   */
  mailTransport?: MailTransport
  /**
   * The platforms to install; the bundled ones (`bundledPlatforms`: sandbox, X, LinkedIn) when
   * absent. Add an adapter package of your own with `[...bundledPlatforms, definePlatform({…})]`.
   *
   * @throws {StartupError} from `createPostScheduler` for a malformed or repeated id or path.
   */
  platforms?: readonly PlatformDefinition[]
  /**
   * Called once when the server can never serve again: the embedded PostgreSQL stopped and could
   * not be restarted. `/healthz` answers 503 from then on. The CLI exits with status 1, so that
   * its supervisor starts the process afresh; an embedding application decides for itself.
   */
  onFatal?: (error: Error) => void
}

/** What {@link PostScheduler.start} runs in this process. */
export interface StartOptions {
  /** Serve HTTP on the configured host and port. Default `true`; `false` when you mount `app` yourself. */
  listen?: boolean
  /** Run background jobs in this process. Default `true`. */
  worker?: boolean
  /** Apply pending database migrations first. Default `true`. */
  migrate?: boolean
}

/** A Post Scheduler server: its HTTP app and its lifecycle. */
export interface PostScheduler {
  /** The Hono app. Mount it in another Hono app or serve its `fetch` yourself. */
  readonly app: OpenAPIHono<AppEnv>
  readonly config: Config
  readonly logger: Logger
  /**
   * Connects to (or starts) PostgreSQL, applies migrations, starts the job queue and, unless
   * `listen: false`, the HTTP server. Everything started is stopped again if a later step fails.
   *
   * @returns the URL the HTTP server listens on, when it listens.
   * @throws {StartupError} with an operator-readable message.
   */
  start(options?: StartOptions): Promise<{ url: string | undefined }>
  /**
   * Stops gracefully: readiness turns 503 while the HTTP server keeps serving for
   * `SHUTDOWN_DRAIN_SECONDS` (every response then carries `Connection: close`), so load balancers
   * route elsewhere first; then it stops accepting, and in-flight requests and running jobs
   * finish (both within `SHUTDOWN_TIMEOUT_SECONDS`), the usage events of answered requests are
   * written, the database pool closes and the embedded PostgreSQL, if any, stops. Nothing it
   * accepted is reset. Safe to call more than once.
   */
  stop(): Promise<void>
}

interface Running {
  workers?: Workers | undefined
  vault: Vault
  media: MediaServices
  platforms: Awaited<ReturnType<typeof createPlatformRegistry>>
  database: ConnectedDatabase
  queue: PgBoss
  server: HTTPServer | undefined
}

/**
 * Creates a Post Scheduler server. Nothing starts until `start()`; the app answers `/healthz`
 * at once and 503 elsewhere that needs the database until then.
 *
 * @example
 * ```ts
 * import { createPostScheduler } from '@post-scheduler/server'
 *
 * const scheduler = createPostScheduler()
 * const { url } = await scheduler.start()
 * console.log(`API reference at ${url}/docs`)
 * process.once('SIGTERM', () => scheduler.stop())
 * ```
 * @example Mounted inside another Hono app
 * ```ts
 * const scheduler = createPostScheduler({ config: loadConfig(process.env) })
 * host.route('/scheduling', scheduler.app)
 * await scheduler.start({ listen: false })
 * ```
 */
export function createPostScheduler(options: PostSchedulerOptions = {}): PostScheduler {
  const config = options.config ?? loadConfig()
  const platforms = options.platforms ?? bundledPlatforms
  checkPlatformDefinitions(platforms)
  const logger = options.logger ?? createLogger(config)
  let state: 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' = 'idle'
  let running: Running | undefined
  let starting: Promise<unknown> | undefined
  let stopping: Promise<void> | undefined
  /** Why the server can never serve again, once it cannot. */
  let fatal: Error | undefined
  /** Requests are served from start until the HTTP server has closed (through the drain). */
  let serving = false

  const mail =
    options.mailTransport ??
    (config.smtpURL
      ? createSMTPTransport(config.smtpURL, config.mailFrom)
      : createLogTransport(logger))

  const app = createApp({
    config,
    logger,
    platformPaths: platforms.flatMap((platform) => platform.hosted?.path ?? []),
    services: () => {
      if (!serving || !running) {
        throw new ProblemError('NOT_READY', 'The server is not running; retry shortly')
      }
      return servicesOf(running)()
    },
    checkLiveness: () => fatal?.message,
    checkReadiness: async () => {
      if (state !== 'running' || !running) {
        throw new ProblemError(
          'NOT_READY',
          state === 'stopping' || state === 'stopped'
            ? 'The server is shutting down'
            : 'The server is starting',
        )
      }
      return checkReadiness({ db: running.database.db, queue: running.queue })
    },
  })

  const servicesOf = (resources: Running) => (): Services => ({
    db: resources.database.db,
    mail,
    logger,
    config,
    vault: resources.vault,
    platforms: resources.platforms.registry,
    platformRoutes: resources.platforms.routes,
    emulators: resources.platforms.emulators,
    queue: resources.queue,
    media: resources.media,
  })

  async function boot(startOptions: StartOptions) {
    const { listen = true, worker = true, migrate = true } = startOptions
    const started: Partial<Running> = {}
    try {
      const keyring = await loadKeyring(config, logger)
      started.vault = createVault(keyring)
      started.media = createMediaServices({ config, keys: keyring.map((entry) => entry.key) })
      started.database = await connectDatabase(config, logger, {
        onGiveUp: (error) => {
          fatal = error
          options.onFatal?.(error)
        },
      })
      started.platforms = await createPlatformRegistry({
        config,
        db: started.database.db,
        key: keyring[0].key,
        platforms,
      })
      const emulated = started.platforms.emulators.map((emulator) => emulator.platform)
      if (emulated.length > 0) {
        logger.warn(
          { emulated },
          `PLATFORM_EMULATORS is on: ${emulated.join(', ')} are emulated by this server (at /emulators/<platform>) and publish nowhere real. Development only.`,
        )
      }
      if (migrate) {
        const { applied } = await migrateDatabase(started.database.url)
        if (applied > 0) logger.info({ applied }, 'database migrations applied')
      }
      started.queue = await startQueue({
        databaseURL: started.database.url,
        schema: config.queueSchema,
        role: worker ? 'worker' : 'api',
        heartbeatSeconds: config.workerHeartbeatSeconds,
        logger,
      })
      await createQueues(started.queue)
      if (worker)
        started.workers = await startWorkers(started.queue, servicesOf(started as Running))
      started.server = listen ? await serveHTTP(app.fetch, config) : undefined
      if (!config.databaseURL && started.server) {
        await bootstrapDevelopment(started.database.db, logger, started.server.url)
      }
    } catch (error) {
      await started.queue?.stop({ graceful: false }).catch(() => {})
      await started.database?.close().catch(() => {})
      throw error
    }
    running = started as Running
    serving = true
    if (!config.smtpURL && !options.mailTransport) {
      logger.warn('SMTP_URL is not set: emails (with their one-time codes) are written to this log')
    }
    logger.info(
      { url: running.server?.url, worker, pid: process.pid },
      running.server
        ? `Post Scheduler listening on ${running.server.url}`
        : 'Post Scheduler started',
    )
    return { url: running.server?.url }
  }

  async function shutdown() {
    await starting?.catch(() => {})
    if (!running) return
    const timeoutMs = config.shutdownTimeoutSeconds * 1000
    const { database, queue, server, workers } = running
    if (server && config.shutdownDrainSeconds > 0 && !fatal) {
      // Readiness is 503 already; keep serving until load balancers have seen it.
      server.drain()
      logger.info(
        { drainSeconds: config.shutdownDrainSeconds },
        'draining: /readyz answers 503, requests are still served',
      )
      await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainSeconds * 1000))
    }
    workers?.stop()
    await Promise.all([
      server?.close(timeoutMs).then(() => {
        serving = false
      }),
      queue.stop({ graceful: true, timeout: timeoutMs, close: true }),
    ])
    serving = false
    await usageEventsWritten(database.db)
    await database.close()
    running = undefined
    logger.info('Post Scheduler stopped')
  }

  return {
    app,
    config,
    logger,
    start(startOptions = {}) {
      if (state !== 'idle') throw new Error(`Post Scheduler cannot start: it is ${state}`)
      state = 'starting'
      const result = boot(startOptions).then(
        (value) => {
          if (state === 'starting') state = 'running'
          return value
        },
        (error: unknown) => {
          state = 'stopped'
          throw error
        },
      )
      starting = result
      return result
    },
    stop() {
      if (state === 'idle') state = 'stopped'
      if (state === 'stopped' && !running) return Promise.resolve()
      state = 'stopping'
      stopping ??= shutdown().finally(() => {
        state = 'stopped'
      })
      return stopping
    },
  }
}
