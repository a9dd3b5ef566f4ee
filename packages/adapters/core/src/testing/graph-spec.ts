import { readRequestBody } from './request-body.ts'

/** One parameter of a Graph edge, as Meta's node specs write it. */
export interface GraphParamSpec {
  name: string
  /** `string`, `int`, `unsigned int`, `bool`, `float`, `datetime`, `map`, `Object`, `file`, `list<…>`, an enum type or a node type. */
  type: string
  required?: boolean
}

/** One call on a node: the node itself (no `endpoint`) or one of its edges. */
export interface GraphEdgeSpec {
  method: string
  endpoint?: string
  return?: string
  params?: GraphParamSpec[]
}

/**
 * A node spec from Meta's SDK code generator (`facebook/facebook-business-sdk-codegen`,
 * `api_specs/specs/<Node>.json`), parsed. The file name is the node type.
 */
export interface GraphNodeSpec {
  apis?: GraphEdgeSpec[]
  fields?: { name: string; type: string }[]
}

/** One entry of the same repository's `enum_types.json`. */
export interface GraphEnumType {
  name: string
  node?: string | null
  field_or_param: string
  values: string[]
}

/**
 * What Meta's documentation says where the node specs are loose or silent: a parameter the docs
 * document but the spec lacks, a `string` the docs restrict to a few values, an edge the docs
 * name differently. Entries merge into the spec's edge by parameter name (creating the edge if
 * the spec has none); `source` says where the fact comes from, for the reader.
 */
export interface GraphDocumentedEdge {
  node: string
  method: string
  /** Absent for the node itself. */
  edge?: string
  params: (Partial<GraphParamSpec> & { name: string; values?: readonly string[] })[]
  source: string
}

/** Why a request does not match the spec. */
export type GraphIssueReason =
  | 'UNKNOWN_PARAMETER'
  | 'MISSING_PARAMETER'
  | 'INVALID_TYPE'
  | 'INVALID_ENUM'
  | 'UNKNOWN_FIELD'
  | 'UNSUPPORTED_REQUEST'

/** One thing wrong with a Graph request, with the message Graph would answer it with. */
export interface GraphIssue {
  reason: GraphIssueReason
  /** The parameter (or, for `UNKNOWN_FIELD`, the field) at fault. */
  param?: string
  /** Graph-style text, e.g. `(#100) The parameter creation_id is required`. */
  message: string
  /** Graph's `type`: `OAuthException` for parameters, `GraphMethodException` for an unsupported call. */
  type: 'OAuthException' | 'GraphMethodException'
  /** Graph's numeric `code`: 100 (invalid parameter) for all of them. */
  code: 100
  /** Graph's `error_subcode`: 33 for an unsupported call. */
  subcode?: number
}

/** A Graph API path split into its parts. */
export interface GraphPath {
  /** `v23.0` when the path carries a version. */
  version?: string
  /** The node's id (`17841400000000000`, `me`, `upload:…`). */
  objectId: string
  /** The edge (`media`, `video_reels`), absent for the node itself. */
  edge?: string
}

/**
 * Parameters Graph accepts on every call, whatever the edge: authentication, field selection,
 * paging and response shaping (https://developers.facebook.com/docs/graph-api/overview,
 * /guides/field-expansion, /results, /securing-requests). An edge's own spec wins where it
 * declares one of them.
 *
 * @example
 * ```ts
 * createGraphSpecValidator({ nodes, generalParameters: [...GRAPH_GENERAL_PARAMETERS, 'batch'] })
 * ```
 */
export const GRAPH_GENERAL_PARAMETERS: readonly string[] = [
  'access_token',
  'appsecret_proof',
  'appsecret_time',
  'fields',
  'limit',
  'after',
  'before',
  'offset',
  'since',
  'until',
  'pretty',
  'suppress_http_code',
  'method',
  'callback',
  'format',
  'locale',
  'date_format',
  'debug',
  'include_headers',
  'transport',
]

/**
 * Splits a Graph API path into version, node id and edge. Graph paths are `/{id}` or
 * `/{id}/{edge}`, optionally after a `/vNN.N` version; the specs record no version, so an emulator
 * routes on the rest. Answers `undefined` for anything deeper (not a Graph path).
 *
 * @example
 * ```ts
 * parseGraphPath('/v23.0/17841400000000000/media')
 * // { version: 'v23.0', objectId: '17841400000000000', edge: 'media' }
 * ```
 */
export function parseGraphPath(pathname: string): GraphPath | undefined {
  const segments = pathname.split('/').filter((segment) => segment !== '')
  const version = /^v\d+\.\d+$/.test(segments[0] ?? '') ? segments.shift() : undefined
  const [objectId, edge, ...rest] = segments.map((segment) => decodeURIComponent(segment))
  if (!objectId || rest.length > 0) return undefined
  return {
    ...(version ? { version } : {}),
    objectId,
    ...(edge ? { edge } : {}),
  }
}

/**
 * A Graph request's parameters, merged as Graph reads them: the query string, then the body
 * (`application/x-www-form-urlencoded`, `multipart/form-data` or a JSON object), the body winning.
 * PHP-style list fields (`attached_media[0]=…`, `children[]=…`) become arrays, their JSON items
 * parsed. Does not consume the request.
 *
 * @example
 * ```ts
 * const params = await readGraphParameters(request)
 * params.caption // 'Hello'
 * ```
 */
export async function readGraphParameters(request: Request): Promise<Record<string, unknown>> {
  const params: Record<string, unknown> = {}
  const lists = new Map<string, unknown[]>()
  const put = (name: string, value: unknown) => {
    const bracket = /^([^[\]]+)\[(\d*)\]$/.exec(name)
    if (!bracket?.[1]) {
      params[name] = value
      return
    }
    const list = lists.get(bracket[1]) ?? []
    lists.set(bracket[1], list)
    const item = typeof value === 'string' && /^\s*[[{]/.test(value) ? parseJSON(value) : value
    if (bracket[2] === '') list.push(item)
    else list[Number(bracket[2])] = item
  }
  for (const [name, value] of new URL(request.url).searchParams) put(name, value)
  const body = await readRequestBody(request)
  if (body.kind === 'form' || body.kind === 'multipart') {
    for (const [name, value] of Object.entries(body.fields)) put(name, value)
  } else if (body.kind === 'json' && isRecord(body.value)) {
    for (const [name, value] of Object.entries(body.value)) put(name, value)
  }
  for (const [name, list] of lists) params[name] = list
  return params
}

/** Options of {@link createGraphSpecValidator}. */
export interface GraphSpecValidatorOptions {
  /** Node specs by node type (`{ IGUser, Page }`), as parsed JSON. */
  nodes: Record<string, GraphNodeSpec>
  /** `enum_types.json`, parsed: resolves enum parameter types. */
  enumTypes?: readonly GraphEnumType[]
  /** Where the docs say more than the specs (see {@link GraphDocumentedEdge}). */
  documented?: readonly GraphDocumentedEdge[]
  /** Parameters accepted on every call. Defaults to {@link GRAPH_GENERAL_PARAMETERS}. */
  generalParameters?: readonly string[]
}

/** A request to check: the node type the emulator resolved the path's id to, and what was sent. */
export interface GraphRequestShape {
  node: string
  method: string
  edge?: string
  params: Record<string, unknown>
  /** The id the request named, for the unsupported-request message. */
  objectId?: string
}

interface ResolvedParam {
  name: string
  type: string
  required: boolean
  values?: readonly string[]
}

/**
 * Turns Meta Graph API node specs into a request validator for platform emulators. Given the node
 * type, the method, the edge and the parameters, it reports every problem: a parameter the edge
 * does not take (with the closest valid name), a required one missing, a value of the wrong type,
 * a value outside the enum, a `fields` selection naming a field the node lacks, or an edge the
 * node does not have. Names and enums are exact (enums compared case-insensitively: Meta's own
 * examples send `upload_phase=start` to an enum of `START`); types are lenient where Graph is
 * (ids as numbers or text, lists as JSON or comma-separated, `Object` as anything).
 *
 * Graph itself ignores some unknown parameters; the emulator refusing them is deliberate, so a
 * misspelt parameter fails a test instead of silently doing nothing.
 *
 * @example
 * ```ts
 * import IGUser from '../specs/meta/IGUser.json' with { type: 'json' }
 * import enumTypes from '../specs/meta/enum_types.json' with { type: 'json' }
 *
 * const graph = createGraphSpecValidator({ nodes: { IGUser }, enumTypes })
 * graph.validate({ node: 'IGUser', method: 'POST', edge: 'media', params: { captoin: 'Hi' } })
 * // [{ reason: 'UNKNOWN_PARAMETER', param: 'captoin', message: '(#100) … (did you mean caption?)', … }]
 * ```
 */
export function createGraphSpecValidator(options: GraphSpecValidatorOptions) {
  const enums = new Map((options.enumTypes ?? []).map((entry) => [entry.name, entry.values]))
  const general = new Set(options.generalParameters ?? GRAPH_GENERAL_PARAMETERS)
  const edges = new Map<string, Map<string, ResolvedParam>>()
  const key = (node: string, method: string, edge: string | undefined) =>
    `${node} ${method.toUpperCase()} ${edge ?? ''}`

  for (const [node, spec] of Object.entries(options.nodes)) {
    for (const api of spec.apis ?? []) {
      const params = new Map<string, ResolvedParam>()
      for (const param of api.params ?? []) {
        params.set(param.name, {
          name: param.name,
          type: param.type,
          required: param.required === true,
        })
      }
      edges.set(key(node, api.method, api.endpoint), params)
    }
  }
  for (const entry of options.documented ?? []) {
    const id = key(entry.node, entry.method, entry.edge)
    const params = edges.get(id) ?? new Map<string, ResolvedParam>()
    edges.set(id, params)
    for (const param of entry.params) {
      const known = params.get(param.name)
      params.set(param.name, {
        name: param.name,
        type: param.type ?? known?.type ?? 'string',
        required: param.required ?? known?.required ?? false,
        ...((param.values ?? known?.values) ? { values: param.values ?? known?.values } : {}),
      })
    }
  }

  function selectableNames(node: string): Set<string> | undefined {
    const spec = options.nodes[node]
    if (!spec) return undefined
    return new Set([
      ...(spec.fields ?? []).map((field) => field.name),
      ...(spec.apis ?? []).flatMap((api) => (api.endpoint ? [api.endpoint] : [])),
    ])
  }

  function validate(request: GraphRequestShape): GraphIssue[] {
    if (!options.nodes[request.node]) {
      throw new Error(
        `No node spec for ${request.node}: pass its spec in createGraphSpecValidator({ nodes }).`,
      )
    }
    const method = request.method.toUpperCase()
    const params = edges.get(key(request.node, method, request.edge))
    if (!params) {
      return [unsupported(method, request.objectId ?? request.node)]
    }
    const issues: GraphIssue[] = []
    const issue = (reason: GraphIssueReason, param: string, message: string) =>
      issues.push({
        reason,
        param,
        message: `(#100) ${message}`,
        type: 'OAuthException',
        code: 100,
      })

    for (const [name, value] of Object.entries(request.params)) {
      const param = params.get(name)
      if (!param) {
        if (general.has(name)) continue
        const near = closest(name, [...params.keys()])
        issue(
          'UNKNOWN_PARAMETER',
          name,
          `Param ${name} is not a valid parameter of ${method} ${request.node}${request.edge ? `/${request.edge}` : ''}${near ? ` (did you mean ${near}?)` : ''}`,
        )
        continue
      }
      const problem = checkValue(param.values ? { enum: param.values } : param.type, value, enums)
      if (problem?.enum) {
        issue(
          'INVALID_ENUM',
          name,
          `Param ${name} must be one of {${problem.enum.join(', ')}} - got ${JSON.stringify(problem.got)}`,
        )
      } else if (problem) {
        issue('INVALID_TYPE', name, `Param ${name} must be ${problem.expected}`)
      }
    }
    for (const param of params.values()) {
      const value = request.params[param.name]
      if (param.required && (value === undefined || value === '')) {
        issue('MISSING_PARAMETER', param.name, `The parameter ${param.name} is required`)
      }
    }
    const fields = request.params.fields
    if (method === 'GET' && typeof fields === 'string' && !params.has('fields')) {
      const target = request.edge ? returnOf(request.node, request.edge) : request.node
      const names = target ? selectableNames(target) : undefined
      for (const field of names ? topLevelFields(fields) : []) {
        if (!names?.has(field)) {
          issue(
            'UNKNOWN_FIELD',
            field,
            `Tried accessing nonexisting field (${field}) on node type (${target})`,
          )
        }
      }
    }
    return issues
  }

  function returnOf(node: string, edge: string): string | undefined {
    return options.nodes[node]?.apis?.find((api) => api.method === 'GET' && api.endpoint === edge)
      ?.return
  }

  return {
    /** Every issue of a request given as node type, method, edge and parameters; `[]` if valid. */
    validate,
    /**
     * Reads a request's path and parameters and validates them; `nodeOf` maps the path's id to
     * its node type (the emulator knows what it created). `issues` is empty for a valid request.
     */
    async checkRequest(
      request: Request,
      nodeOf: (path: GraphPath) => string | undefined,
    ): Promise<{
      path: GraphPath | undefined
      params: Record<string, unknown>
      issues: GraphIssue[]
    }> {
      const path = parseGraphPath(new URL(request.url).pathname)
      const params = await readGraphParameters(request)
      const node = path && nodeOf(path)
      if (!path || !node) {
        return {
          path,
          params,
          issues: [unsupported(request.method, path?.objectId ?? new URL(request.url).pathname)],
        }
      }
      const issues = validate({
        node,
        method: request.method,
        params,
        objectId: path.objectId,
        ...(path.edge ? { edge: path.edge } : {}),
      })
      return { path, params, issues }
    },
    /** The parameters an edge takes (spec and documented), for an emulator that reads them. */
    parametersOf(node: string, method: string, edge?: string): string[] | undefined {
      const params = edges.get(key(node, method, edge))
      return params && [...params.keys()]
    },
  }
}

/** What `createGraphSpecValidator` returns. */
export type GraphSpecValidator = ReturnType<typeof createGraphSpecValidator>

// Graph's answer to a call a node does not support (code 100, subcode 33).
function unsupported(method: string, objectId: string): GraphIssue {
  return {
    reason: 'UNSUPPORTED_REQUEST',
    message: `Unsupported ${method.toLowerCase()} request. Object with ID '${objectId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
    type: 'GraphMethodException',
    code: 100,
    subcode: 33,
  }
}

/**
 * The body Graph answers an invalid request with (HTTP 400): the documented error envelope
 * (https://developers.facebook.com/docs/graph-api/guides/error-handling) built from the first
 * issue, as Graph reports one error per response.
 *
 * @example
 * ```ts
 * const { issues } = await graph.checkRequest(request, nodeOf)
 * if (issues[0]) return Response.json(createGraphErrorBody(issues[0]), { status: 400 })
 * ```
 */
export function createGraphErrorBody(issue: GraphIssue, options: { fbtraceId?: string } = {}) {
  return {
    error: {
      message: issue.message,
      type: issue.type,
      code: issue.code,
      ...(issue.subcode === undefined ? {} : { error_subcode: issue.subcode }),
      fbtrace_id: options.fbtraceId ?? createTraceId(),
    },
  }
}

function createTraceId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8))
  return btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, '')
}

type ValueProblem =
  | { expected: string; enum?: undefined }
  | { enum: readonly string[]; got: unknown }

function checkValue(
  type: string | { enum: readonly string[] },
  value: unknown,
  enums: Map<string, readonly string[]>,
): ValueProblem | undefined {
  if (typeof type !== 'string') return checkEnum(type.enum, value)
  const list = /^list(?:<(.+)>)?$/.exec(type)
  if (list) {
    const items = listItems(value)
    if (!items) return { expected: 'a list (a JSON array or comma-separated values)' }
    if (!list[1]) return undefined
    for (const item of items) {
      const problem = checkValue(list[1], item, enums)
      if (problem) return problem
    }
    return undefined
  }
  const values = enums.get(type)
  if (values) return checkEnum(values, value)
  const scalar = typeof value === 'string' || typeof value === 'number'
  const text = scalar ? String(value).trim() : ''
  switch (type) {
    case 'string':
      return scalar || typeof value === 'boolean' ? undefined : { expected: 'a string' }
    case 'int':
      return /^-?\d+$/.test(text) ? undefined : { expected: 'an integer' }
    case 'unsigned int':
      return /^\d+$/.test(text) ? undefined : { expected: 'a non-negative integer' }
    case 'float':
      return text !== '' && Number.isFinite(Number(text)) ? undefined : { expected: 'a number' }
    case 'bool':
      return typeof value === 'boolean' || /^(true|false|1|0)$/i.test(text)
        ? undefined
        : { expected: 'a boolean' }
    // Graph takes a Unix time, ISO 8601 or any strtotime() text here: only the shape is checked.
    case 'datetime':
      return text !== '' ? undefined : { expected: 'a date and time' }
    case 'map':
      return isRecord(typeof value === 'string' ? parseJSON(value) : value)
        ? undefined
        : { expected: 'a JSON object' }
    // Loose in the specs: an id, a JSON object or text, depending on the edge.
    case 'Object':
    case 'file':
      return undefined
    default:
      // A node type: the parameter carries the node's id.
      return scalar && text !== '' ? undefined : { expected: `the id of a ${type}` }
  }
}

function checkEnum(values: readonly string[], value: unknown): ValueProblem | undefined {
  const text = typeof value === 'string' || typeof value === 'number' ? String(value) : undefined
  const folded = text?.toLowerCase()
  return values.some((candidate) => candidate.toLowerCase() === folded)
    ? undefined
    : { enum: values, got: value }
}

function listItems(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value
  if (typeof value === 'number' || typeof value === 'boolean') return [value]
  if (typeof value !== 'string') return undefined
  const text = value.trim()
  if (text.startsWith('[')) {
    const parsed = parseJSON(text)
    return Array.isArray(parsed) ? parsed : undefined
  }
  return text === '' ? [] : text.split(',').map((item) => item.trim())
}

// `fields=id,insights.metric(reach){values},picture.type(large)` → id, insights, picture.
function topLevelFields(selection: string): string[] {
  const names: string[] = []
  let depth = 0
  let current = ''
  for (const char of `${selection},`) {
    if (char === '{' || char === '(') depth++
    else if (char === '}' || char === ')') depth--
    if (char === ',' && depth === 0) {
      const name = /^\s*([^.{(\s]+)/.exec(current)?.[1]
      if (name) names.push(name)
      current = ''
    } else {
      current += char
    }
  }
  return names
}

function closest(name: string, candidates: string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate)
    if (distance <= Math.max(2, Math.floor(name.length / 3)) && distance < (best?.distance ?? 99))
      best = { candidate, distance }
  }
  return best?.candidate
}

// Damerau–Levenshtein (optimal string alignment), so a swap of two letters counts once.
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  const at = (i: number, j: number) => rows[i]?.[j] ?? Number.POSITIVE_INFINITY
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row[j] = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(at(i, j), at(i - 2, j - 2) + 1)
    }
  }
  return at(a.length, b.length)
}

function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
