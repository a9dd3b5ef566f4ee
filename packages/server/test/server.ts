import { afterAll } from 'vitest'
import type { Config } from '../src/config/config.ts'
import type { MailMessage, MailTransport } from '../src/mail/transport.ts'
import { createPostScheduler, type PostScheduler } from '../src/post-scheduler.ts'
import type { Services } from '../src/services.ts'
import { testConfig } from './config.ts'
import { createTestDatabase } from './database.ts'

/** A mail transport that keeps what it is given, for tests to read codes from. */
export class MailRecorder implements MailTransport {
  readonly sent: MailMessage[] = []

  async send(message: MailMessage) {
    this.sent.push(message)
  }

  /** Messages sent to `to`, oldest first. */
  to(to: string) {
    return this.sent.filter((message) => message.to === to.toLowerCase())
  }

  /** The one-time code in the latest message to `to` whose subject matches. */
  codeFor(to: string, subject: RegExp): string {
    const message = this.to(to).findLast((candidate) => subject.test(candidate.subject))
    const code = message?.text.match(/^([a-z2-7]{26})$/m)?.[1]
    if (!code) throw new Error(`no code in a message to ${to} matching ${subject}`)
    return code
  }
}

export interface RequestOptions {
  method?: string
  /** JSON body. */
  json?: unknown
  /** Bearer secret: API key, session token or profile token. */
  token?: string
  /** The caller's address (the test server trusts X-Forwarded-For). */
  ip?: string
  headers?: Record<string, string>
}

/**
 * Starts a Post Scheduler (no listener; API only unless `worker`) on a database of its own (or the
 * one given), with a mail recorder, and stops it after the file's tests.
 */
export async function startTestServer(
  overrides: Partial<Config> = {},
  options: { worker?: boolean; databaseURL?: string } = {},
) {
  const mail = new MailRecorder()
  const databaseURL = options.databaseURL ?? (await createTestDatabase())
  const scheduler: PostScheduler = createPostScheduler({
    config: testConfig(databaseURL, { trustProxy: true, ...overrides }),
    mailTransport: mail,
  })
  await scheduler.start({ listen: false, worker: options.worker ?? false })
  afterAll(() => scheduler.stop())

  const request = (path: string, options: RequestOptions = {}) => {
    const headers: Record<string, string> = {
      'x-forwarded-for': options.ip ?? '192.0.2.1',
      ...options.headers,
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`
    if (options.json !== undefined) headers['content-type'] = 'application/json'
    return scheduler.app.request(path, {
      method: options.method ?? (options.json === undefined ? 'GET' : 'POST'),
      headers,
      body: options.json === undefined ? undefined : JSON.stringify(options.json),
    })
  }

  let counter = 0
  /** Signs a new person up, confirms their address and signs them in. */
  const signUp = async (details: { name?: string; email?: string; password?: string } = {}) => {
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

  /** A person with a workspace of their own and an API key with every scope. */
  const createTenant = async () => {
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

  return { scheduler, databaseURL, mail, request, signUp, createTenant }
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
