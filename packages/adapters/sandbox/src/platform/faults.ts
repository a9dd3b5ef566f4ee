/** The sandbox API calls a fault can be injected into. */
export type SandboxOperation =
  | 'token'
  | 'accounts'
  | 'upload'
  | 'upload_part'
  | 'publish'
  | 'delete'
  | 'metrics'
  | 'lookup'

/** A failure the sandbox answers with instead of doing the operation. */
export type SandboxFault =
  /**
   * 429 with `Retry-After`, `RateLimit` and `x-rate-limit-*` headers. Nothing is done. `scope:
   * 'app'` is the whole client app's limit (error code `APP_RATE_LIMITED`), not the account's.
   */
  | { kind: 'rate_limit'; retryAfterSeconds?: number; scope?: 'account' | 'app' }
  /** 422 with the sandbox's own error `code` and `message`. Nothing is done. */
  | { kind: 'reject'; code?: string; message?: string }
  /** 503. Nothing is done. */
  | { kind: 'unavailable'; retryAfterSeconds?: number }
  /** 401 `invalid_token`, as if the person revoked access. */
  | { kind: 'invalid_token' }
  /** 200 with a body no client can read (an HTML error page from a proxy). */
  | { kind: 'malformed' }
  /**
   * Publish only: the post is recorded, then no answer comes until the client gives up (its
   * request is aborted), or `holdMs` (default 120 s) passes and a 504 comes.
   */
  | { kind: 'timeout_after_commit'; holdMs?: number }

/** What a fault source is asked about. */
export interface SandboxFaultContext {
  operation: SandboxOperation
  accountId?: string
  /** The post's text, for `publish`. */
  text?: string
}

/** Decides whether a call fails, and how. Return `undefined` to let it succeed. */
export type SandboxFaultSource = (context: SandboxFaultContext) => SandboxFault | undefined

const MARKER =
  /#sandbox-fail:(rate_limit|app_rate_limit|reject|unavailable|invalid_token|malformed|timeout_after_commit)\b/

/**
 * The default fault source: a post whose text contains `#sandbox-fail:<kind>` fails that way
 * (`rate_limit`, `app_rate_limit`, `reject`, `unavailable`, `invalid_token`, `malformed`,
 * `timeout_after_commit`),
 * so anyone can demonstrate retries, rejections and reconciliation from the composer alone.
 *
 * @example
 * ```ts
 * faultsFromText({ operation: 'publish', text: 'Hello #sandbox-fail:reject' })
 * // { kind: 'reject', code: 'CONTENT_POLICY', message: '…' }
 * ```
 */
export const faultsFromText: SandboxFaultSource = ({ operation, text }) => {
  if (operation !== 'publish' || text === undefined) return undefined
  const kind = MARKER.exec(text)?.[1]
  switch (kind) {
    case undefined:
      return undefined
    case 'app_rate_limit':
      return { kind: 'rate_limit', scope: 'app' }
    case 'reject':
      return {
        kind,
        code: 'CONTENT_POLICY',
        message: 'The sandbox rejected this post because it asked to be (#sandbox-fail:reject).',
      }
    default:
      return { kind } as SandboxFault
  }
}

/**
 * A queue of faults for tests: each `push` fails the next call of one operation; otherwise it
 * defers to `fallback` (by default {@link faultsFromText}).
 *
 * @example
 * ```ts
 * const faults = createSandboxFaultQueue()
 * const platform = createSandboxPlatform({ store, faults: faults.source })
 * faults.push('publish', { kind: 'rate_limit', retryAfterSeconds: 30 })
 * ```
 */
export function createSandboxFaultQueue(fallback: SandboxFaultSource = faultsFromText) {
  const queued: { operation: SandboxOperation; fault: SandboxFault }[] = []
  return {
    push(operation: SandboxOperation, fault: SandboxFault) {
      queued.push({ operation, fault })
    },
    source: ((context) => {
      const index = queued.findIndex((entry) => entry.operation === context.operation)
      if (index === -1) return fallback(context)
      const [entry] = queued.splice(index, 1)
      return entry?.fault
    }) satisfies SandboxFaultSource,
  }
}
