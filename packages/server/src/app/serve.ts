import { readFile } from 'node:fs/promises'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createServer as createHTTPSServer } from 'node:https'
import { type AddressInfo, Server as NetServer, type Socket } from 'node:net'
import { createAdaptorServer } from '@hono/node-server'
import type { Config } from '../config/config.ts'
import { messageOf, StartupError } from '../errors/startup.ts'

/** An HTTP(S) server listening for the app. */
export interface HTTPServer {
  /** Where it listens, e.g. `http://127.0.0.1:3000`. */
  url: string
  /**
   * Starts draining: requests are still accepted and served, each response with
   * `Connection: close`, so keep-alive clients open their next connection — through a load
   * balancer that has seen readiness turn 503 — elsewhere.
   */
  drain(): void
  /**
   * Stops accepting connections and waits for in-flight requests, at most `timeoutMs` (then the
   * remaining connections are cut). Resets nothing it accepted: a connection whose request has
   * not arrived yet is served (with `Connection: close`), and an idle keep-alive connection is
   * closed gracefully (FIN), not reset.
   */
  close(timeoutMs: number): Promise<void>
}

/** How long a connection accepted before the listener closed may take to send its first request. */
const FIRST_REQUEST_GRACE_MS = 2000

/**
 * Serves `fetch` on the configured host and port, over HTTPS when a certificate is configured.
 *
 * @throws {StartupError} when the certificate cannot be read or the port cannot be bound.
 */
export async function serveHTTP(
  fetch: (request: Request) => Response | Promise<Response>,
  config: Pick<Config, 'host' | 'port' | 'tls'>,
): Promise<HTTPServer> {
  const tls = config.tls && (await readCertificate(config.tls))
  const server = createServer(fetch, tls)
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const reason =
        error.code === 'EADDRINUSE'
          ? `port ${config.port} is already in use; set PORT to a free port`
          : messageOf(error)
      reject(new StartupError(`Cannot listen on ${config.host}:${config.port}: ${reason}`))
    })
    server.listen(config.port, config.host, resolve)
  })
  const { port } = server.address() as AddressInfo
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  const connections = trackConnections(server, tls ? 'secureConnection' : 'connection')
  return {
    url: `${tls ? 'https' : 'http'}://${host}:${port}`,
    drain: connections.drain,
    close: (timeoutMs) =>
      new Promise<void>((resolve) => {
        connections.drain()
        const timer = setTimeout(() => server.closeAllConnections(), timeoutMs)
        const closing = setInterval(connections.closeIdle, 100)
        // net.Server's close, not http.Server's: since Node 19 the latter also destroys every
        // connection without a request in progress, including those whose request is on its way
        // (the client sees a reset). This one only stops accepting; `closeIdle` does the rest.
        netServerClose.call(server, () => {
          clearTimeout(timer)
          clearInterval(closing)
          resolve()
        })
        connections.closeIdle()
      }),
  }
}

const netServerClose = NetServer.prototype.close

/** What a server knows of each connection it accepted. */
interface ConnectionState {
  acceptedAt: number
  /** Requests read and not yet answered. */
  active: number
  /** Requests answered. */
  served: number
}

/**
 * Follows the server's connections, so a shutdown can close each one when nothing is lost: once
 * draining, every response carries `Connection: close` (Node then ends the connection after it);
 * `closeIdle` ends (FIN) connections that answered a request and have none in progress, and those
 * that never sent one within {@link FIRST_REQUEST_GRACE_MS} of the close.
 */
function trackConnections(server: Server, event: 'connection' | 'secureConnection') {
  const states = new Map<Socket, ConnectionState>()
  let draining = false
  let closingSince: number | undefined
  server.on(event, (socket: Socket) => {
    states.set(socket, { acceptedAt: Date.now(), active: 0, served: 0 })
    socket.once('close', () => states.delete(socket))
  })
  // First among the request listeners: the app may answer synchronously.
  server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
    const state = states.get(request.socket as Socket)
    if (draining) response.setHeader('connection', 'close')
    if (!state) return
    state.active += 1
    response.once('close', () => {
      state.active -= 1
      state.served += 1
    })
  })
  return {
    drain() {
      draining = true
    },
    closeIdle() {
      closingSince ??= Date.now()
      for (const [socket, state] of states) {
        if (state.active > 0) continue
        const waitedMs = Date.now() - Math.max(state.acceptedAt, closingSince)
        if (state.served > 0 || waitedMs >= FIRST_REQUEST_GRACE_MS) socket.end()
      }
    },
  }
}

function createServer(
  fetch: (request: Request) => Response | Promise<Response>,
  tls: { cert: Buffer; key: Buffer } | undefined,
): Server {
  if (!tls) return createAdaptorServer({ fetch }) as Server
  try {
    return createAdaptorServer({
      fetch,
      createServer: createHTTPSServer,
      serverOptions: tls,
    }) as Server
  } catch (error) {
    throw new StartupError(
      `TLS_CERT_FILE and TLS_KEY_FILE must hold a matching PEM certificate and private key: ${messageOf(error)}`,
    )
  }
}

async function readCertificate(files: { certFile: string; keyFile: string }) {
  const read = (variable: string, path: string) =>
    readFile(path).catch((error: unknown) => {
      throw new StartupError(`Cannot read ${variable} ${path}: ${messageOf(error)}`)
    })
  // One after the other: when both are unreadable, the error names the certificate every time.
  const cert = await read('TLS_CERT_FILE', files.certFile)
  const key = await read('TLS_KEY_FILE', files.keyFile)
  return { cert, key }
}
