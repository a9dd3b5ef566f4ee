import { createRoute, z } from '@hono/zod-openapi'
import { actorOf, requireUser } from '../auth/middleware.ts'
import {
  AUTHENTICATED,
  EmailSchema,
  jsonBody,
  jsonResponse,
  LocaleSchema,
  PUBLIC,
  TimezoneSchema,
} from '../http/openapi-helpers.ts'
import { problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import {
  changePassword,
  confirmPasswordReset,
  getMe,
  redeemEmailToken,
  requestPasswordReset,
  signUp,
  updateMe,
} from './service.ts'

const NameSchema = z.string().trim().min(1).max(200).openapi({ example: 'Ada Lovelace' })
const PasswordSchema = z
  .string()
  .max(256)
  .openapi({ description: 'At least 10 characters, not a common password' })

export const UserSchema = z
  .object({
    id: z.string().openapi({ example: 'usr_mzxw6ytboi2dkmzvgq3tqnrvhe' }),
    name: z.string(),
    email: z.string(),
    emailVerified: z.boolean(),
    pendingEmail: z
      .string()
      .nullable()
      .openapi({ description: 'A new address awaiting confirmation' }),
    locale: z.string(),
    timezone: z.string(),
    createdAt: z.iso.datetime({ offset: true }),
  })
  .openapi('User')

const AcceptedSchema = z.object({ message: z.string() }).openapi('Accepted')
const TokenBodySchema = z.object({ token: z.string().min(1).max(200) })

const signUpRoute = createRoute({
  method: 'post',
  path: '/users',
  tags: ['Users'],
  summary: 'Sign up',
  description:
    'Creates an account and emails a code to confirm the address. Answers the same when the address already has an account (its owner is told by email). The date of birth is checked and not stored.',
  security: PUBLIC,
  request: {
    body: jsonBody(
      z
        .object({
          name: NameSchema,
          email: EmailSchema,
          password: PasswordSchema,
          dateOfBirth: z.iso.date().openapi({ example: '1990-12-10' }),
        })
        .openapi('SignUp'),
    ),
  },
  responses: {
    202: jsonResponse('Check your email to confirm the address', AcceptedSchema),
    ...problemResponses('VALIDATION_FAILED', 'SIGN_UP_REFUSED', 'RATE_LIMITED'),
  },
})

const verifyEmailRoute = createRoute({
  method: 'post',
  path: '/users/verify-email',
  tags: ['Users'],
  summary: 'Confirm an email address',
  description: 'Redeems the code emailed at sign-up or after an address change.',
  security: PUBLIC,
  request: { body: jsonBody(TokenBodySchema) },
  responses: {
    200: jsonResponse('The address is confirmed', UserSchema),
    ...problemResponses('TOKEN_INVALID', 'CONFLICT'),
  },
})

const requestResetRoute = createRoute({
  method: 'post',
  path: '/password-resets',
  tags: ['Users'],
  summary: 'Ask for a password reset code',
  description: 'Emails a code when the address has an account; answers the same either way.',
  security: PUBLIC,
  request: { body: jsonBody(z.object({ email: EmailSchema })) },
  responses: {
    202: jsonResponse('If the address has an account, a code is on its way', AcceptedSchema),
    ...problemResponses('VALIDATION_FAILED', 'RATE_LIMITED'),
  },
})

const confirmResetRoute = createRoute({
  method: 'post',
  path: '/password-resets/confirm',
  tags: ['Users'],
  summary: 'Set a new password with a reset code',
  description: 'Every session of the account is signed out.',
  security: PUBLIC,
  request: {
    body: jsonBody(z.object({ token: z.string().min(1).max(200), newPassword: PasswordSchema })),
  },
  responses: {
    204: { description: 'The password is changed' },
    ...problemResponses('TOKEN_INVALID', 'VALIDATION_FAILED'),
  },
})

const getMeRoute = createRoute({
  method: 'get',
  path: '/me',
  tags: ['Users'],
  summary: 'Who am I',
  security: AUTHENTICATED,
  responses: {
    200: jsonResponse('The signed-in person', UserSchema),
    ...problemResponses('UNAUTHENTICATED'),
  },
})

const patchMeRoute = createRoute({
  method: 'patch',
  path: '/me',
  tags: ['Users'],
  summary: 'Correct my details',
  description:
    'A new email address takes effect once confirmed with the code sent to it; the current address is told.',
  security: AUTHENTICATED,
  request: {
    body: jsonBody(
      z
        .object({
          name: NameSchema.optional(),
          email: EmailSchema.optional(),
          locale: LocaleSchema.optional(),
          timezone: TimezoneSchema.optional(),
        })
        .strict()
        .openapi('UserUpdate'),
    ),
  },
  responses: {
    200: jsonResponse('The updated person', UserSchema),
    ...problemResponses('UNAUTHENTICATED', 'VALIDATION_FAILED'),
  },
})

const changePasswordRoute = createRoute({
  method: 'post',
  path: '/me/password',
  tags: ['Users'],
  summary: 'Change my password',
  description: 'Needs the current password. Every other session is signed out.',
  security: AUTHENTICATED,
  request: {
    body: jsonBody(z.object({ currentPassword: z.string().max(256), newPassword: PasswordSchema })),
  },
  responses: {
    204: { description: 'The password is changed' },
    ...problemResponses('UNAUTHENTICATED', 'INVALID_CREDENTIALS', 'VALIDATION_FAILED'),
  },
})

/** Sign-up, email confirmation, password resets and the signed-in person's own details. */
export function userRoutes() {
  return createRouter()
    .openapi(signUpRoute, async (c) => {
      await signUp(c.var.services, c.req.valid('json'), actorOf(c))
      return c.json({ message: 'Check your email to confirm your address' }, 202)
    })
    .openapi(verifyEmailRoute, async (c) => {
      const user = await redeemEmailToken(c.var.services, c.req.valid('json').token, actorOf(c))
      return c.json(await getMe(c.var.services, user.id), 200)
    })
    .openapi(requestResetRoute, async (c) => {
      await requestPasswordReset(c.var.services, c.req.valid('json').email, actorOf(c))
      return c.json({ message: 'If this address has an account, a code is on its way' }, 202)
    })
    .openapi(confirmResetRoute, async (c) => {
      await confirmPasswordReset(c.var.services, c.req.valid('json'), actorOf(c))
      return c.body(null, 204)
    })
    .openapi(getMeRoute, async (c) => {
      const user = requireUser(c)
      return c.json(await getMe(c.var.services, user.userId), 200)
    })
    .openapi(patchMeRoute, async (c) => {
      const user = requireUser(c)
      return c.json(
        await updateMe(c.var.services, user.userId, c.req.valid('json'), user.actor),
        200,
      )
    })
    .openapi(changePasswordRoute, async (c) => {
      const user = requireUser(c)
      await changePassword(c.var.services, user, c.req.valid('json'), user.actor)
      return c.body(null, 204)
    })
}
