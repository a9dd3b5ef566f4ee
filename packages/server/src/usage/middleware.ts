import type { MiddlewareHandler } from 'hono'
import { routePath } from 'hono/route'
import type { AppEnv } from '../http/router.ts'
import { type UsageEvent, writeUsageEvents } from './events.ts'

/**
 * Middleware recording which features callers use: one event per successful `/v1` request,
 * named by its route template (`POST /v1/posts`), and `post.scheduled` for each post created.
 * The event is written after the response, off the request's path, together with the events of
 * other requests that end while a write is running (one statement for them all, no added wait);
 * a failure is only logged.
 *
 * @example
 * ```ts
 * createRouter().use('*', usageTracking()).route('/', postRoutes())
 * ```
 */
export function usageTracking(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next()
    if (c.res.status >= 400) return
    const principal = c.var.principal
    if (!principal) return
    const route = routePath(c)
    if (!route || route === '/*' || route.endsWith('*')) return
    const feature = `${c.req.method} ${route}`
    const event: UsageEvent = {
      type:
        feature === 'POST /v1/posts' && c.res.status === 201 ? 'post.scheduled' : 'feature.used',
      feature,
      workspaceId: principal.type === 'user' ? undefined : principal.workspaceId,
      userId: principal.type === 'user' ? principal.userId : undefined,
    }
    const { db, logger } = c.var.services
    writeUsageEvents(db, event).catch((error: unknown) =>
      logger.warn({ err: error, feature }, 'a usage event could not be recorded'),
    )
  }
}
