import { createHash } from 'node:crypto'
import { z } from '@hono/zod-openapi'
import { and, eq, lt, sql } from 'drizzle-orm'
import type { MiddlewareHandler } from 'hono'
import type { Database } from '../db/client.ts'
import { idempotencyKeys } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import type { JobFeature } from '../jobs/feature.ts'
import type { AppEnv } from './router.ts'

/** The request header that names a POST's idempotency key. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key'

/** The response header set on a replayed response. */
export const REPLAYED_HEADER = 'Idempotent-Replayed'

/** How long a key's response is kept and replayed. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60

/**
 * A request in flight longer than this is taken to have died with its process (its row was never
 * finished): the same request may then run again instead of answering 409 for a whole day.
 */
export const ABANDONED_AFTER_SECONDS = 5 * 60

// 1–255 visible ASCII characters: what clients put in headers (UUIDs, ULIDs, hashes).
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/

/**
 * The `Idempotency-Key` request header, for the OpenAPI description of POST operations (the
 * middleware validates it).
 */
export const IdempotencyHeaders = z.object({
  'idempotency-key': z.string().min(1).max(255).optional().openapi({
    description:
      'Makes the request safe to retry for 24 hours: the same key and body replay the first response (with `Idempotent-Replayed: true`), another body with the key is refused (`422 IDEMPOTENCY_KEY_REUSED`), and `409` answers while the first is still running.',
    example: '5f0c6b1e-7d1a-4b8e-9a51-3f1b8a2f9c11',
  }),
})

/** The vault context of a stored response: bound to its caller and key. */
export const idempotencyContext = (scope: string, key: string) => `idempotency_key:${scope}:${key}`

interface StoredResponse {
  contentType: string | null
  location: string | null
  body: string
}

/**
 * Makes every POST with an `Idempotency-Key` header safe to retry. The first request with a key
 * records an in-flight row; when it ends, its response is stored (sealed in the vault, as it may
 * hold a secret) for 24 hours — for 2xx and 4xx answers except 409 and 429, which depend on the
 * moment; a 5xx removes the row so the client can try again. The same key then:
 *
 * - with the same request (method, path, query and canonical JSON body) replays the stored response
 *   with `Idempotent-Replayed: true`, or answers `409 CONFLICT` while the first is still in flight;
 * - with another request answers `422 IDEMPOTENCY_KEY_REUSED`.
 *
 * Requests with a body other than JSON (uploads, which stream to storage) are passed through.
 * Keys belong to the caller (API key, user, or profile token): two callers never see each other's
 * responses. Anonymous requests (sign-up, sign-in…) ignore the header: an address is no identity,
 * and replaying a sign-in answer to another person behind the same address would leak a session.
 * Mount it after authentication. Expired keys are removed by {@link purgeIdempotencyKeys}.
 *
 * @example
 * ```ts
 * app.use('/v1/*', authenticate())
 * app.use('/v1/*', idempotency())
 * ```
 */
export function idempotency(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method !== 'POST') return next()
    const key = c.req.header(IDEMPOTENCY_HEADER)
    if (key === undefined) return next()
    if (!KEY_PATTERN.test(key)) {
      throw new ProblemError('VALIDATION_FAILED', 'The Idempotency-Key header is not valid', {
        issues: [
          {
            location: 'header',
            path: [IDEMPOTENCY_HEADER],
            code: 'invalid_idempotency_key',
            message: 'Use 1 to 255 visible ASCII characters, such as a UUID',
          },
        ],
      })
    }
    const principal = c.var.principal
    if (!principal) return next()
    // Uploads stream their bytes to storage: they are not buffered here to be compared, so the
    // header does not apply to them (resumable uploads have their own offsets instead).
    const isJSON = /^application\/([\w.+-]+\+)?json\b/i.test(c.req.header('content-type') ?? '')
    if (c.req.raw.body !== null && !isJSON) return next()
    const scope =
      principal.type === 'user'
        ? `user:${principal.userId}`
        : principal.type === 'api_key'
          ? `api_key:${principal.apiKeyId}`
          : `profile_token:${principal.tokenId}`
    const { db, vault } = c.var.services
    const url = new URL(c.req.url)
    const query = [...url.searchParams].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    const requestHash = createHash('sha256')
      .update(`${c.req.method} ${url.pathname}?${new URLSearchParams(query)}\n`)
      .update(canonicalBody(isJSON ? await c.req.text() : ''))
      .digest('hex')

    const claimed = await claimKey(db, scope, key, requestHash)
    if (!claimed) {
      const [existing] = await db
        .select()
        .from(idempotencyKeys)
        .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)))
      if (existing && existing.requestHash !== requestHash) {
        throw new ProblemError(
          'IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was used with another request in the last 24 hours; use a new key for a new request',
        )
      }
      if (existing?.responseStatus != null && existing.responseBody != null) {
        const stored = JSON.parse(
          vault.open(existing.responseBody, idempotencyContext(scope, key)),
        ) as StoredResponse
        const headers: Record<string, string> = { [REPLAYED_HEADER]: 'true' }
        if (stored.contentType) headers['content-type'] = stored.contentType
        if (stored.location) headers.location = stored.location
        return c.body(stored.body, existing.responseStatus as 200, headers)
      }
      // In flight — or finished with a 5xx and removed an instant ago: either way, retry later.
      throw new ProblemError(
        'CONFLICT',
        'A request with this Idempotency-Key is still in progress; retry in a moment',
        { retryAfterSeconds: 1 },
      )
    }

    const release = () =>
      db
        .delete(idempotencyKeys)
        .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)))
    try {
      await next()
    } catch (error) {
      await release()
      throw error
    }
    const status = c.res.status
    const keep = (status >= 200 && status < 300) || (status >= 400 && status < 500)
    if (!keep || status === 409 || status === 429) {
      await release()
      return
    }
    const stored: StoredResponse = {
      contentType: c.res.headers.get('content-type'),
      location: c.res.headers.get('location'),
      body: await c.res.clone().text(),
    }
    await db
      .update(idempotencyKeys)
      .set({
        responseStatus: status,
        responseBody: vault.seal(JSON.stringify(stored), idempotencyContext(scope, key)),
      })
      .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)))
  }
}

/**
 * Inserts the in-flight row of a key, or takes over one that expired or was abandoned by a dead
 * process with the same request. Returns whether this request owns the key now.
 */
async function claimKey(db: Database, scope: string, key: string, requestHash: string) {
  const rows = await db
    .insert(idempotencyKeys)
    .values({
      scope,
      key,
      requestHash,
      expiresAt: sql`now() + make_interval(secs => ${IDEMPOTENCY_TTL_SECONDS})`,
    })
    .onConflictDoUpdate({
      target: [idempotencyKeys.scope, idempotencyKeys.key],
      set: {
        requestHash,
        responseStatus: null,
        responseBody: null,
        createdAt: sql`now()`,
        expiresAt: sql`excluded.expires_at`,
      },
      setWhere: sql`${idempotencyKeys.expiresAt} < now() or (
        ${idempotencyKeys.responseStatus} is null
        and ${idempotencyKeys.requestHash} = ${requestHash}
        and ${idempotencyKeys.createdAt} < now() - make_interval(secs => ${ABANDONED_AFTER_SECONDS})
      )`,
    })
    .returning({ key: idempotencyKeys.key })
  return rows.length > 0
}

/** JSON bodies compare by meaning (key order and spacing do not matter); others byte for byte. */
function canonicalBody(text: string): string {
  if (text === '') return ''
  try {
    return JSON.stringify(sortKeys(JSON.parse(text)))
  } catch {
    return text
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((name) => [name, sortKeys((value as Record<string, unknown>)[name])]),
    )
  }
  return value
}

/**
 * Deletes the idempotency keys whose 24 hours are over. Run periodically (the workers do, hourly).
 *
 * @example
 * ```ts
 * const removed = await purgeIdempotencyKeys(services.db)
 * ```
 * @returns how many keys were removed.
 */
export async function purgeIdempotencyKeys(db: Database): Promise<number> {
  const removed = await db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.expiresAt, sql`now()`))
    .returning({ key: idempotencyKeys.key })
  return removed.length
}

const PURGE_QUEUE = 'http.purge-idempotency-keys'

/** The idempotency keys' job: hourly, delete those whose 24 hours are over. */
export const idempotencyJobs = {
  name: 'idempotency',
  createQueues: (boss) => boss.createQueue(PURGE_QUEUE),
  async start(boss, services) {
    await boss.schedule(PURGE_QUEUE, '17 * * * *')
    await boss.work(PURGE_QUEUE, async () => {
      await purgeIdempotencyKeys(services().db)
    })
    return undefined
  },
} satisfies JobFeature<{ db: Database }>
