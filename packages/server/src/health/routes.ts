import { createRoute, z } from '@hono/zod-openapi'
import { ProblemError } from '../errors/problem.ts'
import { problemResponses } from '../http/problem.ts'
import { createRouter } from '../http/router.ts'
import type { ReadinessReport } from './readiness.ts'

const CheckSchema = z.object({ ok: z.boolean(), detail: z.string() })
const ChecksSchema = z
  .object({ database: CheckSchema, migrations: CheckSchema, worker: CheckSchema })
  .openapi('ReadinessChecks')

const healthzRoute = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['Operations'],
  summary: 'Liveness',
  description:
    'Answers 200 while the process is alive, whatever the state of its dependencies (a database that is restarting included); 503 once it can never serve again (the embedded PostgreSQL stopped and could not be restarted), so that it is restarted.',
  responses: {
    200: {
      description: 'The process is alive',
      content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
    },
    ...problemResponses('DATABASE_UNAVAILABLE'),
  },
})

const readyzRoute = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['Operations'],
  summary: 'Readiness',
  description:
    'Answers 200 when the database answers, its schema is current and a worker sent a heartbeat recently; otherwise 503 with the failing checks.',
  responses: {
    200: {
      description: 'Ready to serve',
      content: {
        'application/json': {
          schema: z
            .object({ status: z.literal('ready'), checks: ChecksSchema })
            .openapi('Readiness'),
        },
      },
    },
    ...problemResponses('NOT_READY'),
  },
})

/** `/healthz` and `/readyz`, for load balancers and orchestrators. */
export function healthRoutes(deps: {
  checkReadiness: () => Promise<ReadinessReport>
  /** Why the process can never serve again, when it cannot. */
  checkLiveness?: (() => string | undefined) | undefined
}) {
  return createRouter()
    .openapi(healthzRoute, (c) => {
      const dead = deps.checkLiveness?.()
      if (dead) throw new ProblemError('DATABASE_UNAVAILABLE', dead)
      return c.json({ status: 'ok' as const }, 200)
    })
    .openapi(readyzRoute, async (c) => {
      const report = await deps.checkReadiness()
      if (!report.ready) {
        const failing = Object.entries(report.checks)
          .filter(([, check]) => !check.ok)
          .map(([name, check]) => `${name}: ${check.detail}`)
        throw new ProblemError('NOT_READY', failing.join('; '), { checks: report.checks })
      }
      return c.json({ status: 'ready' as const, checks: report.checks }, 200)
    })
}
