import { z } from '@hono/zod-openapi'
import {
  ACCOUNT_STATUSES,
  POST_STATUSES,
  PUBLICATION_ERROR_ACTIONS,
  PUBLICATION_STATUSES,
} from '../db/schema/index.ts'

const instant = () => z.iso.datetime({ offset: true })

/**
 * Why a publication failed, as the API and events show it. Unnamed here, so events inline it;
 * the post routes name their copy `PublicationError` in the OpenAPI document.
 */
export const PublicationErrorData = z.object({
  code: z.string().openapi({ example: 'RATE_LIMITED' }),
  message: z.string(),
  retryable: z.boolean(),
  action: z.enum(PUBLICATION_ERROR_ACTIONS).optional(),
  platformCode: z.string().optional(),
})

const PublicationStatus = z.enum(PUBLICATION_STATUSES)

/** One publication of a post as events carry it (no content: fetch the post for that). */
const PublicationSummary = z.object({
  publicationId: z.string().openapi({ example: 'pub_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
  accountId: z.string(),
  platform: z.string().openapi({ example: 'x' }),
  status: PublicationStatus,
  platformPostId: z.string().nullable(),
  url: z.string().nullable(),
  publishedAt: instant().nullable(),
  error: PublicationErrorData.nullable(),
})

/** `data` of `post.*` events: the post's state after the change, with each publication. */
export const PostEventDataSchema = z
  .object({
    postId: z.string().openapi({ example: 'post_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    profileId: z.string(),
    status: z.enum(POST_STATUSES),
    scheduledAt: instant().nullable(),
    timezone: z.string().openapi({ example: 'Europe/Paris' }),
    seriesId: z.string().nullable(),
    publications: z.array(PublicationSummary),
  })
  .openapi('PostEventData')

/** `data` of `publication.*` events: the publication after its attempt ended. */
export const PublicationEventDataSchema = PublicationSummary.extend({
  postId: z.string(),
  profileId: z.string(),
  attempts: z.number().int(),
}).openapi('PublicationEventData')

/** `data` of `account.*` events: the connected account (never a token). */
export const AccountEventDataSchema = z
  .object({
    accountId: z.string().openapi({ example: 'acct_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    profileId: z.string(),
    platform: z.string().openapi({ example: 'linkedin' }),
    platformAccountId: z.string(),
    displayName: z.string(),
    username: z.string().nullable(),
    status: z.enum(ACCOUNT_STATUSES),
    statusReason: z.string().nullable().openapi({
      description: 'Why it needs attention: `token_expiring`, `refresh_refused`, `disconnected`…',
    }),
  })
  .openapi('AccountEventData')

/** `data` of `export.ready`: a personal data export can be downloaded. */
export const ExportReadyDataSchema = z
  .looseObject({
    exportId: z.string(),
    expiresAt: instant().openapi({ description: 'Until when it can be downloaded' }),
  })
  .openapi('ExportReadyData')

/** `data` of `policy.updated`: a new privacy policy version was published. */
export const PolicyUpdatedDataSchema = z
  .looseObject({
    version: z.string().openapi({ example: '2026-12-01' }),
    effectiveAt: instant().openapi({ description: 'When it takes effect' }),
  })
  .openapi('PolicyUpdatedData')

/**
 * Every event type with its description, the version of its `data` and that version's schema.
 * A type's schema only ever gains optional fields within a version; anything else is a new
 * version.
 */
export const EVENT_CATALOG = {
  'post.scheduled': {
    version: 1,
    data: PostEventDataSchema,
    description:
      'A post got a time to be published: created with one, given one as a draft, rescheduled, or published now (immediate posts emit it too, with a time of now).',
  },
  'post.published': {
    version: 1,
    data: PostEventDataSchema,
    description: 'Every publication of the post that was not canceled is published.',
  },
  'post.partially_published': {
    version: 1,
    data: PostEventDataSchema,
    description:
      'Every publication of the post has finished, some published and some failed or unconfirmed.',
  },
  'post.failed': {
    version: 1,
    data: PostEventDataSchema,
    description: 'Every publication of the post has finished and none was published.',
  },
  'post.canceled': {
    version: 1,
    data: PostEventDataSchema,
    description: 'The post was canceled before any of its publications started.',
  },
  'publication.published': {
    version: 1,
    data: PublicationEventDataSchema,
    description: 'A post is live on one account, with its platform id and URL.',
  },
  'publication.failed': {
    version: 1,
    data: PublicationEventDataSchema,
    description:
      'Publishing to one account failed for good; `error.action` says what to do (`reconnect`, `fix_content`, `retry_later`).',
  },
  'publication.processing': {
    version: 1,
    data: PublicationEventDataSchema,
    description:
      'The platform accepted the post and finishes it later (a video being processed, a post in moderation); a `publication.published` or `publication.failed` follows.',
  },
  'publication.unconfirmed': {
    version: 1,
    data: PublicationEventDataSchema,
    description:
      'The platform could not tell whether the post was made; check the account, then retry the publication if it is missing.',
  },
  'account.connected': {
    version: 1,
    data: AccountEventDataSchema,
    description: 'An account was connected to a profile, or connected again.',
  },
  'account.disconnected': {
    version: 1,
    data: AccountEventDataSchema,
    description: 'An account was disconnected; what was waiting for it is canceled.',
  },
  'account.reauth_required': {
    version: 1,
    data: AccountEventDataSchema,
    description:
      'An account needs its owner to reconnect it (its access expired or was withdrawn); nothing is published to it until then.',
  },
  'export.ready': {
    version: 1,
    data: ExportReadyDataSchema,
    description: 'A personal data export is ready to download.',
  },
  'policy.updated': {
    version: 1,
    data: PolicyUpdatedDataSchema,
    description: 'A new version of the privacy policy was published, ahead of taking effect.',
  },
} as const

/** The event types, in catalog order. */
export const EVENT_TYPES = Object.keys(EVENT_CATALOG) as EventType[]

/** The type of an event: `post.published`, `account.reauth_required`, … */
export type EventType = keyof typeof EVENT_CATALOG

/** The `data` of an event of type `T`. */
export type EventData<T extends EventType> = z.input<(typeof EVENT_CATALOG)[T]['data']>

/** Any event type, as query parameters and endpoint filters take it. */
export const EventTypeSchema = z
  .enum(Object.keys(EVENT_CATALOG) as [EventType, ...EventType[]])
  .openapi('EventType')

/** The envelope of every event of one type, as `GET /v1/events` lists it and webhooks send it. */
const envelope = <T extends EventType>(type: T) =>
  z.object({
    id: z.string().openapi({
      description: 'Stable id; also the `webhook-id` header of every delivery of the event',
      example: 'evt_mzxw6ytboi2dkmzvgq3tqnrvhe',
    }),
    type: z.literal(type),
    version: z.literal(EVENT_CATALOG[type].version).openapi({
      description: 'Version of the `data` schema of this type',
    }),
    timestamp: instant().openapi({ description: 'When it happened' }),
    workspaceId: z.string(),
    profileId: z
      .string()
      .nullable()
      .openapi({ description: 'The profile it concerns; null for workspace-wide events' }),
    data: EVENT_CATALOG[type].data,
  })

/** Names of the per-type envelope schemas in the OpenAPI document (`PostPublishedEvent`). */
const schemaName = (type: EventType) =>
  `${type
    .split(/[._]/)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('')}Event`

/** Each type's envelope, registered under its own name. */
export const EVENT_SCHEMAS = Object.fromEntries(
  EVENT_TYPES.map((type) => [type, envelope(type).openapi(schemaName(type))]),
) as { [T in EventType]: ReturnType<typeof envelope<T>> }

/** Any event: one of the per-type envelopes, told apart by `type`. */
export const EventSchema = z
  .discriminatedUnion(
    'type',
    EVENT_TYPES.map((type) => EVENT_SCHEMAS[type]) as unknown as [
      ReturnType<typeof envelope<EventType>>,
      ...ReturnType<typeof envelope<EventType>>[],
    ],
  )
  .openapi('Event')

/** An event as the API lists it and webhooks send it. */
export type EventPayload = z.output<typeof EventSchema>
