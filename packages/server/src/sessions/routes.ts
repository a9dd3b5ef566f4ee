import { createRoute, z } from '@hono/zod-openapi'
import { actorOf, clearSessionCookie, requireUser, setSessionCookie } from '../auth/middleware.ts'
import {
  AUTHENTICATED,
  EmailSchema,
  idSchema,
  jsonBody,
  jsonResponse,
  PUBLIC,
} from '../http/openapi-helpers.ts'
import { problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import { listSessions, revokeSession, signIn } from './service.ts'

const SessionSchema = z
  .object({
    id: z.string().openapi({ example: 'ses_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    userAgent: z.string().nullable(),
    ip: z.string().nullable(),
    createdAt: z.iso.datetime({ offset: true }),
    lastSeenAt: z.iso.datetime({ offset: true }),
    expiresAt: z.iso.datetime({ offset: true }),
    current: z.boolean().openapi({ description: 'Whether this is the session making the request' }),
  })
  .openapi('Session')

const signInRoute = createRoute({
  method: 'post',
  path: '/sessions',
  tags: ['Sessions'],
  summary: 'Sign in',
  description:
    'Returns a session token (shown once) and sets it as an HttpOnly, Secure, SameSite=Lax cookie for browsers; other clients send it as `Authorization: Bearer <token>`. A sign-in from a new device is announced by email.',
  security: PUBLIC,
  request: {
    body: jsonBody(
      z.object({ email: EmailSchema, password: z.string().max(256) }).openapi('SignIn'),
    ),
  },
  responses: {
    201: jsonResponse(
      'Signed in',
      z
        .object({ token: z.string().openapi({ example: 'pss_…' }), session: SessionSchema })
        .openapi('SignedIn'),
    ),
    ...problemResponses('INVALID_CREDENTIALS', 'VALIDATION_FAILED', 'RATE_LIMITED'),
  },
})

const listRoute = createRoute({
  method: 'get',
  path: '/sessions',
  tags: ['Sessions'],
  summary: 'List my sessions',
  description: 'Active sessions with their device and address.',
  security: AUTHENTICATED,
  responses: {
    200: jsonResponse(
      'Active sessions, most recently used first',
      z.object({ data: z.array(SessionSchema) }),
    ),
    ...problemResponses('UNAUTHENTICATED'),
  },
})

const signOutRoute = createRoute({
  method: 'delete',
  path: '/sessions/current',
  tags: ['Sessions'],
  summary: 'Sign out',
  security: AUTHENTICATED,
  responses: { 204: { description: 'Signed out' }, ...problemResponses('UNAUTHENTICATED') },
})

const revokeRoute = createRoute({
  method: 'delete',
  path: '/sessions/{sessionId}',
  tags: ['Sessions'],
  summary: 'Revoke one of my sessions',
  security: AUTHENTICATED,
  request: { params: z.object({ sessionId: idSchema('ses') }) },
  responses: {
    204: { description: 'The session has ended' },
    ...problemResponses('UNAUTHENTICATED', 'NOT_FOUND'),
  },
})

/** Sign-in, sign-out and the person's sessions. */
export function sessionRoutes() {
  return createRouter()
    .openapi(signInRoute, async (c) => {
      const result = await signIn(
        c.var.services,
        c.req.valid('json'),
        { userAgent: c.req.header('user-agent') },
        actorOf(c),
      )
      setSessionCookie(c, result.token, new Date(result.session.expiresAt))
      return c.json(result, 201)
    })
    .openapi(listRoute, async (c) => {
      const user = requireUser(c)
      return c.json({ data: await listSessions(c.var.services, user) }, 200)
    })
    .openapi(signOutRoute, async (c) => {
      const user = requireUser(c)
      await revokeSession(c.var.services, user, user.sessionId, user.actor)
      clearSessionCookie(c)
      return c.body(null, 204)
    })
    .openapi(revokeRoute, async (c) => {
      const user = requireUser(c)
      await revokeSession(c.var.services, user, c.req.valid('param').sessionId, user.actor)
      return c.body(null, 204)
    })
}
