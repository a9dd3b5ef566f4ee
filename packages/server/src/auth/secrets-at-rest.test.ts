import { Writable } from 'node:stream'
import { afterAll, expect, it } from 'vitest'
import { testConfig } from '../../test/config.ts'
import { createTestDatabase } from '../../test/database.ts'
import { dumpDatabase } from '../../test/dump.ts'
import { MailRecorder } from '../../test/server.ts'
import { createLogger } from '../logging/logger.ts'
import { createPostScheduler } from '../post-scheduler.ts'

// Everything the server logs, at the most verbose level, as a leaked log file would show it.
let logged = ''
const logSink = new Writable({
  write(chunk, _encoding, done) {
    logged += chunk
    done()
  },
})
const databaseURL = await createTestDatabase()
const scheduler = createPostScheduler({
  config: testConfig(databaseURL, { trustProxy: true }),
  logger: createLogger({ logLevel: 'trace', logFormat: 'json' }, logSink),
  mailTransport: new MailRecorder(),
})
await scheduler.start({ listen: false, worker: false })
afterAll(() => scheduler.stop())

const call = (path: string, init: { json?: unknown; token?: string; method?: string } = {}) =>
  scheduler.app.request(path, {
    method: init.method ?? (init.json ? 'POST' : 'GET'),
    headers: {
      'content-type': 'application/json',
      ...(init.token && { authorization: `Bearer ${init.token}` }),
      cookie: init.token ? `ps_session=${init.token}` : '',
    },
    body: init.json ? JSON.stringify(init.json) : undefined,
  })

it('keeps no password, session token, API key or profile token in plaintext, in the database or the logs', async () => {
  const password = 'unmistakable passphrase 8191'
  const email = 'secrets@example.com'
  await call('/v1/users', {
    json: { name: 'Secret Keeper', email, password, dateOfBirth: '1980-02-02' },
  })
  const signedIn = (await (await call('/v1/sessions', { json: { email, password } })).json()) as {
    token: string
  }
  await call('/v1/sessions', { json: { email, password: 'a wrong passphrase 1' } })
  await call('/v1/workspaces', { token: signedIn.token, json: { name: 'Vault' } })
  const key = (await (
    await call('/v1/api-keys', {
      token: signedIn.token,
      json: { name: 'backend', scopes: ['read', 'write', 'admin'] },
    })
  ).json()) as { secret: string }
  await call('/v1/api-keys', { token: key.secret })
  const profiles = (await (await call('/v1/profiles', { token: key.secret })).json()) as {
    data: { id: string }[]
  }
  const profileId = profiles.data[0]?.id
  const minted = await call(`/v1/profiles/${profileId}/tokens`, { token: key.secret, json: {} })
  expect(minted.status).toBe(201)
  const { token: profileToken } = (await minted.json()) as { token: string }
  expect((await call(`/v1/profiles/${profileId}`, { token: profileToken })).status).toBe(200)
  const secrets = { password, sessionToken: signedIn.token, apiKey: key.secret, profileToken }

  const dump = await dumpDatabase(databaseURL)
  expect(dump).toContain(email) // the dump is real
  expect(logged).toContain('"path":"/v1/api-keys"') // and so is the log
  for (const [name, secret] of Object.entries(secrets)) {
    expect(dump.includes(secret), `${name} in the database`).toBe(false)
    expect(logged.includes(secret), `${name} in the logs`).toBe(false)
  }
})
