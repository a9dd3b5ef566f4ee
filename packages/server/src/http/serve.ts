import { readFile } from 'node:fs/promises'
import type { Server } from 'node:http'
import { createServer as createHTTPSServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { createAdaptorServer } from '@hono/node-server'
import type { Config } from '../config/config.ts'
import { messageOf, StartupError } from '../errors.ts'

/** An HTTP(S) server listening for the app. */
export interface HTTPServer {
  /** Where it listens, e.g. `http://127.0.0.1:3000`. */
  url: string
  /** Stops accepting connections and waits for in-flight requests, at most `timeoutMs`. */
  close(timeoutMs: number): Promise<void>
}

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
  return {
    url: `${tls ? 'https' : 'http'}://${host}:${port}`,
    close: (timeoutMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), timeoutMs)
        server.close(() => {
          clearTimeout(timer)
          resolve()
        })
        server.closeIdleConnections()
      }),
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
