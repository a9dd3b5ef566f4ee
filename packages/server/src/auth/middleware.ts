import { and, eq } from 'drizzle-orm'
import type { Context, MiddlewareHandler } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { Actor } from '../audit/record.ts'
import { coalescePerDatabase } from '../db/coalesce.ts'
import { workspaceMembers } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import { SESSION_COOKIE, WORKSPACE_HEADER } from '../http/headers.ts'
import type { AppEnv } from '../http/router.ts'
import {
  findApiKeys,
  type Principal,
  resolvePrincipal,
  type Scope,
  type TenantContext,
  type UserContext,
} from './principal.ts'

const ROLE_SCOPES: Record<'owner' | 'admin' | 'member', Scope[]> = {
  owner: ['read', 'write', 'admin'],
  admin: ['read', 'write', 'admin'],
  member: ['read', 'write'],
}

/**
 * Resolves the caller from `Authorization: Bearer …` or, for browsers, the session cookie. Bad
 * bearer credentials are refused at once; a stale cookie only makes the request anonymous (and is
 * cleared), so public routes keep working. The API keys of requests arriving while a lookup runs
 * are looked up together in the next statement (no cache: each request sees the key as stored
 * after it arrived).
 */
export function authenticate(): MiddlewareHandler<AppEnv> {
  const findApiKey = coalescePerDatabase(findApiKeys)
  return async (c, next) => {
    const header = c.req.header('authorization')
    if (header !== undefined) {
      const [scheme, secret] = header.split(' ')
      if (scheme?.toLowerCase() !== 'bearer' || !secret) {
        throw new ProblemError('UNAUTHENTICATED', 'Use "Authorization: Bearer <secret>"')
      }
      const { db } = c.var.services
      c.set(
        'principal',
        await resolvePrincipal(db, secret, {
          findApiKey: (hash) => findApiKey(db, hash),
        }),
      )
    } else {
      const cookie = getCookie(c, SESSION_COOKIE)
      c.set(
        'principal',
        cookie
          ? await resolvePrincipal(c.var.services.db, cookie).catch(() => {
              deleteCookie(c, SESSION_COOKIE, { path: '/', secure: true })
              return undefined
            })
          : undefined,
      )
    }
    await next()
  }
}

/** Sets the browser session cookie: HttpOnly, Secure, SameSite=Lax. */
export function setSessionCookie(c: Context, token: string, expiresAt: Date) {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    secure: true,
    sameSite: 'Lax',
    path: '/',
    expires: expiresAt,
  })
}

export function clearSessionCookie(c: Context) {
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure: true })
}

/** The audit actor for the current request. */
export function actorOf(c: Context<AppEnv>): Actor {
  const principal = c.var.principal
  const base = { ip: c.var.clientIP, requestId: c.var.requestId }
  if (!principal) return { type: 'anonymous', id: undefined, ...base }
  return { type: principal.type, id: principalId(principal), ...base }
}

const principalId = (principal: Principal) =>
  principal.type === 'user'
    ? principal.userId
    : principal.type === 'api_key'
      ? principal.apiKeyId
      : principal.tokenId

/**
 * Requires a signed-in person (session cookie or session bearer token).
 *
 * @throws {ProblemError} `UNAUTHENTICATED` otherwise (API keys and profile tokens included).
 */
export function requireUser(c: Context<AppEnv>): UserContext {
  const principal = c.var.principal
  if (principal?.type !== 'user') {
    throw new ProblemError(
      'UNAUTHENTICATED',
      principal
        ? 'This operation needs a signed-in person, not an API key or profile token'
        : 'Sign in first',
    )
  }
  return { userId: principal.userId, sessionId: principal.sessionId, actor: actorOf(c) }
}

/**
 * Requires a caller allowed `scope` in a workspace: an API key with the scope, a member whose role
 * grants it (the workspace named in the path, else in the `Post-Scheduler-Workspace` header, else
 * their only one), or — when `profileTokens` is set — a profile token with the scope.
 *
 * @throws {ProblemError} `UNAUTHENTICATED`, `WORKSPACE_REQUIRED` or `FORBIDDEN`.
 */
export async function requireTenant(
  c: Context<AppEnv>,
  scope: Scope,
  options: { profileTokens?: boolean; workspaceId?: string } = {},
): Promise<TenantContext> {
  const tenant = await resolveTenant(c, scope, options)
  // A workspace named in the path must be the caller's own; any other is "not found".
  if (options.workspaceId !== undefined && options.workspaceId !== tenant.workspaceId) {
    throw new ProblemError('NOT_FOUND', `No workspace ${options.workspaceId} among yours`)
  }
  return tenant
}

async function resolveTenant(
  c: Context<AppEnv>,
  scope: Scope,
  options: { profileTokens?: boolean; workspaceId?: string },
): Promise<TenantContext> {
  const principal = c.var.principal
  if (!principal)
    throw new ProblemError('UNAUTHENTICATED', 'Send an API key, session or profile token')
  const actor = actorOf(c)
  if (principal.type === 'api_key') {
    assertScope(principal.scopes, scope)
    return {
      workspaceId: principal.workspaceId,
      profileId: undefined,
      scopes: principal.scopes,
      actor,
    }
  }
  if (principal.type === 'profile_token') {
    if (!options.profileTokens) {
      throw new ProblemError('FORBIDDEN', 'Profile tokens cannot use this operation')
    }
    assertScope(principal.scopes, scope)
    return {
      workspaceId: principal.workspaceId,
      profileId: principal.profileId,
      scopes: principal.scopes,
      actor,
    }
  }
  const db = c.var.services.db
  const requested = options.workspaceId ?? c.req.header(WORKSPACE_HEADER)
  const memberships = await db
    .select({ workspaceId: workspaceMembers.workspaceId, role: workspaceMembers.role })
    .from(workspaceMembers)
    .where(
      requested
        ? and(
            eq(workspaceMembers.userId, principal.userId),
            eq(workspaceMembers.workspaceId, requested),
          )
        : eq(workspaceMembers.userId, principal.userId),
    )
  if (requested && memberships.length === 0) {
    throw new ProblemError('NOT_FOUND', `No workspace ${requested} among yours`)
  }
  const [membership] = memberships
  if (!membership) throw new ProblemError('WORKSPACE_REQUIRED', 'Create or join a workspace first')
  if (memberships.length > 1) {
    throw new ProblemError(
      'WORKSPACE_REQUIRED',
      `You belong to several workspaces; name one in the ${WORKSPACE_HEADER} header`,
    )
  }
  const scopes = ROLE_SCOPES[membership.role]
  assertScope(scopes, scope)
  return { workspaceId: membership.workspaceId, profileId: undefined, scopes, actor }
}

function assertScope(scopes: Scope[], scope: Scope) {
  if (!scopes.includes(scope)) {
    throw new ProblemError('FORBIDDEN', `This operation needs the "${scope}" scope`)
  }
}
