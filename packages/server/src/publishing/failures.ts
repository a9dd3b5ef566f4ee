import { isAdapterError } from '@post-scheduler/adapter-core'
import { eq } from 'drizzle-orm'
import { markReauthRequired } from '../connections/accounts.ts'
import type { ConnectedAccount } from '../connections/tokens.ts'
import { isDatabaseUnavailable } from '../db/errors.ts'
import { connectedAccounts, type PublicationError } from '../db/schema/index.ts'
import { pauseRateLimited } from './budgets.ts'
import type { Claim } from './claim.ts'
import type { Finish } from './finish.ts'
import type { EngineOptions, EngineServices } from './options.ts'
import { publicationErrorOf } from './publication-error.ts'

const SYSTEM = { type: 'system', id: undefined, ip: undefined, requestId: undefined } as const

/**
 * Turns a failure into how the attempt ends, per the adapter error taxonomy: retried with backoff
 * (honouring the platform's `Retry-After`, and pausing the account or app it rate-limited),
 * reconnect, rejected content, or an unknown outcome (retried through reconciliation, else
 * `unconfirmed`). Our own failures are retried too: a database that did not answer in a moment.
 *
 * @example
 * ```ts
 * catch (error) { return finish(await classifyFailure(services, claim, error, options)) }
 * ```
 */
export async function classifyFailure(
  services: EngineServices,
  claim: Claim,
  error: unknown,
  options: EngineOptions,
): Promise<Finish> {
  const attempts = claim.publication.attempts
  const backoff = () => Math.min(3600, 30 * 4 ** (attempts - 1)) * (0.8 + Math.random() * 0.4)
  if (!isAdapterError(error) && isDatabaseUnavailable(error)) {
    // A read of ours failed before the platform was called (the engine's writes wait instead, and
    // the adapter's platform errors are its own): try again in a moment, reconciling first when
    // handles were saved.
    const failure: PublicationError = {
      code: 'INTERNAL_ERROR',
      message: 'The database did not answer during publishing; it will be retried',
      retryable: true,
      action: 'retry_later',
    }
    return attempts < options.maxAttempts
      ? { status: 'queued', dueInSeconds: 1 + Math.random(), error: failure }
      : {
          status: 'failed',
          error: {
            ...failure,
            message: 'Publishing failed: the database did not answer',
            retryable: false,
          },
        }
  }
  if (!isAdapterError(error)) {
    services.logger.error(
      { err: error, publication: claim.publication.id },
      'publication attempt failed unexpectedly',
    )
    const failure: PublicationError = {
      code: 'INTERNAL_ERROR',
      message: 'Publishing failed on our side; it will be retried',
      retryable: true,
      action: 'retry_later',
    }
    return attempts < options.maxAttempts
      ? { status: 'queued', dueInSeconds: backoff(), error: failure }
      : {
          status: 'failed',
          error: { ...failure, message: 'Publishing failed on our side', retryable: false },
        }
  }
  const failure = publicationErrorOf(error)
  switch (error.code) {
    case 'OUTCOME_UNKNOWN':
      // The irreversible call was sent and no answer came: retry only through reconciliation.
      return attempts < options.maxAttempts
        ? { status: 'queued', dueInSeconds: 2, error: failure, outcome: 'unknown' }
        : { status: 'unconfirmed', error: failure }
    case 'RATE_LIMITED': {
      // Whoever's limit it is waits as a whole: the account, or every account of the app. None of
      // their publications calls the platform before then.
      const seconds = Math.max(1, error.retryAfterSeconds ?? backoff())
      await pauseRateLimited(services.db, {
        scope: error.scope,
        appKey: claim.appKey,
        accountId: claim.publication.accountId,
        seconds,
      })
      return attempts < options.maxAttempts * 2
        ? { status: 'queued', dueInSeconds: seconds, error: failure }
        : { status: 'failed', error: failure }
    }
    case 'RECONNECT_REQUIRED': {
      const [account] = await services.db
        .select()
        .from(connectedAccounts)
        .where(eq(connectedAccounts.id, claim.publication.accountId))
      if (account)
        await markReauthRequired(services, account as ConnectedAccount, 'publish_refused', SYSTEM)
      return { status: 'failed', error: { ...failure, action: 'reconnect' } }
    }
    case 'CONTENT_REJECTED':
      return { status: 'failed', error: { ...failure, action: 'fix_content' } }
    default:
      return error.retryable && attempts < options.maxAttempts
        ? { status: 'queued', dueInSeconds: backoff(), error: failure }
        : { status: 'failed', error: failure }
  }
}
