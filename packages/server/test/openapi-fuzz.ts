import fc from 'fast-check'

/** The parts of a JSON Schema (as the OpenAPI document writes it) the fuzzer reads. */
export interface Schema {
  $ref?: string
  type?: string | string[]
  properties?: Record<string, Schema>
  required?: string[]
  items?: Schema
  enum?: unknown[]
  format?: string
  pattern?: string
  minLength?: number
  maxLength?: number
  minItems?: number
  minimum?: number
  maximum?: number
  example?: unknown
  default?: unknown
  anyOf?: Schema[]
  oneOf?: Schema[]
  allOf?: Schema[]
}

/** One operation of the document, as the fuzzer calls it. */
export interface Operation {
  method: string
  path: string
  parameters: { name: string; in: 'path' | 'query' | 'header' | 'cookie'; schema: Schema }[]
  /** The body's media type and schema, when the operation takes one. */
  body: { mediaType: string; schema: Schema } | undefined
}

/** A place in a request the fuzzer can put a hostile value: a parameter, or a node of the body. */
export type Site =
  | { in: 'path' | 'query'; name: string }
  | { in: 'body'; path: (string | number)[]; schemas: Schema[] }

/** The parts of the OpenAPI document the fuzzer reads. */
export interface Document {
  paths: Record<string, Record<string, Record<string, unknown>>>
  components: { schemas: Record<string, Schema> }
}

/** Every operation of the document, in document order. */
export function operationsOf(document: Document): Operation[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => {
      const content = (operation.requestBody as { content?: Record<string, { schema: Schema }> })
        ?.content
      const [mediaType, media] = Object.entries(content ?? {})[0] ?? []
      return {
        method: method.toUpperCase(),
        path,
        parameters: (operation.parameters ?? []) as Operation['parameters'],
        body: mediaType && media ? { mediaType, schema: media.schema } : undefined,
      }
    }),
  )
}

/**
 * Strings PostgreSQL or our parsers have choked on, or that no server should trust: NUL, unpaired
 * UTF-16 surrogates (valid in a JavaScript string and in JSON's `\ud800`, refused by PostgreSQL's
 * UTF-8), empties, very long strings, lookalikes of numbers and dates, injection attempts.
 */
export const HOSTILE_STRINGS = [
  '\u0000',
  'a\u0000b',
  'x\ud800',
  '\ud800x',
  '\udc00',
  '',
  ' ',
  'x'.repeat(20_000),
  '😀\u202e\u200b',
  'null',
  '-1',
  '1e309',
  '99999999999999999999999999',
  '2024-02-30T25:61:00Z',
  "'; drop table posts; --",
  '../../etc/passwd',
  '%00',
]

/** Cursors that decode but hold nothing a list gave out: a bad date, wrong types, an empty array. */
export const HOSTILE_CURSORS = [
  'WyJub3QgYSBkYXRlIiwiaWQiXQ==',
  Buffer.from(JSON.stringify(['not a date', 'id'])).toString('base64url'),
  Buffer.from(JSON.stringify(['2024-01-01T00:00:00.000000Z', '\u0000'])).toString('base64url'),
  Buffer.from(JSON.stringify(['99999-01-01T00:00:00.000000Z', 'x'])).toString('base64url'),
  Buffer.from(JSON.stringify(['2024-02-30T25:00:00.000000Z', 'x'])).toString('base64url'),
  Buffer.from(JSON.stringify(['0000-01-01T00:00:00.000000Z', 'x'])).toString('base64url'),
  Buffer.from(JSON.stringify(['', '0'])).toString('base64url'),
  Buffer.from(JSON.stringify([1, 2])).toString('base64url'),
  Buffer.from(JSON.stringify([])).toString('base64url'),
  Buffer.from('not json').toString('base64url'),
  'not base64 !',
]

/** JSON values of the wrong type, or out of any sane range, for any body node. */
const HOSTILE_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  2 ** 53 + 2,
  [],
  {},
  ['\u0000'],
  { '\u0000': 'x' },
  { a: { b: { c: { d: 'x\ud800' } } } },
]

/** Whole bodies that are not what any operation takes, as raw text. */
export const HOSTILE_BODIES = [
  '',
  '\ufeff',
  '\ufeff{}',
  '{}',
  '{"unknown":1,"unknown":2}',
  '{"__proto__":{"polluted":true}}',
  'null',
  '[]',
  '"text"',
  '1e400',
  '{"a":1e400}',
  '{',
  'not json',
  `${'['.repeat(5_000)}${']'.repeat(5_000)}`,
]

/** A hostile string for any string-typed place. */
export const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 10 }), fc.constantFrom('\u0000', '\ud800', '\udfff'))
      .map(([text, bad]) => text + bad + text),
  },
)

/** A hostile value for any node of a JSON body. */
export const hostileValue = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_VALUES) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
)

/** Follows `$ref`s and merges `allOf`, so the fuzzer sees one schema. */
export function resolve(schema: Schema, document: Document): Schema {
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '')
    const target = document.components.schemas[name]
    if (!target) throw new Error(`the document has no schema ${name}`)
    return resolve(target, document)
  }
  if (schema.allOf) {
    const parts = schema.allOf.map((part) => resolve(part, document))
    return {
      ...schema,
      allOf: undefined,
      type: 'object',
      properties: Object.assign({}, ...parts.map((part) => part.properties ?? {})),
      required: parts.flatMap((part) => part.required ?? []),
    }
  }
  return schema
}

/** Real ids by parameter or field name, so requests reach past "not found" into the handlers. */
export type Fixtures = Record<string, string>

/**
 * A value the schema accepts, made without randomness: fixture ids by field name, examples,
 * the first enum member, the required properties of objects.
 */
export function sample(schema: Schema, document: Document, fixtures: Fixtures, name = ''): unknown {
  const resolved = resolve(schema, document)
  if (name && fixtures[name] !== undefined) return fixtures[name]
  if (name.endsWith('Ids') && fixtures[name.slice(0, -1)] !== undefined) {
    return [fixtures[name.slice(0, -1)]]
  }
  if (resolved.example !== undefined) return resolved.example
  if (resolved.default !== undefined) return resolved.default
  if (resolved.enum) return resolved.enum[0]
  const options = resolved.anyOf ?? resolved.oneOf
  if (options) {
    const option = options.find((candidate) => resolve(candidate, document).type !== 'null')
    return sample(option ?? (options[0] as Schema), document, fixtures, name)
  }
  const type = Array.isArray(resolved.type)
    ? resolved.type.find((candidate) => candidate !== 'null')
    : resolved.type
  switch (type) {
    case 'object':
      return Object.fromEntries(
        (resolved.required ?? []).map((key) => [
          key,
          sample(resolved.properties?.[key] ?? {}, document, fixtures, key),
        ]),
      )
    case 'array':
      return Array.from({ length: Math.max(resolved.minItems ?? 0, 1) }, () =>
        sample(resolved.items ?? {}, document, fixtures, name),
      )
    case 'integer':
    case 'number':
      return Math.min(Math.max(resolved.minimum ?? 1, 1), resolved.maximum ?? 1)
    case 'boolean':
      return false
    default:
      return sampleString(resolved)
  }
}

function sampleString(schema: Schema): string {
  switch (schema.format) {
    case 'date-time':
      return new Date(Date.now() + 2 * 86_400_000).toISOString()
    case 'date':
      return '1990-01-01'
    case 'email':
      return 'fuzz@example.com'
    case 'uri':
    case 'url':
      return 'https://example.com/'
  }
  if (schema.pattern) {
    const [value] = fc.sample(fc.stringMatching(new RegExp(schema.pattern)), {
      seed: 1,
      numRuns: 1,
    })
    return value ?? ''
  }
  return 'fuzz'.padEnd(schema.minLength ?? 4, 'z')
}

/** Every node of a body schema, down to `depth` levels: each a place for a hostile value. */
export function bodySites(schema: Schema, document: Document, depth = 3): Site[] {
  const sites: Site[] = [{ in: 'body', path: [], schemas: [schema] }]
  const walk = (node: Schema, path: (string | number)[], schemas: Schema[]) => {
    if (path.length >= depth) return
    const resolved = resolve(node, document)
    const options = resolved.anyOf ?? resolved.oneOf
    const chosen = options?.find((candidate) => resolve(candidate, document).type !== 'null')
    const target = chosen ? resolve(chosen, document) : resolved
    for (const [key, child] of Object.entries(target.properties ?? {})) {
      sites.push({ in: 'body', path: [...path, key], schemas: [...schemas, child] })
      walk(child, [...path, key], [...schemas, child])
    }
    if (target.items) {
      sites.push({ in: 'body', path: [...path, 0], schemas: [...schemas, target.items] })
      walk(target.items, [...path, 0], [...schemas, target.items])
    }
  }
  walk(schema, [], [schema])
  return sites
}

/**
 * The body with `value` at `site`: missing containers on the way are filled with values their
 * schemas accept, so the hostile value is the only thing wrong with the request.
 */
export function placeInBody(
  base: unknown,
  site: Extract<Site, { in: 'body' }>,
  value: unknown,
  document: Document,
  fixtures: Fixtures,
): unknown {
  if (site.path.length === 0) return value
  const root = structuredClone(base) as Record<string | number, unknown>
  let node = root
  site.path.forEach((key, index) => {
    if (index === site.path.length - 1) {
      node[key] = value
      return
    }
    const existing = node[key]
    if (existing === null || typeof existing !== 'object') {
      const schema = site.schemas[index + 1] ?? {}
      const made = sample(schema, document, fixtures, typeof key === 'string' ? key : '')
      node[key] = made !== null && typeof made === 'object' ? made : {}
    }
    node = node[key] as Record<string | number, unknown>
  })
  return root
}

/**
 * Percent-encodes a string for a URL, including unpaired surrogates (as the three bytes their
 * code unit would take in UTF-8, which `encodeURIComponent` refuses to write).
 */
export function encodeForURL(value: string): string {
  let encoded = ''
  for (const character of value) {
    const unit = character.charCodeAt(0)
    if (character.length === 1 && unit >= 0xd800 && unit <= 0xdfff) {
      encoded += [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)]
        .map((byte) => `%${byte.toString(16).toUpperCase()}`)
        .join('')
    } else {
      encoded += encodeURIComponent(character)
    }
  }
  return encoded
}
