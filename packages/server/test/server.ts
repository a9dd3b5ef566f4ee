import { afterAll } from 'vitest'
import type { Config } from '../src/config/config.ts'
import type { PostScheduler, PostSchedulerOptions } from '../src/post-scheduler.ts'
import type { Services } from '../src/services.ts'
import { startTestServer as startServer } from '../src/testing.ts'
import { createTestDatabase } from './database.ts'

export { MailRecorder } from '../src/testing.ts'

/**
 * Starts a Post Scheduler (no listener; API only unless `worker`) on a database of its own (or the
 * one given), with a mail recorder, and stops it after the file's tests.
 */
export async function startTestServer(
  overrides: Partial<Config> = {},
  options: {
    worker?: boolean
    platforms?: PostSchedulerOptions['platforms']
    /** A database of the test's own (a PostgreSQL it restarts); a fresh copy by default. */
    databaseURL?: string
  } = {},
) {
  const server = await startServer({
    databaseURL: options.databaseURL ?? (await createTestDatabase()),
    config: overrides,
    worker: options.worker ?? false,
    listen: false,
    platforms: options.platforms,
  })
  afterAll(() => server.stop())
  return server
}

/**
 * The running server's own services (database, queue, platforms, storage), for calling jobs
 * directly with an injected clock or faulty dependencies: read through a route added for the
 * purpose, since `createPostScheduler` does not expose them. Call it before the server's first
 * request (routes cannot be added once the router has been built).
 */
export async function servicesOf(server: { scheduler: PostScheduler }): Promise<Services> {
  let captured: Services | undefined
  server.scheduler.app.get('/v1/__test/services', (c) => {
    captured = c.var.services
    return c.body(null, 204)
  })
  await server.scheduler.app.request('/v1/__test/services')
  if (!captured) throw new Error('the services could not be read (was a request made before?)')
  return captured
}
