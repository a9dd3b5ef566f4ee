import { readFile } from 'node:fs/promises'
import { request as httpsRequest } from 'node:https'
import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { testConfig } from '../test/config.ts'
import { createTestDatabase } from '../test/database.ts'
import { StartupError } from './errors/startup.ts'
import { createPostScheduler, type PostScheduler } from './post-scheduler.ts'

const started: PostScheduler[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map((scheduler) => scheduler.stop()))
})

function track(scheduler: PostScheduler) {
  started.push(scheduler)
  return scheduler
}

describe('createPostScheduler', () => {
  it('listens on a free port and serves the app over HTTP', async () => {
    const scheduler = track(createPostScheduler({ config: testConfig(await createTestDatabase()) }))
    const { url } = await scheduler.start()
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const response = await fetch(`${url}/readyz`)
    expect(response.status).toBe(200)
  })

  it('lets in-flight requests finish before stop() resolves', async () => {
    const scheduler = track(createPostScheduler({ config: testConfig(await createTestDatabase()) }))
    let release = () => {}
    let arrived = () => {}
    const requestArrived = new Promise<void>((resolve) => {
      arrived = resolve
    })
    scheduler.app.get('/test/slow', async (c) => {
      arrived()
      await new Promise<void>((resolve) => {
        release = resolve
      })
      return c.text('finished')
    })
    const { url } = await scheduler.start()

    const response = fetch(`${url}/test/slow`)
    await requestArrived
    let stopped = false
    const stopping = scheduler.stop().then(() => {
      stopped = true
    })
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(stopped).toBe(false)
    await expect(fetch(`${url}/healthz`)).rejects.toThrow()

    release()
    expect(await (await response).text()).toBe('finished')
    await stopping
    expect(stopped).toBe(true)
  })

  it('keeps serving after readiness turns 503 until the drain delay is over, then stops accepting', async () => {
    const scheduler = track(
      createPostScheduler({
        config: testConfig(await createTestDatabase(), { shutdownDrainSeconds: 1 }),
      }),
    )
    const { url } = await scheduler.start({ worker: false })
    const stopping = scheduler.stop()
    const readiness = await fetch(`${url}/readyz`)
    expect(readiness.status).toBe(503)
    expect(readiness.headers.get('connection')).toBe('close')
    // Still served during the drain, with the request's services (not NOT_READY).
    const during = await fetch(`${url}/v1/me`)
    expect(during.status).toBe(401)
    expect(during.headers.get('connection')).toBe('close')
    await stopping
    await expect(fetch(`${url}/healthz`)).rejects.toThrow()
  })

  it('serves HTTPS when given a certificate and key', async () => {
    const scheduler = track(
      createPostScheduler({
        config: testConfig(await createTestDatabase(), {
          tls: {
            certFile: new URL('../test/fixtures/tls-cert.pem', import.meta.url).pathname,
            keyFile: new URL('../test/fixtures/tls-key.pem', import.meta.url).pathname,
          },
        }),
      }),
    )
    const { url } = await scheduler.start({ worker: false })
    expect(url).toMatch(/^https:\/\//)
    const ca = await readFile(new URL('../test/fixtures/tls-cert.pem', import.meta.url))
    const { status, hsts } = await new Promise<{ status?: number; hsts?: string | string[] }>(
      (resolve, reject) => {
        httpsRequest(`${url}/healthz`, { ca }, (response) => {
          response.resume()
          resolve({
            status: response.statusCode,
            hsts: response.headers['strict-transport-security'],
          })
        })
          .on('error', reject)
          .end()
      },
    )
    expect(status).toBe(200)
    expect(hsts).toBe('max-age=63072000; includeSubDomains')
  })

  it('fails to start with a clear StartupError when the port is taken, and releases what it opened', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      const databaseURL = await createTestDatabase()
      const scheduler = createPostScheduler({ config: testConfig(databaseURL, { port }) })
      const failure = scheduler.start()
      await expect(failure).rejects.toThrow(StartupError)
      await expect(failure).rejects.toThrow(
        `Cannot listen on 127.0.0.1:${port}: port ${port} is already in use; set PORT to a free port`,
      )
      // Nothing it opened stays behind: stop() has nothing left to do and resolves at once.
      await scheduler.stop()
    } finally {
      blocker.close()
    }
  })

  it('refuses unreadable TLS files with a StartupError naming the variable', async () => {
    const scheduler = createPostScheduler({
      config: testConfig(await createTestDatabase(), {
        tls: { certFile: '/nonexistent/cert.pem', keyFile: '/nonexistent/key.pem' },
      }),
    })
    await expect(scheduler.start()).rejects.toThrow(
      /Cannot read TLS_CERT_FILE \/nonexistent\/cert\.pem/,
    )
  })

  it('refuses a database that does not answer with a StartupError naming it without its password', async () => {
    const scheduler = createPostScheduler({
      config: testConfig('postgres://app:hunter2@127.0.0.1:1/app'),
    })
    const failure = scheduler.start()
    await expect(failure).rejects.toThrow(StartupError)
    await expect(failure).rejects.toThrow(
      /^Cannot connect to PostgreSQL at postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/app: .*ECONNREFUSED/,
    )
  })

  it('can be stopped more than once, and before it started', async () => {
    const idle = createPostScheduler({ config: testConfig(await createTestDatabase()) })
    await idle.stop()
    const scheduler = createPostScheduler({ config: testConfig(await createTestDatabase()) })
    await scheduler.start({ listen: false })
    await Promise.all([scheduler.stop(), scheduler.stop()])
    await scheduler.stop()
  })
})
