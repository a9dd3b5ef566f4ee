import { OpenAPIHono } from '@hono/zod-openapi'
import type { RequestIdVariables } from 'hono/request-id'
import type { ZodError } from 'zod'
import type { Principal } from '../auth/principal.ts'
import type { Services } from '../services.ts'
import { type Issue, type IssueLocation, ProblemError } from './problem.ts'

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
 *
 * @example
 * ```ts
 * export const postRoutes = createRouter().openapi(createPostRoute, handler)
 * ```
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw validationProblem(result.error, LOCATIONS[result.target] ?? 'body')
      }
    },
  })
}

function validationProblem(error: ZodError, location: IssueLocation) {
  const issues: Issue[] = error.issues.map((issue) => ({
    location,
    path: issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment))),
    code: issue.code,
    message: issue.message,
  }))
  const count = issues.length === 1 ? '1 invalid value' : `${issues.length} invalid values`
  return new ProblemError('VALIDATION_FAILED', `The request has ${count}; see issues`, { issues })
}
