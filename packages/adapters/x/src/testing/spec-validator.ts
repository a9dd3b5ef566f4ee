// Test-only (openapi-backend is a devDependency): validates what the adapter sends to X against
// the official X API v2 OpenAPI document in specs/. Not reachable from any package entry.
import { fileURLToPath } from 'node:url'
import { createSpecInspector, readRequestBody } from '@post-scheduler/adapter-core/emulator'
import { OpenAPIBackend } from 'openapi-backend'

/** The vendored X API v2 documents (see specs/SOURCES.md). */
export type XSpecFile = 'x-api-v2-openapi.public.json' | 'x-api-v2-openapi.json'

/** One request that does not match the spec, described for a test failure. */
export type SpecMismatch = string

/**
 * Loads the X API v2 OpenAPI document and returns an `inspect` hook for the emulator that
 * checks every request: the operation exists (method and path), its parameters and JSON or
 * multipart body validate, the body's content type is one the operation declares, and a bearer
 * token is sent. The OAuth token and revocation endpoints are not in the document; their
 * documented form fields are checked by hand. Mismatches and operations are collected by
 * adapter-core's `createSpecInspector`.
 */
export async function createSpecValidator(file: XSpecFile = 'x-api-v2-openapi.public.json') {
  const api = new OpenAPIBackend({
    definition: fileURLToPath(new URL(`../../specs/${file}`, import.meta.url)),
    quick: true,
    validate: true,
    customizeAjv: (ajv) => {
      ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$/)
      ajv.addFormat('integer', /^\d+$/)
      ajv.addFormat('binary', () => true)
      ajv.addFormat('long', /^-?\d+$/)
      ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/)
      return ajv
    },
  })
  await api.init()

  return createSpecInspector(async (request) => {
    const url = new URL(request.url)
    if (url.host === 'x.com') return { problems: [] } // the browser's consent page, not the API
    if (url.pathname.startsWith('/2/oauth2/')) {
      return {
        operation: url.pathname,
        problems: checkOAuthRequest(
          request.method,
          url.pathname,
          request.headers,
          await request.text(),
        ),
      }
    }
    const problems: SpecMismatch[] = []
    const contentType = request.headers.get('content-type') ?? ''
    const decoded = await readRequestBody(request)
    let body: unknown
    if (decoded.kind === 'json') {
      body = decoded.value
    } else if (decoded.kind === 'multipart') {
      // Multipart fields are text on the wire; a numeric one stands for the integer it encodes.
      body = Object.fromEntries(
        Object.entries(decoded.fields).map(([name, value]) => [
          name,
          typeof value !== 'string' ? 'binary' : /^\d+$/.test(value) ? Number(value) : value,
        ]),
      )
    } else if (decoded.kind !== 'empty') {
      problems.push(`a body of type "${contentType}"`)
    }
    const openAPIRequest = {
      method: request.method,
      path: url.pathname,
      query: url.search.slice(1),
      headers: Object.fromEntries(request.headers.entries()),
      body,
    }
    const operation = api.matchOperation(openAPIRequest)
    if (!operation) return { problems: [...problems, 'no such operation in the X API v2 document'] }
    const declared = Object.keys(
      (operation.requestBody as { content?: Record<string, unknown> } | undefined)?.content ?? {},
    )
    if (body !== undefined && !declared.some((type) => contentType.startsWith(type))) {
      problems.push(`content type ${contentType} is not one of ${declared.join(', ') || 'none'}`)
    }
    if (
      (operation.requestBody as { required?: boolean } | undefined)?.required &&
      body === undefined
    ) {
      problems.push('the request body is required')
    }
    if (!/^Bearer \S+$/.test(request.headers.get('authorization') ?? '')) {
      problems.push('no bearer token')
    }
    const result = api.validateRequest(openAPIRequest, operation)
    for (const error of result.errors ?? []) {
      problems.push(`${error.instancePath} ${error.message} ${JSON.stringify(error.params)}`)
    }
    return { operation: operation.operationId ?? `${request.method} ${url.pathname}`, problems }
  })
}

// https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code and
// user-access-token: not in the OpenAPI document (its securitySchemes only name the URLs).
function checkOAuthRequest(
  method: string,
  path: string,
  headers: Headers,
  bodyText: string,
): string[] {
  const problems: string[] = []
  if (method !== 'POST') problems.push('must be POST')
  if (!(headers.get('content-type') ?? '').startsWith('application/x-www-form-urlencoded')) {
    problems.push('must be application/x-www-form-urlencoded')
  }
  const form = new URLSearchParams(bodyText)
  const basic = /^Basic \S+$/.test(headers.get('authorization') ?? '')
  if (!basic && !form.get('client_id'))
    problems.push('needs HTTP Basic (confidential) or client_id (public)')
  if (basic && form.has('client_secret')) problems.push('sends the secret twice')
  const required: Record<string, string[]> = {
    '/2/oauth2/revoke': ['token'],
    authorization_code: ['code', 'redirect_uri', 'code_verifier'],
    refresh_token: ['refresh_token'],
  }
  const grant = form.get('grant_type') ?? ''
  const fields =
    path === '/2/oauth2/revoke'
      ? required[path]
      : path === '/2/oauth2/token'
        ? required[grant]
        : undefined
  if (!fields) return [...problems, `unknown OAuth request (grant_type ${grant || 'missing'})`]
  for (const field of fields) if (!form.get(field)) problems.push(`lacks ${field}`)
  return problems
}
