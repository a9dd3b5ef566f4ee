import { readRequestBody } from './request-body.ts'

/** A query or path parameter in a Google discovery document. */
export interface DiscoveryParameter {
  type?: string
  format?: string
  enum?: string[]
  required?: boolean
  repeated?: boolean
  location?: string
  minimum?: string
  maximum?: string
  pattern?: string
}

/** A schema in a discovery document (JSON-Schema-like; no `required` lists). */
export interface DiscoverySchema {
  id?: string
  type?: string
  format?: string
  $ref?: string
  properties?: Record<string, DiscoverySchema>
  additionalProperties?: DiscoverySchema
  items?: DiscoverySchema
  enum?: string[]
  readOnly?: boolean
}

/** One method (`youtube.videos.insert`). */
export interface DiscoveryMethod {
  id: string
  path: string
  flatPath?: string
  httpMethod: string
  parameters?: Record<string, DiscoveryParameter>
  request?: { $ref: string }
  response?: { $ref: string }
  mediaUpload?: {
    accept?: string[]
    maxSize?: string
    protocols?: Record<string, { path: string; multipart?: boolean }>
  }
}

/** A resource: methods and nested resources. */
export interface DiscoveryResource {
  methods?: Record<string, DiscoveryMethod>
  resources?: Record<string, DiscoveryResource>
}

/** A Google discovery document (`discovery#restDescription`), parsed. */
export interface DiscoveryDocument {
  rootUrl: string
  mtlsRootUrl?: string
  servicePath?: string
  parameters?: Record<string, DiscoveryParameter>
  resources?: Record<string, DiscoveryResource>
  schemas?: Record<string, DiscoverySchema>
}

/** One thing wrong with a request, shaped as an item of Google's `error.errors[]`. */
export interface DiscoveryIssue {
  /** Google's reason: `required`, `unknownPart`, `invalidParameter`, `badRequest`, `notFound`, … */
  reason: string
  domain: string
  message: string
  /** The parameter's name (for parameters) or the body property's path (`status.privacyStatus`). */
  location: string
  locationType: 'parameter' | 'body' | 'path'
}

/** A request matched to a method. */
export interface DiscoveryMatch {
  method: DiscoveryMethod
  /** Path parameters, decoded. */
  pathParameters: Record<string, string>
  /**
   * For a media upload: `resumable` starts a resumable session (the `/resumable/upload/…` path,
   * or `uploadType=resumable`), `simple` is a one-request media or multipart upload, `session` a
   * resumable session's byte transfer.
   */
  upload?: 'simple' | 'resumable' | 'session'
}

/** Options of {@link createDiscoveryValidator}. */
export interface DiscoveryValidatorOptions {
  /**
   * Hosts the API answers on. Defaults to the document's `rootUrl` and `mtlsRootUrl` hosts and
   * `www.googleapis.com`, the root Google's guides and most clients still use.
   */
  hosts?: readonly string[]
  /**
   * Properties the docs call read-only where the schema does not say so, as
   * `Schema.property` (`VideoStatus.madeForKids`). Sending one is refused.
   */
  readOnly?: readonly string[]
}

interface Route {
  method: DiscoveryMethod
  pattern: RegExp
  names: string[]
  upload?: 'simple' | 'resumable'
}

const UPLOAD_TYPES = ['media', 'multipart', 'resumable']

/**
 * Turns a Google discovery document into a request validator for platform emulators: it finds
 * the method by HTTP method and URL (on every host the API answers on, and on the media-upload
 * paths, `/upload/…` and `/resumable/upload/…`), then checks the query and path parameters
 * (the method's and the document's common ones: `type`, `enum`, `required`, `repeated`,
 * `minimum`/`maximum`, `pattern`), the `part` values against the resource's parts, and a JSON
 * body against the schema `request.$ref` names: unknown properties, wrong types, values outside
 * an enum, read-only properties sent. A resumable session's byte transfers (`upload_id`) match
 * their method and are not checked further.
 *
 * @example
 * ```ts
 * import discovery from '../specs/youtube-v3-discovery.json' with { type: 'json' }
 *
 * const youtube = createDiscoveryValidator(discovery as DiscoveryDocument)
 * const { match, issues } = await youtube.checkRequest(request)
 * if (issues.length > 0) return Response.json(createGoogleErrorBody(issues), { status: 400 })
 * match?.method.id // 'youtube.videos.insert'
 * ```
 */
export function createDiscoveryValidator(
  document: DiscoveryDocument,
  options: DiscoveryValidatorOptions = {},
) {
  const hosts = new Set(
    options.hosts ?? [
      new URL(document.rootUrl).host,
      ...(document.mtlsRootUrl ? [new URL(document.mtlsRootUrl).host] : []),
      'www.googleapis.com',
    ],
  )
  const readOnly = new Set(options.readOnly ?? [])
  const schemas = document.schemas ?? {}
  const routes: Route[] = []
  const servicePath = `/${document.servicePath ?? ''}`.replace(/\/+$/, '/')

  const walk = (resources: Record<string, DiscoveryResource> | undefined) => {
    for (const resource of Object.values(resources ?? {})) {
      for (const method of Object.values(resource.methods ?? {})) {
        const paths = new Set([method.path, method.flatPath ?? method.path])
        for (const path of paths) routes.push(route(method, `${servicePath}${path}`))
        for (const [protocol, upload] of Object.entries(method.mediaUpload?.protocols ?? {})) {
          routes.push({
            ...route(method, upload.path),
            upload: protocol === 'resumable' ? 'resumable' : 'simple',
          })
        }
      }
      walk(resource.resources)
    }
  }
  walk(document.resources)

  function resolve(httpMethod: string, url: URL): DiscoveryMatch | undefined {
    if (!hosts.has(url.host)) return undefined
    for (const candidate of routes) {
      if (candidate.method.httpMethod !== httpMethod.toUpperCase()) continue
      const found = candidate.pattern.exec(url.pathname)
      if (!found) continue
      const pathParameters = Object.fromEntries(
        candidate.names.map((name, index) => [name, decodeURIComponent(found[index + 1] ?? '')]),
      )
      return { method: candidate.method, pathParameters, ...uploadOf(candidate, url) }
    }
    // The session URI a resumable start answers with: bytes go there by PUT (Google's resumable
    // upload protocol, https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol).
    if (httpMethod.toUpperCase() === 'PUT' && url.searchParams.has('upload_id')) {
      const start = routes.find(
        (candidate) => candidate.upload && candidate.pattern.test(url.pathname),
      )
      if (start) return { method: start.method, pathParameters: {}, upload: 'session' }
    }
    return undefined
  }

  function validate(request: { method: string; url: URL; body?: unknown }): {
    match: DiscoveryMatch | undefined
    issues: DiscoveryIssue[]
  } {
    const match = resolve(request.method, request.url)
    if (!match) {
      return {
        match,
        issues: [
          {
            reason: 'notFound',
            domain: 'global',
            message: `No method of the API is ${request.method} ${request.url.pathname} on ${request.url.host}`,
            location: request.url.pathname,
            locationType: 'path',
          },
        ],
      }
    }
    if (match.upload === 'session') return { match, issues: [] }
    const issues: DiscoveryIssue[] = []
    const { method } = match
    const params = method.parameters ?? {}
    const query = new Map<string, string[]>()
    for (const [name, value] of request.url.searchParams) {
      query.set(name, [...(query.get(name) ?? []), value])
    }
    for (const [name, values] of query) {
      const own = params[name]
      const spec = own?.location === 'query' ? own : (document.parameters?.[name] ?? undefined)
      if (!spec) {
        issues.push(
          parameterIssue(
            'unexpectedParameter',
            name,
            `Invalid JSON payload received. Unknown name "${name}": Cannot bind query parameter. Field '${name}' could not be found in request message.`,
          ),
        )
        continue
      }
      if (!spec.repeated && values.length > 1) {
        issues.push(
          parameterIssue('invalidParameter', name, `The parameter ${name} can be given once`),
        )
      }
      const items = spec.repeated ? values.flatMap((value) => value.split(',')) : values
      for (const item of items) {
        const problem = checkParameter(spec, item)
        if (problem) issues.push(parameterIssue('invalidParameter', name, problem))
      }
      if (name === 'uploadType' && match.upload) {
        const value = values[0] ?? ''
        if (!UPLOAD_TYPES.includes(value)) {
          issues.push(
            parameterIssue(
              'invalidParameter',
              name,
              `Invalid value '${value}' for uploadType: one of ${UPLOAD_TYPES.join(', ')}`,
            ),
          )
        }
      }
      if (name === 'part') {
        const parts = partsOf(method)
        for (const part of items) {
          if (parts && !parts.includes(part.trim())) {
            issues.push({
              reason: 'unknownPart',
              domain: 'youtube.part',
              message: `'${part}' is not a part of this resource: one of ${parts.join(', ')}`,
              location: 'part',
              locationType: 'parameter',
            })
          }
        }
      }
    }
    // The /upload/ path needs uploadType; the /resumable/upload/ one implies it.
    if (match.upload === 'simple' && !query.has('uploadType')) {
      issues.push(parameterIssue('required', 'uploadType', 'Required parameter: uploadType'))
    }
    for (const [name, spec] of Object.entries(params)) {
      if (spec.location === 'path') {
        const value = match.pathParameters[name]
        const problem = value === undefined ? undefined : checkParameter(spec, value)
        if (problem) issues.push(parameterIssue('invalidParameter', name, problem))
      } else if (spec.required && !query.get(name)?.some((value) => value !== '')) {
        issues.push(parameterIssue('required', name, `Required parameter: ${name}`))
      }
    }
    if (request.body !== undefined) {
      if (!method.request) {
        issues.push(bodyIssue('', `${method.id} takes no request body`))
      } else {
        checkSchema({ $ref: method.request.$ref }, request.body, '', issues)
      }
    }
    return { match, issues }
  }

  function partsOf(method: DiscoveryMethod): string[] | undefined {
    const name = method.request?.$ref ?? method.response?.$ref
    let schema = name ? schemas[name] : undefined
    const items = schema?.properties?.items
    if (!method.request && items?.type === 'array' && items.items?.$ref) {
      schema = schemas[items.items.$ref]
    }
    const parts = Object.keys(schema?.properties ?? {}).filter(
      (part) => part !== 'kind' && part !== 'etag',
    )
    return parts.length > 0 ? parts : undefined
  }

  function checkSchema(
    schema: DiscoverySchema,
    value: unknown,
    path: string,
    issues: DiscoveryIssue[],
    owner?: string,
  ): void {
    const resolved = schema.$ref ? (schemas[schema.$ref] ?? {}) : schema
    const type = resolved.type ?? 'any'
    const at = `resource${path ? `.${path}` : ''}`
    if (type === 'object') {
      if (!isRecord(value)) {
        issues.push(bodyIssue(path, `Invalid value at '${at}': expected an object`))
        return
      }
      for (const [name, item] of Object.entries(value)) {
        const property = resolved.properties?.[name]
        const child = path ? `${path}.${name}` : name
        if (property) {
          if (property.readOnly || readOnly.has(`${resolved.id ?? owner}.${name}`)) {
            issues.push(bodyIssue(child, `${child} is read-only and cannot be set`, 'readOnly'))
            continue
          }
          checkSchema(property, item, child, issues, resolved.id)
        } else if (resolved.additionalProperties) {
          checkSchema(resolved.additionalProperties, item, child, issues, resolved.id)
        } else {
          issues.push(
            bodyIssue(
              child,
              `Invalid JSON payload received. Unknown name "${name}" at '${at}': Cannot find field.`,
            ),
          )
        }
      }
      return
    }
    if (type === 'array') {
      if (!Array.isArray(value)) {
        issues.push(bodyIssue(path, `Invalid value at '${at}': expected a list`))
        return
      }
      value.forEach((item, index) => {
        checkSchema(resolved.items ?? {}, item, `${path}[${index}]`, issues, owner)
      })
      return
    }
    const problem = checkScalar(resolved, value)
    if (problem)
      issues.push(
        bodyIssue(path, `Invalid value at '${at}' (${problem}), ${JSON.stringify(value)}`),
      )
  }

  return {
    /** The method a request goes to, if any. */
    resolve,
    /** Validates a request given as method, URL and the decoded JSON body (if any). */
    validate,
    /**
     * Validates a `Request`: reads a JSON body, or the JSON metadata part of a
     * `multipart/related` upload; media bytes are not read. Does not consume the request.
     */
    async checkRequest(request: Request) {
      const url = new URL(request.url)
      const contentType = request.headers.get('content-type') ?? ''
      let body: unknown
      if (contentType.startsWith('multipart/related')) {
        body = await readMetadataPart(request, contentType)
      } else if (/json/.test(contentType)) {
        const decoded = await readRequestBody(request)
        if (decoded.kind === 'json') body = decoded.value
        if (decoded.kind === 'invalid_json') {
          return {
            match: resolve(request.method, url),
            issues: [bodyIssue('', 'Invalid JSON payload received.', 'parseError')],
          }
        }
      }
      return validate({ method: request.method, url, body })
    },
  }
}

/** What `createDiscoveryValidator` returns. */
export type DiscoveryValidator = ReturnType<typeof createDiscoveryValidator>

/**
 * The body Google APIs answer an invalid request with: the documented error envelope
 * (`{error: {code, message, errors[], status}}`, https://cloud.google.com/apis/design/errors),
 * listing every issue; `message` is the first one's.
 *
 * @example
 * ```ts
 * const { issues } = await youtube.checkRequest(request)
 * if (issues.length > 0) return Response.json(createGoogleErrorBody(issues), { status: 400 })
 * ```
 */
export function createGoogleErrorBody(issues: readonly DiscoveryIssue[], status = 400) {
  return {
    error: {
      code: status,
      message: issues[0]?.message ?? 'Bad Request',
      errors: issues.map((issue) => ({
        message: issue.message,
        domain: issue.domain,
        reason: issue.reason,
        ...(issue.locationType === 'parameter'
          ? { location: issue.location, locationType: 'parameter' }
          : {}),
      })),
      status: status === 404 ? 'NOT_FOUND' : 'INVALID_ARGUMENT',
    },
  }
}

function route(method: DiscoveryMethod, template: string): Omit<Route, 'upload'> {
  const names: string[] = []
  const source = template
    .split(/(\{\+?[^}]+\})/)
    .map((part) => {
      const variable = /^\{(\+?)([^}]+)\}$/.exec(part)
      if (!variable?.[2]) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')
      names.push(variable[2])
      // `{+name}` is reserved expansion: it may span segments.
      return variable[1] ? '(.+)' : '([^/]+)'
    })
    .join('')
  return { method, pattern: new RegExp(`^${source}$`), names }
}

function uploadOf(candidate: Route, url: URL): Pick<DiscoveryMatch, 'upload'> {
  if (!candidate.upload) return {}
  return url.searchParams.get('uploadType') === 'resumable'
    ? { upload: 'resumable' }
    : { upload: candidate.upload }
}

function parameterIssue(reason: string, name: string, message: string): DiscoveryIssue {
  return { reason, domain: 'global', message, location: name, locationType: 'parameter' }
}

function bodyIssue(path: string, message: string, reason = 'badRequest'): DiscoveryIssue {
  return { reason, domain: 'global', message, location: path, locationType: 'body' }
}

function checkParameter(spec: DiscoveryParameter, value: string): string | undefined {
  if (spec.enum && !spec.enum.includes(value)) {
    return `Invalid value '${value}'. Values must be one of: ${spec.enum.join(', ')}`
  }
  if (spec.type === 'integer' || spec.type === 'number') {
    const number = Number(value)
    const pattern = spec.type === 'integer' ? /^-?\d+$/ : /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/
    if (!pattern.test(value)) return `Invalid value '${value}': expected ${spec.type}`
    if (spec.minimum !== undefined && number < Number(spec.minimum))
      return `Invalid value '${value}': at least ${spec.minimum}`
    if (spec.maximum !== undefined && number > Number(spec.maximum))
      return `Invalid value '${value}': at most ${spec.maximum}`
  }
  if (spec.type === 'boolean' && value !== 'true' && value !== 'false') {
    return `Invalid value '${value}': expected true or false`
  }
  if (spec.pattern && !new RegExp(spec.pattern).test(value)) {
    return `Invalid value '${value}': must match ${spec.pattern}`
  }
  return undefined
}

// Discovery types with the JSON encodings Google accepts: 64-bit integers travel as strings.
function checkScalar(schema: DiscoverySchema, value: unknown): string | undefined {
  switch (schema.type) {
    case 'string': {
      const int64 = schema.format === 'int64' || schema.format === 'uint64'
      if (int64 && (typeof value === 'number' || /^-?\d+$/.test(String(value)))) return undefined
      if (typeof value !== 'string') return 'TYPE_STRING'
      if (schema.enum && !schema.enum.includes(value)) return 'TYPE_ENUM'
      if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) return 'TIMESTAMP'
      return undefined
    }
    case 'integer':
      return Number.isInteger(typeof value === 'string' ? Number(value) : value)
        ? undefined
        : 'TYPE_INT32'
    case 'number':
      return typeof value === 'number' ||
        (typeof value === 'string' && value !== '' && !Number.isNaN(Number(value)))
        ? undefined
        : 'TYPE_DOUBLE'
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'TYPE_BOOL'
    default:
      return undefined
  }
}

async function readMetadataPart(request: Request, contentType: string): Promise<unknown> {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1]
  if (!boundary) return undefined
  const text = await request.clone().text()
  const first = text.split(`--${boundary}`)[1] ?? ''
  const separator = first.search(/\r?\n\r?\n/)
  const headers = first.slice(0, separator)
  if (separator < 0 || !/content-type:\s*application\/json/i.test(headers)) return undefined
  try {
    return JSON.parse(first.slice(separator).trim())
  } catch {
    return undefined
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
