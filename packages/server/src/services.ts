import type { PgBoss } from 'pg-boss'
import type { Config } from './config/config.ts'
import type { Database } from './db/client.ts'
import type { HostedEmulator } from './emulators/host.ts'
import type { Logger } from './logging/logger.ts'
import type { MailTransport } from './mail/transport.ts'
import type { MediaServices } from './media/media-services.ts'
import type { PlatformRegistry, PlatformRoute } from './platforms/registry.ts'
import type { Vault } from './vault/vault.ts'

/** What route handlers hand to services: the edges of the system, created once at start. */
export interface Services {
  db: Database
  mail: MailTransport
  logger: Logger
  config: Config
  /** Encrypts platform tokens at rest. */
  vault: Vault
  /** The installed platforms and their adapters. */
  platforms: PlatformRegistry
  /** The job queue, for enqueueing inside a transaction (`fromDrizzle`). */
  queue: PgBoss
  /** What the platforms host in this server, each at its path (the sandbox at `/sandbox`). */
  platformRoutes: PlatformRoute[]
  /** The platform emulators this server hosts at `/emulators/<platform>` (`PLATFORM_EMULATORS`). */
  emulators: HostedEmulator[]
  /** Media storage driver, URL signer and references check. */
  media: MediaServices
}
