import type { Adapter, CallOptions, Capabilities } from '@post-scheduler/adapter-core'
import type { Config } from '../config/config.ts'
import type { Database } from '../db/client.ts'

/** OAuth client credentials registered with a platform. */
export interface OAuthApp {
  clientId: string
  clientSecret: string
}

/** What the server tells a platform definition when it builds the platform at start. */
export interface PlatformContext {
  /** The server's configuration. */
  config: Config
  /** The URL people and platforms reach this server at (`PUBLIC_URL`), without a trailing `/`. */
  publicURL: string
  /** Where the platform sends people back after consent: `<PUBLIC_URL>/v1/oauth/<id>/callback`. */
  redirectURI: string
  /**
   * 32 bytes of this server's own for `purpose`, derived from its primary encryption key: the same
   * on every process of one deployment, unknown outside it.
   */
  deriveSecret(purpose: string): Uint8Array
  /** The server's database, for a platform that keeps state of its own (the sandbox does). */
  db: Database
}

/**
 * What a platform runs inside this server, started with it: the sandbox serves its whole
 * network (consent page, API) at `/sandbox` and gives each workspace a client of its own.
 */
export interface HostedPlatform {
  /** Serves HTTP requests under the definition's `hosted.path`, outside `/v1` and the OpenAPI document. */
  handle(request: Request): Promise<Response>
  /**
   * An app the server gives each workspace, used before the server-wide one: the sandbox has a
   * client per workspace, so the accounts people name on its consent page are the workspace's own.
   */
  workspaceApp?(workspaceId: string): OAuthApp
  /** Options for every call of the platform's adapter (the sandbox is called in-process). */
  callOptions?: CallOptions
}

/** A person on an emulator's consent page. */
export interface EmulatedPerson {
  name: string
  /** The name as a handle (`ada_lovelace`). */
  username: string
}

/** A platform's emulator, loaded and serving the platform at a base URL. */
export interface LoadedEmulator {
  /**
   * msw handlers (`RequestHandler[]`, as an adapter package's emulator gives them) answering the
   * platform's API and OAuth endpoints under the base URL. Typed loosely so this type does not
   * need msw, which only `PLATFORM_EMULATORS` loads.
   */
  handlers: readonly object[]
  /** The consent page the adapter sends people to (the host serves it). */
  authorizationURL: string
  /** Consents as `person` to the authorization request `url`; the code to send back. */
  approve(url: URL, person: EmulatedPerson): Promise<{ code: string; state: string }>
  /**
   * For an adapter and emulator that know only the real platform's addresses (no base URL
   * option): the origins they use (`https://graph.instagram.com`). The host answers the adapter's
   * calls to them in-process, serves each at `<baseURL>/<host>/…` over HTTP, and rewrites the
   * adapter's authorization URLs to the consent page there.
   */
  origins?: readonly string[]
}

/**
 * What a platform that ships an emulator gives the server for `PLATFORM_EMULATORS=true`: how to
 * load the emulator at a base URL for an app, and its adapter pointed at that base URL. Load the
 * emulator with a dynamic `import()` of the adapter package's `/testing` entry, so production
 * never loads msw.
 */
export interface PlatformEmulator {
  load(baseURL: string, app: OAuthApp, context: PlatformContext): Promise<LoadedEmulator>
  adapter(app: OAuthApp, baseURL: string, context: PlatformContext): Adapter
}

/**
 * A platform the server can install: what `createPostScheduler({ platforms })` takes. The
 * bundled platforms (`bundledPlatforms`: sandbox, X, LinkedIn, Instagram, Facebook) are
 * definitions like any other; an adapter package of your own plugs in the same way, without a fork.
 *
 * Accounts are connected through the server's hosted OAuth flow (`/v1/oauth/<id>/callback`) with
 * the workspace's own app when it registered one, else `hosted.workspaceApp`, else `serverApp`.
 */
export interface PlatformDefinition {
  /**
   * The platform's id in the API (`platform` fields, `/v1/platforms/<id>`, the OAuth callback
   * path): lower-case letters, digits and `-`, unique among the installed platforms.
   */
  id: string
  /** What the platform accepts: the adapter package's `capabilities` entry. */
  capabilities: Capabilities
  /**
   * The server-wide OAuth app, from configuration or the environment; `undefined` when not
   * configured (workspaces may still register their own).
   */
  serverApp?(context: PlatformContext): OAuthApp | undefined
  /** The adapter acting as `app`, whose OAuth callback is `context.redirectURI`. */
  adapter(app: OAuthApp, context: PlatformContext): Adapter
  /** The emulator the server hosts at `/emulators/<id>` with `PLATFORM_EMULATORS=true`. */
  emulator?: PlatformEmulator
  /** What the platform runs inside this server, served at `path` and everything under it. */
  hosted?: {
    /** Where its requests are served: `/sandbox` serves `/sandbox/*`. */
    path: `/${string}`
    start(context: PlatformContext): HostedPlatform | Promise<HostedPlatform>
  }
}

/**
 * Checks a platform definition's type and returns it unchanged: write an adapter package's
 * definition with it, then pass it to `createPostScheduler({ platforms })` beside the bundled
 * ones.
 *
 * @example
 * ```ts
 * import { bundledPlatforms, createPostScheduler, definePlatform } from '@post-scheduler/server'
 * import { mastodon, mastodonCapabilities } from 'post-scheduler-adapter-mastodon'
 *
 * const mastodonPlatform = definePlatform({
 *   id: 'mastodon',
 *   capabilities: mastodonCapabilities,
 *   serverApp: () =>
 *     process.env.MASTODON_CLIENT_ID && process.env.MASTODON_CLIENT_SECRET
 *       ? { clientId: process.env.MASTODON_CLIENT_ID, clientSecret: process.env.MASTODON_CLIENT_SECRET }
 *       : undefined,
 *   adapter: (app, { redirectURI }) => mastodon({ ...app, redirectURI }),
 * })
 *
 * const scheduler = createPostScheduler({ platforms: [...bundledPlatforms, mastodonPlatform] })
 * await scheduler.start()
 * ```
 */
export function definePlatform(definition: PlatformDefinition): PlatformDefinition {
  return definition
}

/** Where a platform sends people back after consent: `<PUBLIC_URL>/v1/oauth/<platform>/callback`. */
export const callbackURL = (publicURL: string, platform: string) =>
  `${publicURL}/v1/oauth/${platform}/callback`
