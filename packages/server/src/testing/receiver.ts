import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/** One request a {@link startReceiver} listener got, as it arrived. */
export interface ReceivedRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  /** The exact bytes received, as text. */
  body: string
}

/** A listener from {@link startReceiver}. */
export interface Receiver {
  /** Where to send requests: `http://127.0.0.1:<port>/hook`. */
  url: string
  port: number
  /** Every request so far, oldest first. */
  received: ReceivedRequest[]
  /** Resolves once `count` requests have arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>
  close(): Promise<void>
}

/**
 * A real HTTP listener on loopback that records every request and answers with `respond` (200 by
 * default; return `'hang'` to never answer): a webhook endpoint for tests. Allow its network
 * with `WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8` (`config.webhooks.allowedNetworks`).
 *
 * @example
 * ```ts
 * const receiver = await startReceiver()
 * await client.webhookEndpoints.create({ url: receiver.url })
 * const [delivery] = await receiver.waitFor(1)
 * await receiver.close()
 * ```
 */
export async function startReceiver(
  respond: (
    request: ReceivedRequest,
    index: number,
  ) => number | 'hang' | ((response: ServerResponse) => void) = () => 200,
  options: { host?: string } = {},
): Promise<Receiver> {
  const received: ReceivedRequest[] = []
  const waiting: (() => void)[] = []
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const entry = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      received.push(entry)
      for (const wake of waiting.splice(0)) wake()
      const answer = respond(entry, received.length - 1)
      if (answer === 'hang') return
      if (typeof answer === 'function') return answer(response)
      response.writeHead(answer, { 'content-type': 'text/plain' }).end(`answer ${answer}`)
    })
  })
  // Connections that hang would keep close() waiting.
  const sockets = new Set<Socket>()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${host}:${port}/hook`,
    port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
    async waitFor(count, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs
      while (received.length < count) {
        if (Date.now() > deadline) {
          throw new Error(`the receiver got ${received.length} requests, not ${count}`)
        }
        await new Promise<void>((resolve) => {
          waiting.push(resolve)
          setTimeout(resolve, 100)
        })
      }
      return received
    },
  }
}
