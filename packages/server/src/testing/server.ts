import getPort from 'get-port'
import { type Config, loadConfig } from '../config/config.ts'
import type { MailMessage, MailTransport } from '../mail/transport.ts'
import {
  createPostScheduler,
  type PostScheduler,
  type PostSchedulerOptions,
} from '../post-scheduler.ts'

/** A fixed encryption keyring for tests (never use it elsewhere). */
export const TEST_ENCRYPTION_KEYS = `test1:${Buffer.alloc(32, 7).toString('base64')}`

/**
 * A configuration for tests: quiet logs, a free port, the given database, a fixed test keyring,
 * `X-Forwarded-For` trusted (so each simulated person has an address of their own).
 *
 * @example
 * ```ts
 * const config = testConfig(databaseURL, { rateLimitPerMinute: 3 })
 * ```
 */
export function testConfig(databaseURL: string, overrides: Partial<Config> = {}): Config {
  return {
    ...loadConfig({
      DATABASE_URL: databaseURL,
      PORT: '0',
      LOG_LEVEL: 'silent',
      ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
      PUBLIC_URL: 'http://post-scheduler.test',
      // Stops at once: a test that needs the drain sets it.
      SHUTDOWN_DRAIN_SECONDS: '0',
    }),
    ...overrides,
  }
}

/** A mail transport that keeps what it is given, for tests to read one-time codes from. */
export class MailRecorder implements MailTransport {
  readonly sent: MailMessage[] = []

  async send(message: MailMessage) {
    this.sent.push(message)
  }

  /** Messages sent to `to`, oldest first. */
  to(to: string) {
    return this.sent.filter((message) => message.to === to.toLowerCase())
  }

  /**
   * The one-time code in the latest message to `to` whose subject matches.
   *
   * @throws {Error} when there is none.
   */
  codeFor(to: string, subject: RegExp): string {
    const message = this.to(to).findLast((candidate) => subject.test(candidate.subject))
    const code = message?.text.match(/^([a-z2-7]{26})$/m)?.[1]
    if (!code) throw new Error(`no code in a message to ${to} matching ${subject}`)
    return code
  }
}

/** Options of {@link TestServer.request}. */
export interface TestRequestOptions {
  method?: string
  /** JSON body. */
  json?: unknown
  /** Bearer secret: API key, session token or profile token. */
  token?: string
  /** The caller's address (the test server trusts `X-Forwarded-For`). */
  ip?: string
  headers?: Record<string, string>
}

/** A person signed up, confirmed and signed in by {@link TestServer.signUp}. */
export interface TestPerson {
  email: string
  password: string
  /** Their session token. */
  token: string
  sessionId: string
  userId: string
}

/** A person with a workspace and an API key with every scope, from {@link TestServer.createTenant}. */
export interface TestTenant {
  person: TestPerson
  workspaceId: string
  /** An API key (`psk_…`) with the `read`, `write` and `admin` scopes. */
  apiKey: string
  apiKeyId: string
}

/** A running server from {@link startTestServer}. */
export interface TestServer {
  /** Where it listens (`http://127.0.0.1:<port>`); `undefined` with `listen: false`. */
  url: string | undefined
  scheduler: PostScheduler
  databaseURL: string
  /** Every email it sent. */
  mail: MailRecorder
  /** Sends a request to the app in-process (no socket), as `ip` (a fixed address by default). */
  request(path: string, options?: TestRequestOptions): Promise<Response>
  /** Signs a new person up, confirms their address and signs them in. */
  signUp(details?: { name?: string; email?: string; password?: string }): Promise<TestPerson>
  /** A new person with a workspace of their own and an API key with every scope. */
  createTenant(): Promise<TestTenant>
  /**
   * Plays the person on the sandbox's consent page for `authorizationURL` (from starting a
   * sandbox connection) and follows its redirect to this server's OAuth callback; returns the
   * callback's answer (302 to the connection's return URL).
   *
   * @throws {Error} when the sandbox does not send the person back.
   */
  consentOnSandbox(
    authorizationURL: string,
    options?: { decision?: 'allow' | 'deny'; name?: string },
  ): Promise<Response>
  /** Stops the server (and its workers); the database stays. */
  stop(): Promise<void>
}

/**
 * Starts a Post Scheduler on `databaseURL` (a database of its own, e.g. from
 * `startTestPostgres().createDatabase()`), listening on a free loopback port unless
 * `listen: false`, with a {@link MailRecorder} and helpers to make people, workspaces and API
 * keys. Runs no background jobs unless `worker: true`. Works with any test runner.
 *
 * @example
 * ```ts
 * const server = await startTestServer({ databaseURL, worker: true })
 * const { apiKey } = await server.createTenant()
 * const client = createClient({ apiKey, baseURL: server.url })
 * // …
 * await server.stop()
 * ```
 */
export async function startTestServer(options: {
  databaseURL: string
  /** Settings over {@link testConfig}'s. */
  config?: Partial<Config>
  /** Run the publishing and other workers in this process. Default `false`. */
  worker?: boolean
  /** Listen on a loopback port. Default `true`. */
  listen?: boolean
  /** The platforms to install (the bundled ones by default). */
  platforms?: PostSchedulerOptions['platforms']
}): Promise<TestServer> {
  const listen = options.listen ?? true
  const mail = new MailRecorder()
  const port = listen ? await getPort({ host: '127.0.0.1' }) : 0
  const listening = listen ? { host: '127.0.0.1', port, publicURL: `http://127.0.0.1:${port}` } : {}
  const scheduler = createPostScheduler({
    config: testConfig(options.databaseURL, {
      trustProxy: true,
      ...listening,
      ...options.config,
    }),
    mailTransport: mail,
    platforms: options.platforms,
  })
  const { url } = await scheduler.start({ listen, worker: options.worker ?? false })

  const request = (path: string, requestOptions: TestRequestOptions = {}) => {
    const headers: Record<string, string> = {
      'x-forwarded-for': requestOptions.ip ?? '192.0.2.1',
      ...requestOptions.headers,
    }
    if (requestOptions.token) headers.authorization = `Bearer ${requestOptions.token}`
    if (requestOptions.json !== undefined) headers['content-type'] = 'application/json'
    return Promise.resolve(
      scheduler.app.request(path, {
        method: requestOptions.method ?? (requestOptions.json === undefined ? 'GET' : 'POST'),
        headers,
        body: requestOptions.json === undefined ? undefined : JSON.stringify(requestOptions.json),
      }),
    )
  }

  let counter = 0
  const signUp: TestServer['signUp'] = async (details = {}) => {
    counter += 1
    // Each person signs up from an address of their own, clear of the per-address limits.
    const ip = `10.${Math.floor(counter / 65_536) % 256}.${Math.floor(counter / 256) % 256}.${counter % 256}`
    const email = details.email ?? `person${counter}-${Date.now()}@example.com`
    const password = details.password ?? 'correct horse battery staple'
    const signedUp = await request('/v1/users', {
      ip,
      json: {
        name: details.name ?? `Person ${counter}`,
        email,
        password,
        dateOfBirth: '1990-01-01',
      },
    })
    if (signedUp.status !== 202) throw new Error(`sign-up failed: ${await signedUp.text()}`)
    await request('/v1/users/verify-email', {
      ip,
      json: { token: mail.codeFor(email, /Confirm your email/) },
    })
    const signedIn = await request('/v1/sessions', { ip, json: { email, password } })
    if (signedIn.status !== 201) throw new Error(`sign-in failed: ${await signedIn.text()}`)
    const { token, session } = (await signedIn.json()) as { token: string; session: { id: string } }
    const me = (await (await request('/v1/me', { token })).json()) as { id: string }
    return { email, password, token, sessionId: session.id, userId: me.id }
  }

  const createTenant = async (): Promise<TestTenant> => {
    const person = await signUp()
    const workspace = (await (
      await request('/v1/workspaces', {
        token: person.token,
        json: { name: `Workspace of ${person.email}` },
      })
    ).json()) as { id: string }
    const key = (await (
      await request('/v1/api-keys', {
        token: person.token,
        json: { name: 'test', scopes: ['read', 'write', 'admin'] },
      })
    ).json()) as { id: string; secret: string }
    return { person, workspaceId: workspace.id, apiKey: key.secret, apiKeyId: key.id }
  }

  const consentOnSandbox: TestServer['consentOnSandbox'] = async (
    authorizationURL,
    choice = {},
  ) => {
    const form = new URLSearchParams(new URL(authorizationURL).searchParams)
    form.set('decision', choice.decision ?? 'allow')
    // A sandbox user of their own per consent (as distinct people would be), unless named.
    form.set('name', choice.name ?? `Ada ${crypto.randomUUID().slice(0, 8)}`)
    const decided = await scheduler.app.request('/sandbox/oauth/authorize', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    })
    const location = decided.headers.get('location')
    if (decided.status !== 303 || !location) {
      throw new Error(`the sandbox answered ${decided.status}: ${await decided.text()}`)
    }
    const back = new URL(location)
    return request(`${back.pathname}${back.search}`)
  }

  return {
    url,
    scheduler,
    databaseURL: options.databaseURL,
    mail,
    request,
    signUp,
    createTenant,
    consentOnSandbox,
    stop: () => scheduler.stop(),
  }
}
