import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { connectionHelpers } from '../test/connections.ts'
import { fileForm, makeImage, mediaTestConfig } from '../test/media.ts'
import {
  bodySites,
  type Document,
  encodeForURL,
  type Fixtures,
  HOSTILE_BODIES,
  HOSTILE_CURSORS,
  hostileString,
  hostileValue,
  type Operation,
  operationsOf,
  placeInBody,
  type Site,
  sample,
} from '../test/openapi-fuzz.ts'
import { startTestServer } from '../test/server.ts'

// Walks every operation of the OpenAPI document with hostile path parameters, query parameters
// and bodies, and fails on any 5xx or any error answer that is not a problem document. Each
// operation first gets NUL and an unpaired surrogate in every place that takes a value (and every
// malformed whole body), then random hostile cases. A failure reports fast-check's seed and the
// request; FUZZ_SEED=<seed> replays the same cases.
const SEED = Number(process.env.FUZZ_SEED ?? 16_2024)
const RANDOM_RUNS_PER_OPERATION = 25

const server = await startTestServer({
  rateLimitPerMinute: 1_000_000,
  media: await mediaTestConfig(),
  // The endpoint below points at a closed local port: deliveries fail fast, offline.
  webhooks: { allowedNetworks: ['127.0.0.0/8'], timeoutSeconds: 1, concurrency: 1 },
})
const { request } = server
const app = server.scheduler.app
const document = (await (await app.request('/openapi.json')).json()) as Document
// The API's operations; the health probes take no input, and /readyz answers 503 with its
// readiness report by design here, where no worker runs.
const operations = orderForFuzzing(
  operationsOf(document).filter((operation) => operation.path.startsWith('/v1/')),
)

type Credential = 'apiKey' | 'session' | 'profileToken' | 'none'
const tokens: Record<Credential, string | undefined> = {
  apiKey: undefined,
  session: undefined,
  profileToken: undefined,
  none: undefined,
}
const fixtures: Fixtures = { platform: 'sandbox', partNumber: '1' }
/** Ids that a DELETE may revoke without ending the fuzzer's own credentials. */
const spare: Fixtures = {}
let png: Buffer

beforeAll(async () => {
  const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
  const tenant = await tenantWithProfile()
  const { connection, accountId } = await connectPersonalAccount(tenant)
  tokens.apiKey = tenant.apiKey
  tokens.session = tenant.person.token
  const call = async (path: string, init: { token?: string; json?: unknown; method?: string }) => {
    const response = await request(path, { token: tenant.apiKey, ...init })
    expect(response.status, `${path}: ${await response.clone().text()}`).toBeLessThan(300)
    return (await response.json()) as Record<string, unknown> & { id: string }
  }
  png = await makeImage('png')
  const media = (await (
    await app.request('/v1/media', {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.apiKey}` },
      body: fileForm(png, 'fuzz.png'),
    })
  ).json()) as { id: string }
  const post = await call('/v1/posts', {
    json: {
      accountIds: [accountId],
      content: { text: 'fuzz' },
      scheduledAt: new Date(Date.now() + 86_400_000).toISOString(),
    },
  })
  const endpoint = await call('/v1/webhook-endpoints', {
    json: { url: 'http://127.0.0.1:9/hook' },
  })
  const invitation = await call(`/v1/workspaces/${tenant.workspaceId}/invitations`, {
    json: { email: 'invited@example.com', role: 'member' },
  })
  const upload = await call('/v1/media/uploads', { json: { sizeBytes: 10, filename: 'a.png' } })
  const exported = await call('/v1/me/exports', { token: tenant.person.token, method: 'POST' })
  const events = await call('/v1/events', { method: 'GET' })
  const minted = await call(`/v1/profiles/${tenant.profileId}/tokens`, { json: {} })
  tokens.profileToken = minted.token as string
  Object.assign(fixtures, {
    workspaceId: tenant.workspaceId,
    profileId: tenant.profileId,
    userId: tenant.person.userId,
    sessionId: tenant.person.sessionId,
    apiKeyId: tenant.apiKeyId,
    accountId,
    connectionId: connection.id,
    mediaId: media.id,
    postId: post.id,
    publicationId: (post.publications as { id: string }[])[0]?.id,
    endpointId: endpoint.id,
    invitationId: invitation.id,
    uploadId: upload.id,
    exportId: exported.id,
    eventId: (events.data as { id: string }[])[0]?.id,
  })
  const other = await server.signUp()
  const key = await call('/v1/api-keys', {
    token: tenant.person.token,
    json: { name: 'spare', scopes: ['read'] },
  })
  spare.apiKeyId = key.id
  spare.sessionId = other.sessionId
})

describe('every operation of the OpenAPI document, fed hostile input', () => {
  it.each(operations.map((operation) => [`${operation.method} ${operation.path}`, operation]))(
    '%s answers no 5xx and only problem documents for errors',
    async (_, operation) => {
      const sites = sitesOf(operation)
      const preferred = preferredCredential(operation)
      const examples: [Case][] = sites.flatMap((site) =>
        targetedValues(site).map((value) => [{ site, value, credential: preferred }] as [Case]),
      )
      await fc.assert(
        fc.asyncProperty(caseFor(sites), async (fuzzCase) => {
          const { url, init } = requestFor(operation, fuzzCase)
          const response = await app.request(url, init)
          const text = await response.text()
          const described = `${init.method} ${url} as ${fuzzCase.credential} → ${response.status} ${text.slice(0, 300)}`
          if (response.status >= 500) throw new Error(`server error: ${described}`)
          const type = response.headers.get('content-type') ?? ''
          if (response.status >= 400 && !type.startsWith('application/problem+json')) {
            throw new Error(`error answer that is no problem document (${type}): ${described}`)
          }
        }),
        {
          seed: SEED,
          numRuns: examples.length + RANDOM_RUNS_PER_OPERATION,
          examples,
          endOnFailure: true,
        },
      )
    },
  )
})

interface Case {
  site: Site | { in: 'raw' }
  value: unknown
  credential: Credential
}

function sitesOf(operation: Operation): Site[] {
  const parameters: Site[] = operation.parameters
    .filter((parameter) => parameter.in === 'path' || parameter.in === 'query')
    .map((parameter) => ({ in: parameter.in as 'path' | 'query', name: parameter.name }))
  const body =
    operation.body?.mediaType === 'application/json'
      ? bodySites(operation.body.schema, document)
      : []
  const form =
    operation.body?.mediaType === 'multipart/form-data'
      ? [
          { in: 'body' as const, path: ['altText'], schemas: [] },
          { in: 'body' as const, path: ['file'], schemas: [] },
        ]
      : []
  return [...parameters, ...body, ...form]
}

/** NUL and an unpaired surrogate everywhere; bad cursors as cursors; every malformed body. */
function targetedValues(site: Site | { in: 'raw' }): unknown[] {
  if (site.in === 'raw') return HOSTILE_BODIES
  if (site.in === 'query' && site.name === 'cursor') return HOSTILE_CURSORS
  if (site.in === 'body' && site.path.length === 0) return [...HOSTILE_BODIES.map(raw), {}]
  return ['a\u0000b', 'x\ud800']
}

const raw = (text: string) => ({ raw: text })

function caseFor(sites: Site[]): fc.Arbitrary<Case> {
  const credential = fc.constantFrom<Credential>('apiKey', 'session', 'profileToken', 'none')
  const cases = sites.map((site) =>
    fc.record({
      site: fc.constant(site),
      value:
        site.in === 'body'
          ? site.path.length === 0
            ? fc.oneof(fc.constantFrom(...HOSTILE_BODIES).map(raw), hostileValue)
            : hostileValue
          : site.name === 'cursor'
            ? fc.oneof(fc.constantFrom(...HOSTILE_CURSORS), hostileString)
            : hostileString,
      credential,
    }),
  )
  return cases.length > 0
    ? fc.oneof(...cases)
    : fc.record({ site: fc.constant({ in: 'raw' as const }), value: fc.constant(''), credential })
}

function requestFor(operation: Operation, fuzzCase: Case): { url: string; init: RequestInit } {
  const { site, value } = fuzzCase
  const id = (name: string) =>
    (operation.method === 'DELETE' ? spare[name] : undefined) ?? fixtures[name] ?? 'fuzz'
  const path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeForURL(site.in === 'path' && site.name === name ? String(value) : id(name)),
  )
  const query = new URLSearchParams()
  let search = ''
  for (const parameter of operation.parameters) {
    if (parameter.in !== 'query') continue
    if (site.in === 'query' && site.name === parameter.name) {
      search += `&${parameter.name}=${encodeForURL(String(value))}`
    } else if ((parameter as { required?: boolean }).required) {
      query.set(
        parameter.name,
        String(sample(parameter.schema, document, fixtures, parameter.name)),
      )
    }
  }
  const url = `${path}?${query.toString()}${search}`
  const headers: Record<string, string> = { 'x-forwarded-for': '192.0.2.7' }
  const token = tokens[fuzzCase.credential]
  if (token) headers.authorization = `Bearer ${token}`
  let body: RequestInit['body']
  if (operation.body?.mediaType === 'application/json') {
    headers['content-type'] = 'application/json'
    const base = sample(operation.body.schema, document, fixtures)
    if (value !== null && typeof value === 'object' && 'raw' in value) {
      body = String(value.raw)
    } else {
      body = JSON.stringify(
        site.in === 'body' ? placeInBody(base, site, value, document, fixtures) : base,
      )
    }
  } else if (operation.body?.mediaType === 'multipart/form-data') {
    const field = site.in === 'body' ? site.path[0] : undefined
    body = fileForm(png, field === 'file' ? `${String(value)}.png` : 'fuzz.png', {
      altText: field === 'altText' ? String(value) : 'fuzz',
    })
  } else if (operation.body) {
    headers['content-type'] = operation.body.mediaType
    body = new Uint8Array(10)
  }
  return { url, init: { method: operation.method, headers, body } }
}

/** Sessions for what a person does (`/v1/me…`, their workspaces and keys); API keys otherwise. */
function preferredCredential(operation: Operation): Credential {
  const personal = [
    /^\/v1\/(me|sessions|users|password-resets|invitations|api-keys)/,
    /^\/v1\/workspaces$/,
  ]
  return personal.some((pattern) => pattern.test(operation.path)) ? 'session' : 'apiKey'
}

/**
 * DELETEs last (they end fixtures other operations reach through), and last of all those that
 * end the fuzzer's own session or account.
 */
function orderForFuzzing(all: Operation[]): Operation[] {
  const rank = (operation: Operation) => {
    if (/^\/v1\/(sessions\/current|me\/deletion)$/.test(operation.path)) return 2
    return operation.method === 'DELETE' ? 1 : 0
  }
  return [...all].sort((a, b) => rank(a) - rank(b))
}
