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
  /** An adapter acting as `app`, whose OAuth callback is this server's. */
  adapter(app: OAuthApp): Adapter
  /** Options for every call of its adapter (the sandbox is served in-process). */
  callOptions: CallOptions
  /** The adapter's pure `validatePost`, which needs no app or account. */
  validatePost: Adapter['validatePost']
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

/** The sandbox platform's OAuth client, registered with the sandbox this server hosts. */
const SANDBOX_APP: OAuthApp = { clientId: 'post-scheduler', clientSecret: 'sandbox-client-secret' }

/**
 * Builds the registry of installed platforms and the handler of the sandbox platform this server
 * hosts at `/sandbox` (its state in PostgreSQL through `sandboxStore`).
 */
export function createPlatformRegistry(options: {
  config: Pick<Config, 'publicURL' | 'platformApps' | 'linkedinRefreshTokens' | 'sandboxLatencyMs'>
  sandboxStore: SandboxStore
}): { registry: PlatformRegistry; sandboxPlatform: SandboxPlatform } {
  const { publicURL, platformApps } = options.config
  const sandboxBaseURL = `${publicURL}/sandbox`
  const sandboxPlatform = createSandboxPlatform({
    store: options.sandboxStore,
    baseURL: sandboxBaseURL,
    clients: [{ ...SANDBOX_APP, redirectURIs: [callbackURL(publicURL, 'sandbox')] }],
    latencyMs: options.config.sandboxLatencyMs,
  })
  const platforms: Omit<Platform, 'validatePost'>[] = [
    {
      id: 'sandbox',
      capabilities: sandboxCapabilities,
      serverApp: SANDBOX_APP,
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
    },
  ]
  const withValidation = platforms.map((platform) => ({
    ...platform,
    // validatePost is pure: any app will do to reach it.
    validatePost: (params: Parameters<Adapter['validatePost']>[0]) =>
      platform
        .adapter(platform.serverApp ?? { clientId: 'validation', clientSecret: 'validation' })
        .validatePost(params),
  }))
  const byId = new Map(withValidation.map((platform) => [platform.id, platform]))
  return {
    sandboxPlatform,
    registry: {
      list: () => withValidation,
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
