/**
 * The server cannot start for a reason the operator can fix (a database that does not answer, a
 * port in use, an unreadable certificate). The message says what failed and what to do, fit to
 * print as is; the CLI prints it without a stack trace.
 */
export class StartupError extends Error {
  override name = 'StartupError'
}

/** A readable message for any thrown value, including the AggregateError of multi-address connects. */
export function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return [...new Set(error.errors.map(messageOf))].join('; ')
  }
  if (error instanceof Error) {
    return error.message || String((error as { code?: unknown }).code ?? error.name)
  }
  return String(error)
}
