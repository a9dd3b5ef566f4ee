/**
 * Post Scheduler's headless server as a library: create it, start it, mount its Hono app.
 *
 * @module
 */

export { createOpenAPIDocument, type OpenAPIDocument } from './app/app.ts'
export { type Config, ConfigError, type LogLevel, loadConfig } from './config/config.ts'
export { EmbeddedPostgresError } from './db/embedded-postgres.ts'
export { migrateDatabase } from './db/migrate.ts'
export {
  type Issue,
  type IssueLocation,
  PROBLEM_CODES,
  type ProblemCode,
  ProblemError,
} from './errors/problem.ts'
export { StartupError } from './errors/startup.ts'
export type { Problem } from './http/problem.ts'
export type { AppEnv } from './http/router.ts'
export { createLogger, type Logger } from './logging/logger.ts'
export { bundledPlatforms } from './platforms/bundled/index.ts'
export {
  definePlatform,
  type EmulatedPerson,
  type HostedPlatform,
  type LoadedEmulator,
  type OAuthApp,
  type PlatformContext,
  type PlatformDefinition,
  type PlatformEmulator,
} from './platforms/definition.ts'
export {
  createPostScheduler,
  type PostScheduler,
  type PostSchedulerOptions,
  type StartOptions,
} from './post-scheduler.ts'
