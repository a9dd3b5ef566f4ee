import { createRoute, z } from '@hono/zod-openapi'
import { requireTenant } from '../auth/middleware.ts'
import { AUTHENTICATED, idSchema, jsonBody, jsonResponse } from '../http/openapi-helpers.ts'
import { problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import { getPostingSchedule, previewFreeSlots, putPostingSchedule } from './schedules.ts'
import { cancelSeries, getSeries } from './series.ts'

const OffsetInstant = z.iso.datetime({ offset: true })

/** `recurrence` in a post creation request. */
export const RecurrenceInputSchema = z
  .object({
    rule: z.string().min(1).max(500).openapi({
      description:
        'An RFC 5545 RRULE without DTSTART, evaluated in the post’s `timezone` from `scheduledAt`: 09:00 stays 09:00 local across DST changes. End it with `COUNT` (≤ 1000) or `UNTIL` (`…Z` is an instant, otherwise a wall time in the timezone). Occurrences must be at least an hour apart; hourly rules must end.',
      example: 'FREQ=WEEKLY;BYDAY=MO;COUNT=10',
    }),
  })
  .strict()
  .openapi('RecurrenceCreate')

/** `recurrence` of a post: the series it belongs to. */
export const RecurrenceSchema = z
  .object({
    seriesId: z.string(),
    rule: z.string(),
    timezone: z.string(),
    status: z.enum(['active', 'ended', 'canceled']),
    nextOccurrenceAt: OffsetInstant.nullable().openapi({
      description: 'The next occurrence not yet created as a post',
    }),
  })
  .openapi('Recurrence')

const SlotSchema = z
  .object({
    weekday: z
      .number()
      .int()
      .min(1)
      .max(7)
      .openapi({ description: 'ISO weekday: 1 = Monday … 7 = Sunday', example: 1 }),
    time: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'must be HH:mm, 00:00 to 23:59' })
      .openapi({ description: 'Wall time in the schedule’s timezone', example: '09:00' }),
  })
  .strict()
  .openapi('PostingSlot')

const ScheduleSchema = z
  .object({
    profileId: z.string(),
    timezone: z.string().openapi({ example: 'Europe/Berlin' }),
    slots: z.array(SlotSchema),
    updatedAt: OffsetInstant.nullable().openapi({ description: 'Null until a schedule is set' }),
  })
  .openapi('PostingSchedule')

const SeriesSchema = z
  .object({
    id: z.string().openapi({ example: 'ser_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    profileId: z.string(),
    status: z.enum(['active', 'ended', 'canceled']),
    rule: z.string(),
    timezone: z.string(),
    startsAt: OffsetInstant,
    accountIds: z.array(z.string()),
    occurrences: z
      .number()
      .int()
      .openapi({ description: 'Occurrences reached so far (created as posts, or skipped)' }),
    lastOccurrenceAt: OffsetInstant.nullable(),
    upcoming: z
      .array(OffsetInstant)
      .openapi({ description: 'The next occurrences not yet created as posts (up to 5)' }),
    createdAt: OffsetInstant,
    canceledAt: OffsetInstant.nullable(),
  })
  .openapi('Series')

const ProfileParams = z.object({ profileId: idSchema('prof') })
const SeriesParams = z.object({ seriesId: idSchema('ser') })

const getScheduleRoute = createRoute({
  method: 'get',
  path: '/profiles/{profileId}/schedule',
  tags: ['Scheduling'],
  summary: 'Get a profile’s posting schedule',
  description:
    'Weekly slots in an IANA timezone; posts created with `queue: true` take the next free one. A profile without a schedule has no slots. Profile tokens may read their own profile’s.',
  security: AUTHENTICATED,
  request: { params: ProfileParams },
  responses: {
    200: jsonResponse('The posting schedule', ScheduleSchema),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'WORKSPACE_REQUIRED'),
  },
})

const putScheduleRoute = createRoute({
  method: 'put',
  path: '/profiles/{profileId}/schedule',
  tags: ['Scheduling'],
  summary: 'Set a profile’s posting schedule',
  description:
    'Replaces the weekly slots and their timezone. A slot skipped by a DST change moves on by the gap (02:30 → 03:30); one that happens twice is the first. Posts already queued keep their time. Needs the write scope (not a profile token).',
  security: AUTHENTICATED,
  request: {
    params: ProfileParams,
    body: jsonBody(
      z
        .object({
          timezone: z.string().max(100).openapi({ example: 'Europe/Berlin' }),
          slots: z.array(SlotSchema).max(336),
        })
        .strict()
        .openapi('PostingScheduleUpdate'),
    ),
  },
  responses: {
    200: jsonResponse('The posting schedule', ScheduleSchema),
    ...problemResponses(
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'NOT_FOUND',
      'VALIDATION_FAILED',
      'WORKSPACE_REQUIRED',
    ),
  },
})

const previewSlotsRoute = createRoute({
  method: 'get',
  path: '/profiles/{profileId}/schedule/slots',
  tags: ['Scheduling'],
  summary: 'Preview the next free slots',
  description:
    'The next slots of the posting schedule that no post of the profile has taken, as instants with the schedule timezone’s offset: where the next `queue: true` posts would go.',
  security: AUTHENTICATED,
  request: {
    params: ProfileParams,
    query: z.object({
      count: z.coerce.number().int().min(1).max(100).default(10).openapi({ example: 10 }),
    }),
  },
  responses: {
    200: jsonResponse(
      'The next free slots',
      z
        .object({
          timezone: z.string(),
          data: z.array(z.object({ at: OffsetInstant })),
        })
        .openapi('FreeSlots'),
    ),
    ...problemResponses(
      'UNAUTHENTICATED',
      'FORBIDDEN',
      'NOT_FOUND',
      'VALIDATION_FAILED',
      'WORKSPACE_REQUIRED',
    ),
  },
})

const getSeriesRoute = createRoute({
  method: 'get',
  path: '/series/{seriesId}',
  tags: ['Scheduling'],
  summary: 'Get a recurring series',
  description:
    'The rule, timezone and state of a series made by creating a post with `recurrence`, and its next occurrences. Its posts carry its id as `seriesId`.',
  security: AUTHENTICATED,
  request: { params: SeriesParams },
  responses: {
    200: jsonResponse('The series', SeriesSchema),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'WORKSPACE_REQUIRED'),
  },
})

const cancelSeriesRoute = createRoute({
  method: 'post',
  path: '/series/{seriesId}/cancel',
  tags: ['Scheduling'],
  summary: 'Cancel a recurring series',
  description:
    'No further occurrence is created, and the series’ posts that have not started publishing are canceled; published ones stay. Canceling again changes nothing.',
  security: AUTHENTICATED,
  request: { params: SeriesParams },
  responses: {
    200: jsonResponse(
      'The canceled series',
      SeriesSchema.extend({
        canceledPosts: z
          .number()
          .int()
          .openapi({ description: 'Posts of the series canceled by this call' }),
      }).openapi('SeriesCanceled'),
    ),
    ...problemResponses('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'WORKSPACE_REQUIRED'),
  },
})

/** Posting schedules (queue slots) of profiles, and recurring series. */
export function schedulingRoutes() {
  return createRouter()
    .openapi(getScheduleRoute, async (c) => {
      const tenant = await requireTenant(c, 'read', { profileTokens: true })
      return c.json(
        await getPostingSchedule(c.var.services, tenant, c.req.valid('param').profileId),
        200,
      )
    })
    .openapi(putScheduleRoute, async (c) => {
      const tenant = await requireTenant(c, 'write')
      return c.json(
        await putPostingSchedule(
          c.var.services,
          tenant,
          c.req.valid('param').profileId,
          c.req.valid('json'),
        ),
        200,
      )
    })
    .openapi(previewSlotsRoute, async (c) => {
      const tenant = await requireTenant(c, 'read', { profileTokens: true })
      return c.json(
        await previewFreeSlots(
          c.var.services,
          tenant,
          c.req.valid('param').profileId,
          c.req.valid('query').count,
        ),
        200,
      )
    })
    .openapi(getSeriesRoute, async (c) => {
      const tenant = await requireTenant(c, 'read', { profileTokens: true })
      return c.json(await getSeries(c.var.services, tenant, c.req.valid('param').seriesId), 200)
    })
    .openapi(cancelSeriesRoute, async (c) => {
      const tenant = await requireTenant(c, 'write', { profileTokens: true })
      return c.json(await cancelSeries(c.var.services, tenant, c.req.valid('param').seriesId), 200)
    })
}
