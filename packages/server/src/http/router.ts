import { OpenAPIHono } from '@hono/zod-openapi'
import type { RequestIdVariables } from 'hono/request-id'
import type { Principal } from '../auth/principal.ts'
import { findUnstorableText } from '../db/text.ts'
import { type Issue, type IssueLocation, ProblemError } from '../errors/problem.ts'
import type { Services } from '../services.ts'

/** Context variables every handler can read. */
export type AppEnv = {
  Variables: RequestIdVariables & {
    /** The caller's address (see `TRUST_PROXY`). */
    clientIP: string
    /** Database, mail and configuration; set on every `/v1` request. */
    services: Services
    /** Who is calling, when they sent valid credentials; set on every `/v1` request. */
    principal: Principal | undefined
  }
}

const LOCATIONS: Record<string, IssueLocation> = {
  json: 'body',
  form: 'body',
  query: 'query',
  param: 'path',
  header: 'header',
  cookie: 'cookie',
}

/**
 * Creates a router whose request validation failures become `422 VALIDATION_FAILED` problems
 * listing every issue with its location and path. Every route module starts from one of these.
 * Valid values are then checked for text PostgreSQL cannot store (NUL, unpaired surrogates) in
 * any string or key of the path, query, headers and body, so no route schema has to repeat it.
 *
 * @example
 * ```ts
 * export const postRoutes = createRouter().openapi(createPostRoute, handler)
 * ```
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      const location = LOCATIONS[result.target] ?? 'body'
      if (!result.success) throw validationProblem(result.error.issues, location)
      refuseUnstorableText(result.data, location)
    },
  })
}

/**
 * Throws `422 VALIDATION_FAILED` naming every string (or key) in `value` that PostgreSQL cannot
 * store: NUL, or an unpaired UTF-16 surrogate. The router applies it to every validated request
 * value; routes that parse a body themselves (multipart) apply it to what they read.
 *
 * @example
 * ```ts
 * refuseUnstorableText({ altText: fields.altText }, 'body')
 * ```
 */
export function refuseUnstorableText(value: unknown, location: IssueLocation): void {
  const unstorable = findUnstorableText(value)
  if (unstorable.length === 0) return
  throw validationProblem(
    unstorable.map((path) => ({
      path,
      code: 'invalid_characters',
      message: 'must not contain NUL characters or unpaired UTF-16 surrogates',
    })),
    location,
  )
}

function validationProblem(
  found: { path: PropertyKey[]; code: string; message: string }[],
  location: IssueLocation,
) {
  const issues: Issue[] = found.map((issue) => ({
    location,
    path: issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment))),
    code: issue.code,
    message: issue.message,
  }))
  const count = issues.length === 1 ? '1 invalid value' : `${issues.length} invalid values`
  return new ProblemError('VALIDATION_FAILED', `The request has ${count}; see issues`, { issues })
}
