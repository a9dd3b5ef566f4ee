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
