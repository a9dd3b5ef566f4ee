import { createEmulatorKit } from '@post-scheduler/adapter-core/emulator'
// Types only: erased, so this entry does not load vitest.
import type {
  ConformanceEmulator,
  ConformanceFault,
  ConformanceOperation,
  InjectedFault,
} from '@post-scheduler/adapter-core/testing'
import {
  createSandboxFaultQueue,
  type SandboxFault,
  type SandboxOperation,
} from '../platform/faults.ts'
import { createSandboxPlatform, type SandboxPlatformOptions } from '../platform/platform.ts'
import {
  processingFromText,
  type SandboxProcessing,
  type SandboxProcessingSource,
} from '../platform/processing.ts'
import { createMemorySandboxStore, type SandboxStore } from '../platform/store.ts'

/** Options of {@link createSandboxEmulator}. */
export interface SandboxEmulatorOptions extends Partial<Omit<SandboxPlatformOptions, 'faults'>> {
  /** Where the emulated sandbox lives. Defaults to `https://sandbox.test`. */
  baseURL?: string
}

const OPERATIONS: Record<
  ConformanceOperation,
  { operation: SandboxOperation; method: string; path: string }
> = {
  publish: { operation: 'publish', method: 'POST', path: '/v1/posts' },
  listAccounts: { operation: 'accounts', method: 'GET', path: '/v1/accounts' },
}

/**
 * The sandbox platform as msw handlers, for offline tests of anything that talks to the sandbox
 * (and for the adapter conformance suite). It is the real `createSandboxPlatform` handler behind
 * msw, with a request log, a fault queue and an in-memory store you can inspect.
 *
 * @example
 * ```ts
 * const emulator = createSandboxEmulator()
 * const server = setupServer(...emulator.handlers)
 * server.listen()
 * emulator.faults.push('publish', { kind: 'rate_limit', retryAfterSeconds: 10 })
 * const { posts } = await emulator.store.listPosts()
 * ```
 */
export function createSandboxEmulator(options: SandboxEmulatorOptions = {}) {
  const baseURL = (options.baseURL ?? 'https://sandbox.test').replace(/\/+$/, '')
  const kit = createEmulatorKit({ platform: 'sandbox' })
  const faults = createSandboxFaultQueue()
  const commits: (() => void)[] = []
  const inner = options.store ?? createMemorySandboxStore()
  // Tells a waiting test the moment a post is recorded (for "timeout after commit").
  const store: SandboxStore = {
    ...inner,
    async insertPost(post) {
      const result = await inner.insertPost(post)
      if (result.created) commits.shift()?.()
      return result
    },
  }
  // Completions deferred by the suite apply to the next posts, in order; then the options' (or
  // the default text markers').
  const deferred: SandboxProcessing[] = []
  const fallback = options.processing ?? processingFromText
  const processing: SandboxProcessingSource = (context) => deferred.shift() ?? fallback(context)
  const platform = createSandboxPlatform({
    ...options,
    baseURL,
    store,
    faults: faults.source,
    processing,
  })
  const pattern = new RegExp(`^${baseURL.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`)

  async function approve(authorizationURL: URL) {
    const consent = await platform(new Request(authorizationURL))
    if (consent.status !== 200) throw new Error(`the consent page answered ${consent.status}`)
    const form = new URLSearchParams(authorizationURL.searchParams)
    form.set('decision', 'allow')
    form.set('name', 'Conformance User')
    const decided = await platform(
      new Request(`${baseURL}/oauth/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
      }),
    )
    const location = new URL(decided.headers.get('location') ?? '')
    const code = location.searchParams.get('code')
    if (!code) throw new Error(`the consent redirect carried no code: ${location.href}`)
    return { code, state: location.searchParams.get('state') ?? '' }
  }

  function injectFault(operation: ConformanceOperation, fault: ConformanceFault): InjectedFault {
    const target = OPERATIONS[operation]
    const push = (sandboxFault: SandboxFault) => faults.push(target.operation, sandboxFault)
    switch (fault.kind) {
      case 'rate_limited':
        push({ kind: 'rate_limit', retryAfterSeconds: fault.retryAfterSeconds })
        return {}
      case 'content_rejected':
        push({
          kind: 'reject',
          code: 'CONTENT_POLICY',
          message: 'Posts about conformance are not allowed.',
        })
        return { platformCode: 'CONTENT_POLICY' }
      case 'platform_unavailable':
        push({ kind: 'unavailable' })
        return {}
      case 'reconnect_required':
        push({ kind: 'invalid_token' })
        return {}
      case 'unexpected_response':
        push({ kind: 'malformed' })
        return {}
      case 'network_failure':
        kit.faults.inject({ method: target.method, path: target.path }, { kind: 'network_error' })
        return {}
      case 'outcome_unknown': {
        push({ kind: 'timeout_after_commit' })
        return { committed: new Promise<void>((resolve) => commits.push(resolve)) }
      }
    }
  }

  return {
    handlers: [kit.route('all', pattern, ({ request }) => platform(request))],
    approve,
    injectFault,
    deferCompletion(completion: { afterSeconds: number; outcome: 'published' | 'failed' }) {
      deferred.push({ seconds: completion.afterSeconds, outcome: completion.outcome })
    },
    async countPosts(accountId: string) {
      return (await inner.listPosts({ accountId, limit: 1000 })).posts.length
    },
    /** The store behind the emulated sandbox: list what was published. */
    store: inner,
    /** Queue sandbox faults directly (all operations, all fault kinds). */
    faults,
    /** Every request the emulator received. */
    requests: kit.requests,
    /** The platform handler itself. */
    platform,
    baseURL,
  } satisfies ConformanceEmulator & Record<string, unknown>
}
