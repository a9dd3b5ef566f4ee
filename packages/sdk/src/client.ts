import { endpoint, listEndpoint, tagRoute } from './endpoint.ts'
import { type MediaUploadParams, type UploadSource, uploadMedia } from './media-upload.ts'
import {
  type ClientOptions,
  createTransport,
  type RequestOptions,
  type Transport,
  type UploadProgress,
} from './transport.ts'
import type { Media, Schemas } from './types.ts'

type MediaUploadPart = Schemas['MediaUploadPart']

function createResources(send: Transport) {
  const uploads = {
    /** Starts a resumable upload of `sizeBytes`; the answer gives `partSizeBytes` and `partCount`. */
    create: endpoint(send, 'POST /v1/media/uploads', 'json'),
    /** A resumable upload: which parts arrived (`receivedParts`) and which are `missingParts`. */
    get: endpoint(send, 'GET /v1/media/uploads/{uploadId}', 'none'),
    /** Abandons a resumable upload: its parts are deleted and its reserved quota freed. */
    cancel: endpoint(send, 'DELETE /v1/media/uploads/{uploadId}', 'none'),
    /**
     * Sends part `partNumber` (from 1) of a resumable upload: bytes `(partNumber − 1) ×
     * partSizeBytes` onwards, `partSizeBytes` of them (the last part: the rest). Sending a part
     * again replaces it. `onProgress` gets the bytes of this part sent so far.
     */
    sendPart: tagRoute(
      (
        uploadId: string,
        partNumber: number,
        body: Blob,
        options: RequestOptions & { onProgress?: (sentBytes: number) => void } = {},
      ) => {
        const { onProgress, ...rest } = options
        return send<MediaUploadPart>({
          method: 'PUT',
          path: `/v1/media/uploads/${encodeURIComponent(uploadId)}/parts/${partNumber}`,
          body,
          onUploadProgress: onProgress && ((progress) => onProgress(progress.transferredBytes)),
          options: {
            ...rest,
            headers: { 'content-type': 'application/octet-stream', ...rest.headers },
          },
        })
      },
      'PUT /v1/media/uploads/{uploadId}/parts/{partNumber}',
    ),
    /** Joins the parts into a media (checking `sha256` when given); safe to call again. */
    complete: endpoint(send, 'POST /v1/media/uploads/{uploadId}/complete', 'json'),
  }

  return {
    /** Liveness and readiness of the server (no authentication needed). */
    health: {
      /** `{ status: 'ok' }` while the process is alive. */
      check: endpoint(send, 'GET /healthz', 'none'),
      /** The database, migrations and workers; a {@link ServerError} (503) when not ready. */
      ready: endpoint(send, 'GET /readyz', 'none'),
    },
    /** People: sign-up and email confirmation. */
    users: {
      /** Signs a person up; they get an email to confirm their address. */
      signUp: endpoint(send, 'POST /v1/users', 'json'),
      /** Confirms an address with the code from the email. */
      verifyEmail: endpoint(send, 'POST /v1/users/verify-email', 'json'),
    },
    /** Password resets by email. */
    passwordResets: {
      /** Emails a reset code (answers the same whether or not the address is known). */
      request: endpoint(send, 'POST /v1/password-resets', 'json'),
      /** Sets a new password with the emailed code. */
      confirm: endpoint(send, 'POST /v1/password-resets/confirm', 'json'),
    },
    /** The signed-in person. */
    me: {
      /** The signed-in person. */
      get: endpoint(send, 'GET /v1/me', 'none'),
      /** Changes their name, locale… */
      update: endpoint(send, 'PATCH /v1/me', 'json'),
      /** Changes their password (other sessions are signed out). */
      changePassword: endpoint(send, 'POST /v1/me/password', 'json'),
    },
    /** Sign-in sessions. */
    sessions: {
      /** Signs in with email and password; the answer's `token` is a bearer token. */
      create: endpoint(send, 'POST /v1/sessions', 'json'),
      /** The signed-in person's sessions. */
      list: endpoint(send, 'GET /v1/sessions', 'none'),
      /** Signs the current session out. */
      revokeCurrent: endpoint(send, 'DELETE /v1/sessions/current', 'none'),
      /** Signs one session out. */
      revoke: endpoint(send, 'DELETE /v1/sessions/{sessionId}', 'none'),
    },
    /** Workspaces: the tenants. */
    workspaces: {
      /** Creates a workspace owned by the signed-in person. */
      create: endpoint(send, 'POST /v1/workspaces', 'json'),
      /** The workspaces the caller belongs to. */
      list: endpoint(send, 'GET /v1/workspaces', 'none'),
      /** One workspace. */
      get: endpoint(send, 'GET /v1/workspaces/{workspaceId}', 'none'),
      /** Changes a workspace (name, CORS origins…). */
      update: endpoint(send, 'PATCH /v1/workspaces/{workspaceId}', 'json'),
    },
    /** A workspace's daily caps per account and duplicate guard. */
    publishingSettings: {
      /** The workspace's publishing settings. */
      get: endpoint(send, 'GET /v1/workspaces/{workspaceId}/publishing-settings', 'none'),
      /** Changes them. */
      update: endpoint(send, 'PATCH /v1/workspaces/{workspaceId}/publishing-settings', 'json'),
    },
    /** Workspace API keys. */
    apiKeys: {
      /** Creates a key; its `secret` is in this answer only. */
      create: endpoint(send, 'POST /v1/api-keys', 'json'),
      /** The workspace's keys (without secrets). */
      list: endpoint(send, 'GET /v1/api-keys', 'none'),
      /** Revokes a key at once. */
      revoke: endpoint(send, 'DELETE /v1/api-keys/{apiKeyId}', 'none'),
    },
    /** People in a workspace and their roles. */
    members: {
      /** The workspace's members, page by page. */
      list: listEndpoint(send, 'GET /v1/workspaces/{workspaceId}/members', 'query'),
      /** Changes a member's role. */
      update: endpoint(send, 'PATCH /v1/workspaces/{workspaceId}/members/{userId}', 'json'),
      /** Removes a member from the workspace. */
      remove: endpoint(send, 'DELETE /v1/workspaces/{workspaceId}/members/{userId}', 'none'),
    },
    /** Invitations to join a workspace. */
    invitations: {
      /** Invites someone by email. */
      create: endpoint(send, 'POST /v1/workspaces/{workspaceId}/invitations', 'json'),
      /** Pending invitations, page by page. */
      list: listEndpoint(send, 'GET /v1/workspaces/{workspaceId}/invitations', 'query'),
      /** Withdraws an invitation. */
      revoke: endpoint(
        send,
        'DELETE /v1/workspaces/{workspaceId}/invitations/{invitationId}',
        'none',
      ),
      /** Accepts an invitation as the signed-in person. */
      accept: endpoint(send, 'POST /v1/invitations/accept', 'json'),
    },
    /** Profiles: your own customers or brands, each with accounts, media and posts. */
    profiles: {
      /** Creates a profile (`externalId` = your own id for it). */
      create: endpoint(send, 'POST /v1/profiles', 'json'),
      /** Profiles, page by page (filter by `externalId`). */
      list: listEndpoint(send, 'GET /v1/profiles', 'query'),
      /** One profile. */
      get: endpoint(send, 'GET /v1/profiles/{profileId}', 'none'),
      /** Changes a profile. */
      update: endpoint(send, 'PATCH /v1/profiles/{profileId}', 'json'),
      /** Deletes a profile with its accounts, media and posts. */
      delete: endpoint(send, 'DELETE /v1/profiles/{profileId}', 'none'),
      /**
       * Mints a short-lived profile token for a browser: it can only reach this profile. Call it
       * from your backend and hand the token to the page (`createClient({ token })`).
       */
      createToken: endpoint(send, 'POST /v1/profiles/{profileId}/tokens', 'json'),
      /** Revokes every token of the profile. */
      revokeTokens: endpoint(send, 'DELETE /v1/profiles/{profileId}/tokens', 'none'),
    },
    /** The workspace's audit log. */
    auditLog: {
      /** Entries, newest first, page by page (filter by action, actor, target, time). */
      list: listEndpoint(send, 'GET /v1/audit-log', 'query'),
    },
    /** The platforms this server can publish to. */
    platforms: {
      /** Every platform with its capabilities and whether it is configured. */
      list: endpoint(send, 'GET /v1/platforms', 'none'),
    },
    /** Bring-your-own OAuth apps per platform. */
    oauthApps: {
      /** The workspace's own OAuth apps (without secrets). */
      list: endpoint(send, 'GET /v1/oauth-apps', 'none'),
      /** Sets the workspace's OAuth app for a platform. */
      set: endpoint(send, 'PUT /v1/oauth-apps/{platform}', 'json'),
      /** Goes back to the server-wide app for a platform. */
      delete: endpoint(send, 'DELETE /v1/oauth-apps/{platform}', 'none'),
    },
    /** Connecting social accounts to a profile through the platform's consent page. */
    connections: {
      /** Starts connecting a platform: send the person to the answer's `authorizationURL`. */
      create: endpoint(send, 'POST /v1/profiles/{profileId}/connections', 'json'),
      /** A connection's state, and the accounts to choose from once `choosing`. */
      get: endpoint(send, 'GET /v1/connections/{connectionId}', 'none'),
      /** Connects the chosen accounts of a connection that is `choosing`. */
      selectAccounts: endpoint(send, 'POST /v1/connections/{connectionId}/accounts', 'json'),
    },
    /** Connected social accounts. */
    accounts: {
      /** Connected accounts, page by page (filter by profile, platform, status). */
      list: listEndpoint(send, 'GET /v1/accounts', 'query'),
      /** One connected account. */
      get: endpoint(send, 'GET /v1/accounts/{accountId}', 'none'),
      /** Disconnects an account: its tokens are revoked and deleted; waiting posts are canceled. */
      disconnect: endpoint(send, 'DELETE /v1/accounts/{accountId}', 'none'),
    },
    /** Images and videos. */
    media: {
      /**
       * Uploads a file from a `Blob`/`File`, bytes or a stream, with progress. Files above 16 MiB
       * (or with `resumable: true`) go through a resumable upload, part by part; an interrupted
       * one throws a {@link MediaUploadError} whose `uploadId` resumes it.
       *
       * @example
       * ```ts
       * const media = await client.media.upload(file, {
       *   altText: 'A croissant',
       *   onProgress: ({ percent }) => console.log(Math.round(percent * 100), '%'),
       * })
       * ```
       */
      upload: tagRoute(
        (source: UploadSource, params?: MediaUploadParams, options?: RequestOptions) =>
          uploadMedia(send, uploads, source, params, options),
        'POST /v1/media',
      ),
      /** The resumable upload API, for callers that drive the parts themselves. */
      uploads,
      /** Copies a file from a public URL. */
      import: endpoint(send, 'POST /v1/media/import', 'json'),
      /** Media, newest first, page by page. */
      list: listEndpoint(send, 'GET /v1/media', 'query'),
      /** One media with what uses it. */
      get: endpoint(send, 'GET /v1/media/{mediaId}', 'none'),
      /** Changes a media's alt text or file name. */
      update: endpoint(send, 'PATCH /v1/media/{mediaId}', 'json'),
      /** Deletes a media (`{ force: 'true' }` when posts use it). */
      delete: endpoint(send, 'DELETE /v1/media/{mediaId}', 'query'),
      /** Checks media against platforms' limits without posting. */
      validate: endpoint(send, 'POST /v1/media/validate', 'json'),
    },
    /** Posts: shared content published to connected accounts. */
    posts: {
      /** Creates a post: scheduled (`scheduledAt`), queued, a draft, recurring, or published now. */
      create: endpoint(send, 'POST /v1/posts', 'json'),
      /** Every issue `create` would find, per target, without creating anything. */
      validate: endpoint(send, 'POST /v1/posts/validate', 'json'),
      /** Posts, page by page (filter by status, profile, account, platform, time window). */
      list: listEndpoint(send, 'GET /v1/posts', 'query'),
      /** One post with its publications. */
      get: endpoint(send, 'GET /v1/posts/{postId}', 'none'),
      /** Changes or reschedules a post until publishing starts. */
      update: endpoint(send, 'PATCH /v1/posts/{postId}', 'json'),
      /** Deletes a post (`{ fromPlatforms: 'true' }` also deletes published copies). */
      delete: endpoint(send, 'DELETE /v1/posts/{postId}', 'query'),
      /** Cancels what has not been published yet. */
      cancel: endpoint(send, 'POST /v1/posts/{postId}/cancel', 'none'),
      /** Publishes a scheduled post now. */
      publishNow: endpoint(send, 'POST /v1/posts/{postId}/publish-now', 'none'),
      /** Retries a failed or unconfirmed publication (after reconciling with the platform). */
      retry: endpoint(send, 'POST /v1/posts/{postId}/publications/{publicationId}/retry', 'none'),
    },
    /** What happened in the workspace: the events webhooks carry, kept to read back. */
    events: {
      /** Events, page by page (filter by `type`, profile, time; `order` oldest or newest first). */
      list: listEndpoint(send, 'GET /v1/events', 'query'),
      /** One event by id (the `webhook-id` of its deliveries). */
      get: endpoint(send, 'GET /v1/events/{eventId}', 'none'),
    },
    /** Where the workspace's webhooks go (Standard Webhooks; verify them with `verifyWebhook`). */
    webhookEndpoints: {
      /** Adds an endpoint; its signing `secret` (`whsec_…`) is in this answer only. */
      create: endpoint(send, 'POST /v1/webhook-endpoints', 'json'),
      /** The workspace's endpoints, page by page. */
      list: listEndpoint(send, 'GET /v1/webhook-endpoints', 'query'),
      /** One endpoint. */
      get: endpoint(send, 'GET /v1/webhook-endpoints/{endpointId}', 'none'),
      /** Changes an endpoint's URL, event types, profiles, or turns it on or off. */
      update: endpoint(send, 'PATCH /v1/webhook-endpoints/{endpointId}', 'json'),
      /** Deletes an endpoint; nothing more is sent to it. */
      delete: endpoint(send, 'DELETE /v1/webhook-endpoints/{endpointId}', 'none'),
      /**
       * A new signing secret (in this answer only); the old one keeps signing alongside for
       * `gracePeriodSeconds`, so receivers can switch without missing a delivery.
       */
      rotateSecret: endpoint(send, 'POST /v1/webhook-endpoints/{endpointId}/rotate-secret', 'json'),
      /** Sends a test event now and answers what the receiver said. */
      test: endpoint(send, 'POST /v1/webhook-endpoints/{endpointId}/test', 'none'),
      /** Deliveries to the endpoint, page by page (filter by status or event). */
      deliveries: listEndpoint(send, 'GET /v1/webhook-endpoints/{endpointId}/deliveries', 'query'),
      /** Every attempt of every delivery with the receiver's answer, page by page. */
      attempts: listEndpoint(send, 'GET /v1/webhook-endpoints/{endpointId}/attempts', 'query'),
      /** Sends events again: one (`{ eventId }`) or every one since an instant (`{ since }`). */
      redeliver: endpoint(send, 'POST /v1/webhook-endpoints/{endpointId}/redeliver', 'json'),
    },
    /** The signed-in person's data rights: access, export, deletion, consents; the policy. */
    privacy: {
      /** Everything held about the signed-in person. */
      data: endpoint(send, 'GET /v1/me/data', 'none'),
      /** Exports of the person's data as a ZIP, made by a job. */
      exports: {
        /** Starts an export (`pending`, then `ready` with a short-lived `downloadURL`). */
        create: endpoint(send, 'POST /v1/me/exports', 'none'),
        /** The person's exports. */
        list: endpoint(send, 'GET /v1/me/exports', 'none'),
        /** One export, with a fresh download link once ready. */
        get: endpoint(send, 'GET /v1/me/exports/{exportId}', 'none'),
      },
      /** Deleting the person's account, with a window to change their mind. */
      deletion: {
        /** Schedules the deletion of the account (erased at `eraseAt` unless canceled). */
        request: endpoint(send, 'POST /v1/me/deletion', 'json'),
        /** The scheduled deletion. */
        get: endpoint(send, 'GET /v1/me/deletion', 'none'),
        /** Cancels the scheduled deletion. */
        cancel: endpoint(send, 'DELETE /v1/me/deletion', 'none'),
      },
      /** The person's consent choices. */
      consents: {
        /** Every purpose and whether the person agreed. */
        get: endpoint(send, 'GET /v1/me/consents', 'none'),
        /** Records a choice for one purpose. */
        set: endpoint(send, 'POST /v1/me/consents', 'json'),
      },
      /** The privacy policy in force (no authentication needed). */
      policy: endpoint(send, 'GET /v1/privacy-policy', 'none'),
      /** Deletes the record of what was published (the posts stay on the platforms). */
      deletePostHistory: endpoint(send, 'DELETE /v1/post-history', 'query'),
    },
    /** The workspace's usage. */
    usage: {
      /** Usage of the workspace this period. */
      get: endpoint(send, 'GET /v1/usage', 'none'),
    },
    /** A profile's posting schedule (queue slots). */
    schedules: {
      /** The profile's posting schedule. */
      get: endpoint(send, 'GET /v1/profiles/{profileId}/schedule', 'none'),
      /** Replaces it. */
      set: endpoint(send, 'PUT /v1/profiles/{profileId}/schedule', 'json'),
      /** The next free slots. */
      slots: endpoint(send, 'GET /v1/profiles/{profileId}/schedule/slots', 'query'),
    },
    /** Recurring posts. */
    series: {
      /** A series with its rule and next occurrence. */
      get: endpoint(send, 'GET /v1/series/{seriesId}', 'none'),
      /** Stops a series; occurrences not yet published are canceled. */
      cancel: endpoint(send, 'POST /v1/series/{seriesId}/cancel', 'none'),
    },
    /** The sandbox platform: a local network to try everything without credentials. */
    sandbox: {
      /** What was published to the sandbox, page by page. */
      posts: { list: listEndpoint(send, 'GET /v1/sandbox/posts', 'query') },
    },
  }
}

/** A Post Scheduler API client: one property per resource, named after the API. */
export type PostSchedulerClient = ReturnType<typeof createResources>

/**
 * Creates a client. Give a secret `apiKey` on a server, or a profile `token` (or `getToken`) in a
 * browser. Every method takes per-call {@link RequestOptions} last; mutating calls carry an
 * `Idempotency-Key`, so the built-in retries are safe.
 *
 * @example
 * ```ts
 * import { createClient } from '@post-scheduler/sdk'
 *
 * const client = createClient({ apiKey: process.env.POST_SCHEDULER_API_KEY, baseURL: 'http://127.0.0.1:3000' })
 * const post = await client.posts.create({
 *   accountIds: ['acc_123'],
 *   content: { text: 'Hello' },
 *   scheduledAt: '2030-01-01T09:00:00+01:00',
 * })
 * ```
 */
export function createClient(options: ClientOptions): PostSchedulerClient {
  return createResources(createTransport(options))
}

export type {
  ClientOptions,
  Media,
  MediaUploadParams,
  RequestOptions,
  UploadProgress,
  UploadSource,
}
