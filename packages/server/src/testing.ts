/**
 * Test against a real Post Scheduler: PostgreSQL with a migrated template database to copy per
 * test file, a server on a loopback port with a mail recorder and helpers to make people,
 * workspaces and API keys, a webhook receiver and image makers. Plain functions with no test
 * runner in them: use them from vitest, node:test, jest or a script.
 *
 * @example
 * ```ts
 * import { startTestPostgres, startTestServer } from '@post-scheduler/server/testing'
 *
 * const postgres = await startTestPostgres() // DATABASE_URL, or an embedded PostgreSQL
 * const server = await startTestServer({ databaseURL: await postgres.createDatabase() })
 * const { apiKey } = await server.createTenant()
 * // … createClient({ apiKey, baseURL: server.url }) …
 * await server.stop()
 * await postgres.stop()
 * ```
 *
 * @module
 */
export { makeImage, makeNoisyPNG } from './testing/media.ts'
export {
  connectTestDatabases,
  startTestPostgres,
  type TestDatabases,
  type TestPostgres,
  withDatabase,
} from './testing/postgres.ts'
export { type ReceivedRequest, type Receiver, startReceiver } from './testing/receiver.ts'
export {
  MailRecorder,
  startTestServer,
  TEST_ENCRYPTION_KEYS,
  type TestPerson,
  type TestRequestOptions,
  type TestServer,
  type TestTenant,
  testConfig,
} from './testing/server.ts'
