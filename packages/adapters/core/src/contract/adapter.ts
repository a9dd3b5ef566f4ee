import type { Capabilities } from '../capabilities/capabilities.ts'
import type { AnyAdapterError } from '../errors/errors.ts'
import type { CallOptions } from '../http/request.ts'
import type { OAuthTokens } from '../oauth/token-request.ts'
import type { ContentIssue, PostContent, PublishMedia } from './post.ts'

/** One account a login gives access to: the person's own, or a page/organisation/channel they manage. */
export interface PlatformAccount {
  /** The platform's id of the account, stable across logins. */
  id: string
  kind: 'personal' | 'page' | 'organization' | 'channel' | 'business'
  /** Display name. */
  name: string
  /** Handle without `@`, where the platform has one. */
  username?: string
  avatarURL?: string
  profileURL?: string
  /**
   * Credentials to use for this account instead of the login's, where the platform issues one
   * per account (Facebook page tokens). Absent: use the login's tokens.
   */
  accessToken?: string
}

/** Credentials and target of a call on one account. */
export interface AccountCall {
  /** The account's access token (the page token where the platform has one). */
  accessToken: string
  /** The platform's id of the account (from `listAccounts`). */
  accountId: string
}

/**
 * Handles the platform gives before the irreversible call of a publish (an Instagram container
 * id, a TikTok publish id, an upload id, a client idempotency key). Keys are adapter-defined.
 */
export type PublicationHandles = Readonly<Record<string, string>>

/** What `publish` receives. */
export interface PublishParams extends AccountCall {
  /** The runner's id of this attempt; a new one for every attempt of the same publication. */
  attemptId: string
  post: PostContent<PublishMedia>
  /**
   * Handles saved by an earlier attempt of the same publication. An adapter reuses them (the same
   * idempotency key, the same container) so that a retry cannot post twice.
   */
  handles?: PublicationHandles
  /**
   * Persists handles before the irreversible call. The adapter must call it, and await it, with
   * every handle it obtains before the call that makes the post public; if it rejects, the
   * adapter must not make that call.
   */
  checkpoint(handles: PublicationHandles): Promise<void>
}

/** A post the platform made. */
export interface PublishedPost {
  /** The platform's id of the post (for delete, metrics, look-up). */
  platformPostId: string
  /** Public URL of the post, where there is one. */
  url: string | undefined
  /** The platform's ids of follow-up posts of a thread, in order. */
  threadPostIds?: string[]
  /** The platform's id of the first comment. */
  firstCommentId?: string
}

/**
 * The platform accepted the post and finishes it later (an Instagram video container, a Facebook
 * reel, a YouTube upload in processing, TikTok moderation): the engine saves `handles`, frees its
 * worker, and calls `checkPublication` after `checkAfterSeconds`.
 */
export interface ProcessingPublication {
  status: 'processing'
  /** What `checkPublication` needs to find the post again (merged into the saved handles). */
  handles: PublicationHandles
  /** When to check first, as the platform's documented cadence says. */
  checkAfterSeconds: number
  /**
   * How long the platform may take at most; past it the engine stops checking and marks the
   * publication `unconfirmed`. Absent: the engine's own limit.
   */
  maxWaitSeconds?: number
}

/**
 * How `publish` ends: a {@link PublishedPost} (optionally tagged `status: 'published'`), or
 * {@link ProcessingPublication} when the platform finishes later.
 */
export type PublishResult =
  | PublishedPost
  | ({ status: 'published' } & PublishedPost)
  | ProcessingPublication

/**
 * Whether `publish` answered "accepted, still processing" rather than published.
 *
 * @example
 * ```ts
 * const result = await adapter.publish(params)
 * if (isProcessing(result)) schedule(result.checkAfterSeconds)
 * else record(result.platformPostId)
 * ```
 */
export function isProcessing(result: PublishResult): result is ProcessingPublication {
  return 'status' in result && result.status === 'processing'
}

/** What `checkPublication` found about a publication the platform was still processing. */
export type PublicationCheck =
  /**
   * Public. `platformPostId` undefined: published, but the platform gives its public id later
   * (TikTok); the publication is recorded as published without it.
   */
  | ({ status: 'published' } & Omit<PublishedPost, 'platformPostId'> & {
        platformPostId: string | undefined
      })
  /** Not finished yet: check again after `checkAfterSeconds`. `handles`: new ones to save. */
  | { status: 'processing'; checkAfterSeconds: number; handles?: PublicationHandles }
  /** The platform gave up on it (a video it could not process, a post moderation refused). */
  | { status: 'failed'; error: AnyAdapterError }

/** What `lookUpPublication` found about an attempt whose outcome was unknown. */
export type PublicationLookUp =
  | ({ status: 'published' } & PublishedPost)
  /** Made, and the platform is still processing it: the engine continues with `checkPublication`. */
  | ProcessingPublication
  /** Certainly not made: publishing again cannot create a duplicate. */
  | { status: 'not_found' }
  /** The platform cannot tell (yet). `retryAfterSeconds`: ask again then, if it may know later. */
  | { status: 'unknown'; reason: string; retryAfterSeconds?: number }

/** Engagement numbers of one post; a metric the platform does not report is absent. */
export interface PostMetrics {
  platformPostId: string
  impressions?: number
  views?: number
  likes?: number
  comments?: number
  shares?: number
  clicks?: number
  /** When the platform computed them (or we read them). */
  measuredAt: Date
}

/**
 * The contract every platform adapter implements, with arctic's uniform verbs. Each verb takes
 * one params object and optional {@link CallOptions} (`signal`, `fetch`, `timeoutMs`). Optional
 * verbs exist only where the platform supports them (check `capabilities.features` in a UI).
 * Every failure is an `AdapterError` (see `isAdapterError`).
 *
 * Create adapters with a lowercase factory and check them with `satisfies Adapter`:
 *
 * @example
 * ```ts
 * export function example(config: ExampleConfig) {
 *   return {
 *     id: 'example',
 *     capabilities: exampleCapabilities,
 *     createAuthorizationURL({ state, codeVerifier, scopes }) { … },
 *     async validateAuthorizationCode({ code, codeVerifier }, options) { … },
 *     // …
 *   } satisfies Adapter
 * }
 * ```
 */
export interface Adapter {
  /** The platform's id, e.g. `sandbox`; equals `capabilities.platform`. */
  readonly id: string
  readonly capabilities: Capabilities

  /**
   * The URL to send the person to, to grant access. `state` and `codeVerifier` come from
   * `generateState()`/`generateCodeVerifier()` and are kept server side for the callback.
   * Platforms without PKCE (Facebook) ignore the verifier; pass one anyway, uniformly.
   */
  createAuthorizationURL(params: { state: string; codeVerifier: string; scopes?: string[] }): URL

  /** Exchanges the code from the callback for tokens. */
  validateAuthorizationCode(
    params: { code: string; codeVerifier: string },
    options?: CallOptions,
  ): Promise<OAuthTokens>

  /** Gets a new access token. Store the returned refresh token: some platforms rotate it. */
  refreshAccessToken?(params: { refreshToken: string }, options?: CallOptions): Promise<OAuthTokens>

  /** Revokes a token (disconnecting), where the platform has an endpoint for it. */
  revokeToken?(params: { token: string }, options?: CallOptions): Promise<void>

  /** The accounts a login gives access to; the person chooses which to connect. */
  listAccounts(params: { accessToken: string }, options?: CallOptions): Promise<PlatformAccount[]>

  /**
   * Every problem with a post for this platform, each with its path. Pure and synchronous: the
   * same function runs in a browser composer. Empty means publishable.
   */
  validatePost(params: { post: PostContent }): ContentIssue[]

  /**
   * Publishes the post: text, media, thread or first comment as the capabilities allow. Calls
   * `checkpoint` with every handle obtained before the irreversible call. When the irreversible
   * call was sent and no answer came back, throws `OUTCOME_UNKNOWN`: reconcile with
   * `lookUpPublication`, never retry blindly.
   *
   * Where the platform finishes later, it answers {@link ProcessingPublication} as soon as the
   * platform has accepted the post, with the handles `checkPublication` needs. Rule: an adapter
   * whose `publish` can answer `processing` must implement `checkPublication`; once it has
   * answered `processing`, the engine never calls `publish` again for that publication, only
   * `checkPublication`.
   */
  publish(params: PublishParams, options?: CallOptions): Promise<PublishResult>

  /**
   * Where the platform finishes posts after accepting them: whether a post `publish` answered
   * `processing` for is public yet, from the saved handles. Called on the platform's cadence by a
   * worker that holds nothing meanwhile. Rule: it never makes a second post. It reads, except
   * where the platform publishes only when asked once processing is done (an Instagram video
   * container): then its one irreversible call follows `publish`'s rules — keyed by the saved
   * handles, and a state showing it was already made is looked up, never made again. `failed` only
   * when the platform has given up on the post, and a failure to ask (network, rate limit) is
   * thrown as an `AdapterError`, as in any verb — the engine then checks again later.
   *
   * @example
   * ```ts
   * async checkPublication({ accessToken, handles }, options) {
   *   const container = await readContainer(accessToken, handles.containerId, options)
   *   if (container.status === 'IN_PROGRESS') return { status: 'processing', checkAfterSeconds: 60 }
   *   if (container.status === 'ERROR') return { status: 'failed', error: new ContentRejectedError(…) }
   *   return { status: 'published', platformPostId: container.mediaId, url: container.permalink }
   * }
   * ```
   */
  checkPublication?(
    params: AccountCall & { handles: PublicationHandles },
    options?: CallOptions,
  ): Promise<PublicationCheck>

  /** Deletes a published post; succeeds if it is already gone. */
  deletePost?(
    params: AccountCall & { platformPostId: string },
    options?: CallOptions,
  ): Promise<void>

  /** Engagement numbers of published posts. */
  getMetrics?(
    params: AccountCall & { platformPostIds: string[] },
    options?: CallOptions,
  ): Promise<PostMetrics[]>

  /**
   * Whether an attempt whose outcome was unknown made a post, from the handles its `checkpoint`
   * saved. `not_found` must only be answered when the platform proves it (so publishing again is
   * safe); otherwise `unknown`.
   */
  lookUpPublication(
    params: AccountCall & { attemptId: string; handles: PublicationHandles },
    options?: CallOptions,
  ): Promise<PublicationLookUp>
}
