import { hkdfSync } from 'node:crypto'
import type { Adapter, CallOptions, Capabilities } from '@post-scheduler/adapter-core'
import type { Config } from '../config/config.ts'
import type { Database } from '../db/client.ts'
import { type HostedEmulator, hostEmulator } from '../emulators/host.ts'
import { ProblemError } from '../errors/problem.ts'
import { StartupError } from '../errors/startup.ts'
import { bundledPlatforms } from './bundled/index.ts'
import {
  callbackURL,
  type OAuthApp,
  type PlatformContext,
  type PlatformDefinition,
} from './definition.ts'

export type { OAuthApp } from './definition.ts'

/** A platform the server can connect accounts to and publish on: the runtime view of a definition. */
export interface Platform {
  id: string
  capabilities: Capabilities
  /** The server-wide OAuth app from configuration; workspaces may bring their own. */
  serverApp: OAuthApp | undefined
  /**
   * An app the server gives each workspace, used before `serverApp`: the hosted sandbox has a
   * client per workspace, so the accounts people name on its consent page are the workspace's own.
   */
  workspaceApp?: ((workspaceId: string) => OAuthApp) | undefined
  /** An adapter acting as `app`, whose OAuth callback is this server's. */
  adapter(app: OAuthApp): Adapter
  /** Options for every call of its adapter (the sandbox and emulators are served in-process). */
  callOptions: CallOptions
  /** The adapter's pure `validatePost`, which needs no app or account. */
  validatePost: Adapter['validatePost']
  /** Served by the emulator this server hosts (`PLATFORM_EMULATORS`), not the real platform. */
  emulated: boolean
}

/** The installed platforms, by id. */
export interface PlatformRegistry {
  list(): Platform[]
  /** @throws {ProblemError} `NOT_FOUND` for a platform that is not installed. */
  get(id: string): Platform
}

/** HTTP a platform serves from this server at `path` and under it, outside `/v1`. */
export interface PlatformRoute {
  path: string
  handle(request: Request): Promise<Response>
}

/** The OAuth app every emulated platform is connected with (the emulator knows no other). */
const EMULATOR_APP: OAuthApp = { clientId: 'post-scheduler-emulator', clientSecret: 'emulator' }

const PLATFORM_ID = /^[a-z][a-z0-9-]{0,31}$/
/** Paths of the server's own, which no platform may host under. */
const RESERVED_PATHS = new Set(['/v1', '/emulators', '/media', '/docs', '/healthz', '/readyz'])

/**
 * Checks a list of platform definitions before anything starts: ids well-formed and unique,
 * hosted paths unique.
 *
 * @throws {StartupError} naming the definition at fault.
 */
export function checkPlatformDefinitions(definitions: readonly PlatformDefinition[]): void {
  const ids = new Set<string>()
  const paths = new Set<string>()
  for (const definition of definitions) {
    if (!PLATFORM_ID.test(definition.id)) {
      throw new StartupError(
        `Platform id "${definition.id}" must be lower-case letters, digits and -, starting with a letter (at most 32)`,
      )
    }
    if (ids.has(definition.id)) {
      throw new StartupError(`Platform "${definition.id}" is installed twice; list it once`)
    }
    ids.add(definition.id)
    const path = definition.hosted?.path
    if (path !== undefined) {
      if (!/^\/[a-z0-9-]+$/.test(path) || RESERVED_PATHS.has(path)) {
        throw new StartupError(
          `Platform "${definition.id}" cannot be hosted at "${path}": use one free segment such as /${definition.id}`,
        )
      }
      if (paths.has(path)) {
        throw new StartupError(`Two platforms are hosted at "${path}"; give each its own path`)
      }
      paths.add(path)
    }
  }
}

/**
 * Builds the installed platforms from their definitions (the bundled ones by default): starts
 * what each hosts (the sandbox at `/sandbox`) and, with `platformEmulators`, the emulators it
 * hosts at `/emulators/<platform>`.
 *
 * `key` (the vault's primary key) derives the secrets definitions ask for (`deriveSecret`).
 */
export async function createPlatformRegistry(options: {
  config: Config
  db: Database
  key: Uint8Array
  platforms?: readonly PlatformDefinition[] | undefined
}): Promise<{
  registry: PlatformRegistry
  routes: PlatformRoute[]
  emulators: HostedEmulator[]
}> {
  const { config, db, key } = options
  const definitions = options.platforms ?? bundledPlatforms
  checkPlatformDefinitions(definitions)
  const deriveSecret = (purpose: string) =>
    Buffer.from(hkdfSync('sha256', key, 'post-scheduler', purpose, 32))

  const emulators: HostedEmulator[] = []
  const routes: PlatformRoute[] = []
  const platforms: Platform[] = []
  for (const definition of definitions) {
    const context: PlatformContext = {
      config,
      publicURL: config.publicURL,
      redirectURI: callbackURL(config.publicURL, definition.id),
      deriveSecret,
      db,
    }
    const hosted = definition.hosted ? await definition.hosted.start(context) : undefined
    if (hosted && definition.hosted) {
      routes.push({ path: definition.hosted.path, handle: (request) => hosted.handle(request) })
    }
    const emulator =
      config.platformEmulators && definition.emulator
        ? await hostEmulator({
            platform: definition.id,
            app: EMULATOR_APP,
            emulator: definition.emulator,
            context,
          })
        : undefined
    if (emulator) emulators.push(emulator)
    const platform: Omit<Platform, 'validatePost'> = emulator
      ? {
          id: definition.id,
          capabilities: definition.capabilities,
          serverApp: EMULATOR_APP,
          workspaceApp: hosted?.workspaceApp,
          adapter: (app) => emulator.adapter(app),
          callOptions: { fetch: emulator.fetch },
          emulated: true,
        }
      : {
          id: definition.id,
          capabilities: definition.capabilities,
          serverApp: definition.serverApp?.(context),
          workspaceApp: hosted?.workspaceApp,
          adapter: (app) => definition.adapter(app, context),
          callOptions: hosted?.callOptions ?? {},
          emulated: false,
        }
    platforms.push({
      ...platform,
      // validatePost is pure: any app will do to reach it.
      validatePost: (params) =>
        platform
          .adapter(platform.serverApp ?? { clientId: 'validation', clientSecret: 'validation' })
          .validatePost(params),
    })
  }
  const byId = new Map(platforms.map((platform) => [platform.id, platform]))
  return {
    routes,
    emulators,
    registry: {
      list: () => platforms,
      get(id) {
        const platform = byId.get(id)
        if (!platform) {
          throw new ProblemError(
            'NOT_FOUND',
            `No platform "${id}"; installed: ${platforms.map((p) => p.id).join(', ')}`,
          )
        }
        return platform
      },
    },
  }
}
