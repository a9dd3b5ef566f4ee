import { createHmac, hkdfSync } from 'node:crypto'
import type { Adapter, CallOptions, Capabilities } from '@post-scheduler/adapter-core'
import { linkedin, linkedinCapabilities } from '@post-scheduler/adapter-linkedin'
import {
  createSandboxPlatform,
  type SandboxPlatform,
  type SandboxStore,
  sandbox,
  sandboxCapabilities,
} from '@post-scheduler/adapter-sandbox'
import { x, xCapabilities } from '@post-scheduler/adapter-x'
import type { Config } from '../config/config.ts'
import { type HostedEmulator, hostEmulator, type PlatformEmulator } from '../emulators/host.ts'
import { ProblemError } from '../http/problem.ts'

/** OAuth client credentials registered with a platform. */
export interface OAuthApp {
  clientId: string
  clientSecret: string
}

/** A platform the server can connect accounts to and publish on. */
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

/**
 * A platform as the registry is built from it. `emulator`, when the platform ships one, is what
 * `PLATFORM_EMULATORS` needs: the emulator, and the adapter pointed at it.
 */
interface PlatformDefinition extends Omit<Platform, 'validatePost' | 'emulated'> {
  emulator?: PlatformEmulator
}

/** The installed platforms, by id. */
export interface PlatformRegistry {
  list(): Platform[]
  /** @throws {ProblemError} `NOT_FOUND` for a platform that is not installed. */
  get(id: string): Platform
}

/** Where a platform sends people back after consent: `<PUBLIC_URL>/v1/oauth/<platform>/callback`. */
export const callbackURL = (publicURL: string, platform: string) =>
  `${publicURL}/v1/oauth/${platform}/callback`

/** The client id of a workspace's sandbox client. */
const SANDBOX_CLIENT_PREFIX = 'post-scheduler.'
export const sandboxClientId = (workspaceId: string) => `${SANDBOX_CLIENT_PREFIX}${workspaceId}`

/** The OAuth app every emulated platform is connected with (the emulator knows no other). */
const EMULATOR_APP: OAuthApp = { clientId: 'post-scheduler-emulator', clientSecret: 'emulator' }

/**
 * Builds the registry of installed platforms, the handler of the sandbox platform this server
 * hosts at `/sandbox` (its state in PostgreSQL through `sandboxStore`) and, with
 * `platformEmulators`, the emulators it hosts at `/emulators/<platform>`.
 *
 * `key` (the vault's primary key) derives the secrets of the workspaces' sandbox clients, so
 * nobody outside the server can use a workspace's client to read what its accounts posted.
 */
export async function createPlatformRegistry(options: {
  config: Pick<
    Config,
    | 'publicURL'
    | 'platformApps'
    | 'linkedinRefreshTokens'
    | 'sandboxLatencyMs'
    | 'platformEmulators'
  >
  sandboxStore: SandboxStore
  key: Uint8Array
}): Promise<{
  registry: PlatformRegistry
  sandboxPlatform: SandboxPlatform
  emulators: HostedEmulator[]
}> {
  const { publicURL, platformApps } = options.config
  const sandboxBaseURL = `${publicURL}/sandbox`
  const secretKey = Buffer.from(
    hkdfSync('sha256', options.key, 'post-scheduler', 'sandbox-client-secrets', 32),
  )
  const sandboxApp = (clientId: string): OAuthApp => ({
    clientId,
    clientSecret: createHmac('sha256', secretKey).update(clientId).digest('base64url'),
  })
  const sandboxPlatform = createSandboxPlatform({
    store: options.sandboxStore,
    baseURL: sandboxBaseURL,
    clients: (clientId) =>
      clientId.startsWith(SANDBOX_CLIENT_PREFIX)
        ? { ...sandboxApp(clientId), redirectURIs: [callbackURL(publicURL, 'sandbox')] }
        : undefined,
    latencyMs: options.config.sandboxLatencyMs,
  })
  const definitions: PlatformDefinition[] = [
    {
      id: 'sandbox',
      capabilities: sandboxCapabilities,
      serverApp: undefined,
      workspaceApp: (workspaceId) => sandboxApp(sandboxClientId(workspaceId)),
      adapter: (app) =>
        sandbox({
          ...app,
          baseURL: sandboxBaseURL,
          redirectURI: callbackURL(publicURL, 'sandbox'),
        }),
      // Calls to the sandbox go straight to its handler: no network, same process.
      callOptions: { fetch: async (input, init) => sandboxPlatform(new Request(input, init)) },
    },
    {
      id: 'x',
      capabilities: xCapabilities,
      serverApp: platformApps.x,
      adapter: (app) => x({ ...app, redirectURI: callbackURL(publicURL, 'x') }),
      callOptions: {},
      emulator: {
        async load(baseURL, app) {
          const { createXEmulator } = await import('@post-scheduler/adapter-x/testing')
          const emulator = createXEmulator({
            ...app,
            apiBaseURL: `${baseURL}/api`,
            authorizationURL: `${baseURL}/oauth/authorize`,
          })
          return {
            handlers: emulator.handlers,
            authorizationURL: `${baseURL}/oauth/authorize`,
            approve: (url, person) =>
              emulator.approve(url, { name: person.name, username: person.username }),
          }
        },
        adapter: (app, baseURL) =>
          x({
            ...app,
            redirectURI: callbackURL(publicURL, 'x'),
            apiBaseURL: `${baseURL}/api`,
            authorizationURL: `${baseURL}/oauth/authorize`,
          }),
      },
    },
    {
      id: 'linkedin',
      capabilities: linkedinCapabilities,
      serverApp: platformApps.linkedin,
      adapter: (app) =>
        linkedin({
          ...app,
          redirectURI: callbackURL(publicURL, 'linkedin'),
          refreshTokens: options.config.linkedinRefreshTokens,
        }),
      callOptions: {},
      emulator: {
        async load(baseURL, app) {
          const { createLinkedInEmulator } = await import(
            '@post-scheduler/adapter-linkedin/testing'
          )
          const emulator = createLinkedInEmulator({
            ...app,
            redirectURIs: [callbackURL(publicURL, 'linkedin')],
            refreshTokens: true,
            apiBaseURL: `${baseURL}/api`,
            wwwBaseURL: `${baseURL}/www`,
          })
          return {
            handlers: emulator.handlers,
            authorizationURL: `${baseURL}/www/oauth/v2/authorization`,
            // The emulated LinkedIn has one member (and the pages they administer).
            approve: (url) => emulator.approve(url),
          }
        },
        adapter: (app, baseURL) =>
          linkedin({
            ...app,
            redirectURI: callbackURL(publicURL, 'linkedin'),
            refreshTokens: true,
            apiBaseURL: `${baseURL}/api`,
            oauthBaseURL: `${baseURL}/www/oauth/v2`,
          }),
      },
    },
  ]

  const emulators: HostedEmulator[] = []
  const platforms: Platform[] = []
  for (const { emulator, ...definition } of definitions) {
    const hosted =
      options.config.platformEmulators && emulator
        ? await hostEmulator({
            platform: definition.id,
            publicURL,
            app: EMULATOR_APP,
            emulator,
          })
        : undefined
    if (hosted) emulators.push(hosted)
    const platform: Omit<Platform, 'validatePost'> = hosted
      ? {
          ...definition,
          serverApp: EMULATOR_APP,
          adapter: (app) => hosted.adapter(app),
          callOptions: { fetch: hosted.fetch },
          emulated: true,
        }
      : { ...definition, emulated: false }
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
    sandboxPlatform,
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
