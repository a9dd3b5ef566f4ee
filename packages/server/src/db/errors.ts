/**
 * Whether a database error is a unique-constraint violation (SQLSTATE 23505), as thrown by
 * postgres.js directly or wrapped by drizzle.
 *
 * @example
 * ```ts
 * await db.insert(profiles).values(row).catch((error) => {
 *   if (isUniqueViolation(error)) throw new ProblemError('CONFLICT', 'externalId is taken')
 *   throw error
 * })
 * ```
 */
export function isUniqueViolation(error: unknown): boolean {
  const outer = error as { code?: unknown; cause?: { code?: unknown } } | null
  return (outer?.cause?.code ?? outer?.code) === '23505'
}

/** Node socket errors of a connection that could not be made or was cut. */
const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
])

/** postgres.js's own codes for a connection that ended, closed, or could not be made in time. */
const CLIENT_CODES = new Set(['CONNECTION_ENDED', 'CONNECTION_CLOSED', 'CONNECT_TIMEOUT'])

/**
 * SQLSTATEs of a server that is going away or not back yet: 57P01 admin shutdown (a fast or
 * immediate stop), 57P02 crash shutdown (another backend crashed), 57P03 cannot connect now (the
 * database system is starting up, or shutting down).
 */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03'])

/**
 * Whether an error means PostgreSQL did not answer — refused or cut the connection, is shutting
 * down, restarting or recovering (class 08 connection exceptions too) — rather than that the
 * statement was wrong. Such an error passes: the same statement may succeed a moment later. Knows
 * postgres.js's errors and node-postgres's (pg-boss), and looks through drizzle's wrappers
 * (`cause`) and Node's `AggregateError`s (a host with several addresses).
 *
 * @example
 * ```ts
 * app.onError((error, c) => {
 *   if (isDatabaseUnavailable(error)) return c.text('Try again shortly', 503, { 'Retry-After': '2' })
 *   throw error
 * })
 * ```
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>()
  const pending = [error]
  while (pending.length > 0) {
    const current = pending.pop()
    if (typeof current !== 'object' || current === null || seen.has(current)) continue
    seen.add(current)
    const { code, cause, errors, message } = current as {
      code?: unknown
      cause?: unknown
      errors?: unknown
      message?: unknown
    }
    // node-postgres (pg-boss's driver) gives a closed connection no code, only this message.
    if (typeof message === 'string' && message.startsWith('Connection terminated')) return true
    if (typeof code === 'string') {
      if (CONNECTION_ERRNOS.has(code) || CLIENT_CODES.has(code)) return true
      if (UNAVAILABLE_STATES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true
    }
    pending.push(cause)
    if (Array.isArray(errors)) pending.push(...errors)
  }
  return false
}
