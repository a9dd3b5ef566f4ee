import { Agent, request as httpRequest } from 'node:http'
import { describe, expect, it } from 'vitest'
import { spawnCLI } from '../../test/cli.ts'
import { createTestDatabase } from '../../test/database.ts'

// SIGTERM under load, as behind a load balancer: clients on keep-alive connections send requests
// back to back while a probe checks /readyz every second and stops routing once it answers 503.
// Every request accepted must be answered: no connection reset, no refused connection, exit 0.

const DRAIN_SECONDS = 3

interface Outcome {
  sentAt: number
  status?: number
  connection?: string | undefined
  error?: string
}

function get(agent: Agent, url: string): Promise<Omit<Outcome, 'sentAt'>> {
  return new Promise((resolve) => {
    const request = httpRequest(url, { agent }, (response) => {
      response.resume()
      response.once('end', () =>
        resolve({ status: response.statusCode, connection: response.headers.connection }),
      )
      response.once('error', (error: NodeJS.ErrnoException) =>
        resolve({ error: error.code ?? error.message }),
      )
    })
    request.once('error', (error: NodeJS.ErrnoException) =>
      resolve({ error: error.code ?? error.message }),
    )
    request.end()
  })
}

describe('SIGTERM under load', () => {
  it('answers every accepted request (no resets), drains for SHUTDOWN_DRAIN_SECONDS and exits 0', {
    timeout: 120_000,
  }, async () => {
    const server = spawnCLI(['start'], {
      DATABASE_URL: await createTestDatabase(),
      PORT: '0',
      SHUTDOWN_DRAIN_SECONDS: String(DRAIN_SECONDS),
      RATE_LIMIT_PER_MINUTE: '1000000',
    })
    const { url } = (await server.logLine(/^Post Scheduler listening/)) as { url: string }

    let routing = true
    const probe = (async () => {
      const agent = new Agent({ keepAlive: false })
      while (routing) {
        const { status } = await get(agent, `${url}/readyz`)
        if (status !== 200) routing = false
        else await new Promise((resolve) => setTimeout(resolve, 1000))
      }
    })()
    const outcomes: Outcome[] = []
    const agent = new Agent({ keepAlive: true, maxSockets: 24 })
    const paths = ['/readyz', '/healthz', '/v1/accounts', '/openapi.json']
    const clients = Array.from({ length: 24 }, async (_, client) => {
      for (let i = client; routing; i++) {
        const sentAt = Date.now()
        outcomes.push({ sentAt, ...(await get(agent, `${url}${paths[i % paths.length]}`)) })
      }
    })

    await new Promise((resolve) => setTimeout(resolve, 3000))
    const signalledAt = Date.now()
    server.child.kill('SIGTERM')
    await Promise.all([probe, ...clients])
    const routingStoppedMs = Date.now() - signalledAt
    const code = await server.exited
    const exitedMs = Date.now() - signalledAt
    agent.destroy()

    const after = outcomes.filter((outcome) => outcome.sentAt >= signalledAt)
    const errors: Record<string, number> = {}
    for (const { error } of outcomes) if (error) errors[error] = (errors[error] ?? 0) + 1
    const statuses: Record<string, number> = {}
    for (const { status } of outcomes) if (status) statuses[status] = (statuses[status] ?? 0) + 1
    const resets = outcomes.filter(
      (outcome) => outcome.error === 'ECONNRESET' || outcome.error === 'socket hang up',
    ).length
    console.log(
      `SIGTERM under load: ${outcomes.length} requests by 24 keep-alive clients, ${after.length} sent after the signal (${after.filter((o) => o.connection === 'close').length} answered with Connection: close); the probe stopped routing after ${routingStoppedMs} ms; statuses ${JSON.stringify(statuses)}; errors ${JSON.stringify(errors)}; connection resets ${resets}; exited ${code} after ${exitedMs} ms (drain ${DRAIN_SECONDS} s)`,
    )
    expect(resets).toBe(0)
    expect(errors).toEqual({})
    expect(after.length).toBeGreaterThan(0)
    expect(code).toBe(0)
    expect(exitedMs).toBeGreaterThanOrEqual(DRAIN_SECONDS * 1000)
  })
})
