/** A request body decoded by its `Content-Type`, for checking it against a spec. */
export type DecodedBody =
  /** No body, or an empty one. */
  | { kind: 'empty' }
  /** `application/json` (or `+json`), parsed; a body that does not parse keeps its text. */
  | { kind: 'json'; value: unknown }
  | { kind: 'invalid_json'; text: string }
  /** `application/x-www-form-urlencoded`: fields as text, a repeated field as its last value. */
  | { kind: 'form'; fields: Record<string, string> }
  /** `multipart/form-data`: text fields as text, files as `Blob`s. */
  | { kind: 'multipart'; fields: Record<string, string | Blob> }
  /** Anything else (media bytes, text): not decoded. */
  | { kind: 'other'; contentType: string }

/**
 * Decodes a request's body by its `Content-Type` without consuming it (it reads a clone), so an
 * emulator can check a request against a spec and still serve it.
 *
 * @example
 * ```ts
 * const body = await readRequestBody(request)
 * if (body.kind === 'json') check(body.value)
 * ```
 */
export async function readRequestBody(request: Request): Promise<DecodedBody> {
  const copy = request.clone()
  const contentType = (request.headers.get('content-type') ?? '').toLowerCase()
  if (contentType.startsWith('multipart/form-data')) {
    const form = await copy.formData()
    return { kind: 'multipart', fields: Object.fromEntries(form.entries()) }
  }
  const text = await copy.text()
  if (text === '') return { kind: 'empty' }
  if (/^application\/([\w.-]+\+)?json/.test(contentType)) {
    try {
      return { kind: 'json', value: JSON.parse(text) }
    } catch {
      return { kind: 'invalid_json', text }
    }
  }
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    return { kind: 'form', fields: Object.fromEntries(new URLSearchParams(text)) }
  }
  return { kind: 'other', contentType }
}

/** What a spec check says about one request. */
export interface SpecCheckResult {
  /** The operation the request matched (an operation id, or method and path), if any. */
  operation?: string
  /** What does not match the spec, each a sentence naming the parameter or property. */
  problems: string[]
}

/**
 * Wraps a per-request spec check as an emulator's `inspect` hook that records mismatches
 * (prefixed with method and path) for the test to assert on afterwards, and the operations seen,
 * for a coverage assertion. A check that throws is recorded as a mismatch, not rethrown, so
 * the emulator still answers.
 *
 * @example
 * ```ts
 * const spec = createSpecInspector(async (request) => ({ problems: await problemsOf(request) }))
 * const emulator = createExampleEmulator({ inspect: spec.inspect })
 * // … run the adapter …
 * expect(spec.takeMismatches()).toEqual([])
 * ```
 */
export function createSpecInspector(check: (request: Request) => Promise<SpecCheckResult>) {
  const mismatches: string[] = []
  const operations = new Set<string>()
  return {
    async inspect(request: Request): Promise<void> {
      const url = new URL(request.url)
      const where = `${request.method} ${url.pathname}`
      try {
        const result = await check(request)
        if (result.operation) operations.add(result.operation)
        mismatches.push(...result.problems.map((problem) => `${where}: ${problem}`))
      } catch (error) {
        mismatches.push(`${where}: the spec check failed: ${String(error)}`)
      }
    },
    /** The mismatches found since the last call, emptied. */
    takeMismatches(): string[] {
      return mismatches.splice(0)
    },
    /** Every operation a request matched. */
    operations,
  }
}

/** What {@link createSpecInspector} returns. */
export type SpecInspector = ReturnType<typeof createSpecInspector>
