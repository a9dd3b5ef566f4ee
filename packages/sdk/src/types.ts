/**
 * Readable names for the API's types. Every one is an alias of the types generated from the
 * server's OpenAPI document (src/generated/openapi.ts), never written by hand.
 */

import type { QueryParams, RequestBody, ResponseBody, Route } from './endpoint.ts'
import type { components, paths, webhooks } from './generated/openapi.ts'

/** Every schema of the OpenAPI document, by its name there. */
export type Schemas = components['schemas']
export type { components, paths, QueryParams, RequestBody, ResponseBody, Route, webhooks }

/** A post: shared content, per-platform overrides, schedule, status and publications. */
export type Post = Schemas['Post']
/** A post's shared content (text, media, link…). */
export type PostContent = Schemas['PostContent']
/** One post × connected account: the unit of publishing, with its own state and attempts. */
export type Publication = Schemas['Publication']
/** Why a publication failed, with `retryable` and the `action` a person should take. */
export type PublicationError = Schemas['PublicationError']
/** What `client.posts.create` and `client.posts.validate` take. */
export type PostCreateParams = Schemas['PostCreate']
/** What `client.posts.update` takes. */
export type PostUpdateParams = Schemas['PostUpdate']
/** What `client.posts.list` takes. */
export type PostListParams = QueryParams<'GET /v1/posts'>
/** A recurrence (RRULE) for a post. */
export type RecurrenceCreateParams = Schemas['RecurrenceCreate']
/** The answer of `client.posts.validate`: every issue per target. */
export type PostValidation = Schemas['PostValidation']
/** The answer of `client.posts.delete`: what happened on each platform. */
export type PostDeletion = Schemas['PostDeletion']

/** A stored image, GIF or video. */
export type Media = Schemas['Media']
/** A media with what uses it. */
export type MediaDetail = Schemas['MediaDetail']
/** A resumable upload's state. */
export type MediaUpload = Schemas['MediaUpload']
/** What `client.media.uploads.create` takes. */
export type MediaUploadCreateParams = Schemas['MediaUploadCreate']
/** What `client.media.import` takes. */
export type MediaImportParams = Schemas['MediaImport']
/** What `client.media.update` takes. */
export type MediaUpdateParams = Schemas['MediaUpdate']
/** What `client.media.validate` takes. */
export type MediaValidateParams = Schemas['MediaValidate']
/** The answer of `client.media.validate`. */
export type MediaValidation = Schemas['MediaValidation']
/** What `client.media.list` takes. */
export type MediaListParams = QueryParams<'GET /v1/media'>

/** A profile: one of your customers or brands. */
export type Profile = Schemas['Profile']
/** What `client.profiles.create` takes. */
export type ProfileCreateParams = Schemas['ProfileCreate']
/** What `client.profiles.update` takes. */
export type ProfileUpdateParams = Schemas['ProfileUpdate']
/** A profile token minted for a browser. */
export type ProfileToken = Schemas['ProfileToken']
/** What `client.profiles.createToken` takes. */
export type ProfileTokenCreateParams = Schemas['ProfileTokenCreate']

/** A connected social account. */
export type Account = Schemas['ConnectedAccount']
/** What `client.accounts.list` takes. */
export type AccountListParams = QueryParams<'GET /v1/accounts'>
/** A connection in progress (OAuth consent, then choosing accounts). */
export type Connection = Schemas['Connection']
/** A new connection with the consent page's `authorizationURL`. */
export type ConnectionStarted = Schemas['ConnectionStarted']
/** What `client.connections.create` takes. */
export type ConnectionCreateParams = Schemas['ConnectionStart']
/** What `client.connections.selectAccounts` takes. */
export type ConnectionSelectAccountsParams = Schemas['AccountChoice']
/** A platform this server publishes to, with its capabilities. */
export type Platform = Schemas['Platform']
/** A workspace's own OAuth app for a platform. */
export type OAuthApp = Schemas['OAuthApp']
/** What `client.oauthApps.set` takes. */
export type OAuthAppParams = Schemas['OAuthAppInput']

/** A workspace: the tenant. */
export type Workspace = Schemas['Workspace']
/** What `client.workspaces.create` takes. */
export type WorkspaceCreateParams = Schemas['WorkspaceCreate']
/** What `client.workspaces.update` takes. */
export type WorkspaceUpdateParams = Schemas['WorkspaceUpdate']
/** An API key (without its secret). */
export type ApiKey = Schemas['ApiKey']
/** A new API key with its secret (shown once). */
export type ApiKeyWithSecret = Schemas['ApiKeyWithSecret']
/** What `client.apiKeys.create` takes. */
export type ApiKeyCreateParams = Schemas['ApiKeyCreate']
/** A member of a workspace. */
export type Member = Schemas['Member']
/** What `client.members.update` takes. */
export type MemberUpdateParams = Schemas['MemberUpdate']
/** An invitation to a workspace. */
export type Invitation = Schemas['Invitation']
/** What `client.invitations.create` takes. */
export type InvitationCreateParams = Schemas['InvitationCreate']
/** An entry of the audit log. */
export type AuditEntry = Schemas['AuditEntry']
/** What `client.auditLog.list` takes. */
export type AuditLogListParams = QueryParams<'GET /v1/audit-log'>
/** A workspace's daily caps and duplicate guard. */
export type PublishingSettings = Schemas['PublishingSettings']
/** What `client.publishingSettings.update` takes. */
export type PublishingSettingsUpdateParams = Schemas['PublishingSettingsUpdate']

/** A person. */
export type User = Schemas['User']
/** What `client.users.signUp` takes. */
export type SignUpParams = Schemas['SignUp']
/** What `client.sessions.create` takes. */
export type SignInParams = Schemas['SignIn']
/** A session and its bearer token. */
export type SignedIn = Schemas['SignedIn']
/** A sign-in session. */
export type Session = Schemas['Session']

/** A profile's posting schedule. */
export type PostingSchedule = Schemas['PostingSchedule']
/** What `client.schedules.set` takes. */
export type PostingScheduleParams = Schemas['PostingScheduleUpdate']
/** A slot of a posting schedule. */
export type PostingSlot = Schemas['PostingSlot']
/** The next free slots of a schedule. */
export type FreeSlots = Schemas['FreeSlots']
/** A recurring series of posts. */
export type Series = Schemas['Series']
/** A post on the sandbox platform. */
export type SandboxPost = Schemas['SandboxPost']
/** The server's readiness checks. */
export type Readiness = Schemas['Readiness']

/** Something that happened in a workspace, as `client.events.list` answers and webhooks carry. */
export type Event = Schemas['Event']
/** Every event type (`post.published`, `account.disconnected`…). */
export type EventType = Schemas['EventType']
/** What `client.events.list` takes. */
export type EventListParams = QueryParams<'GET /v1/events'>
/** A webhook endpoint. */
export type WebhookEndpoint = Schemas['WebhookEndpoint']
/** A webhook endpoint with its signing secret (on create and rotation only). */
export type WebhookEndpointWithSecret = Schemas['WebhookEndpointWithSecret']
/** What `client.webhookEndpoints.create` takes. */
export type WebhookEndpointCreateParams = Schemas['WebhookEndpointCreate']
/** What `client.webhookEndpoints.update` takes. */
export type WebhookEndpointUpdateParams = Schemas['WebhookEndpointUpdate']
/** One event's delivery to one endpoint. */
export type WebhookDelivery = Schemas['WebhookDelivery']
/** One attempt of a delivery, with the receiver's answer. */
export type WebhookAttempt = Schemas['WebhookAttempt']
/** What `client.webhookEndpoints.test` answers. */
export type WebhookTestResult = Schemas['WebhookTestResult']
/** What `client.webhookEndpoints.redeliver` takes. */
export type WebhookRedeliveryParams = Schemas['WebhookRedelivery']

/** Everything held about the signed-in person. */
export type PersonalData = Schemas['PersonalData']
/** An export of the person's data. */
export type DataExport = Schemas['DataExport']
/** A scheduled deletion of the person's account. */
export type DeletionRequest = Schemas['DeletionRequest']
/** What `client.privacy.deletion.request` takes. */
export type DeletionRequestParams = Schemas['DeletionConfirm']
/** The person's consent choices. */
export type Consents = Schemas['Consents']
/** What `client.privacy.consents.set` takes. */
export type ConsentParams = Schemas['ConsentChoice']
/** The privacy policy in force. */
export type PrivacyPolicy = Schemas['PrivacyPolicy']
/** The workspace's usage. */
export type UsageSummary = Schemas['UsageSummary']
