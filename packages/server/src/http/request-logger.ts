import type { MiddlewareHandler } from 'hono'
import type { Logger } from '../logging/logger.ts'

const PROBES = new Set(['/healthz', '/readyz'])

/**
 * Logs one line per request with its id, method, path, status and duration. Health probes log at
 * debug level so orchestrators polling them do not flood the log.
 */
export function requestLogger(logger: Logger): MiddlewareHandler {
  return async (c, next) => {
    const startedAt = performance.now()
    await next()
    const status = c.res.status
    const line = {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status,
      durationMs: Math.round((performance.now() - startedAt) * 10) / 10,
    }
    if (status >= 500) logger.error(line, 'request failed')
    else if (PROBES.has(c.req.path)) logger.debug(line, 'request')
    else logger.info(line, 'request')
  }
}
