import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll } from 'vitest'

/** What the gateway does with a request: forward it, answer a status, drop the connection, hang. */
export type GatewayAction = 'forward' | 'drop' | 'hang' | { status: number; retryAfter?: number }

/**
 * A reverse proxy in front of the test server, standing in for the load balancers and gateways
 * between a client and the API: it records every request and fails the ones `decide` says.
 */
export async function startGateway(
  target: string,
  decide: (request: { method: string; url: string; index: number }) => GatewayAction = () =>
    'forward',
) {
  const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = []
  const server = createServer(async (request, response) => {
    const index = seen.push({
      method: request.method ?? 'GET',
      url: request.url ?? '/',
      headers: request.headers,
    })
    const action = decide({
      method: request.method ?? 'GET',
      url: request.url ?? '/',
      index: index - 1,
    })
    if (action === 'hang') return
    if (action === 'drop') {
      request.socket.destroy()
      return
    }
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    if (action !== 'forward') {
      response.writeHead(action.status, {
        'content-type': 'text/plain',
        ...(action.retryAfter === undefined ? {} : { 'retry-after': String(action.retryAfter) }),
      })
      response.end('upstream unavailable')
      return
    }
    const headers = new Headers()
    for (const [name, value] of Object.entries(request.headers)) {
      if (typeof value === 'string' && name !== 'host' && name !== 'connection')
        headers.set(name, value)
    }
    const answer = await fetch(`${target}${request.url}`, {
      method: request.method,
      headers,
      body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
    })
    response.writeHead(answer.status, Object.fromEntries(answer.headers))
    response.end(Buffer.from(await answer.arrayBuffer()))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  afterAll(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}
