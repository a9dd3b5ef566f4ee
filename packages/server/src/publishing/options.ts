import type { PgBoss } from 'pg-boss'
import type { Services } from '../services.ts'

/** How the engine is tuned; defaults suit production. */
export interface EngineOptions {
  /** A claim older than this is abandoned and may be taken over (after reconciling). */
  deadlineSeconds: number
  /** Attempts before a retryable failure becomes final. */
  maxAttempts: number
  /** Publications of one connected account in flight at once, across every worker. */
  accountConcurrency: number
  /** Publications to one platform in flight at once, across every worker and account. */
  platformConcurrency: number
  /**
   * How long a publication may wait in `processing` (the platform finishing it) before the engine
   * stops checking and marks it `unconfirmed`; an adapter may ask for less. Defaults to a day.
   */
  maxProcessingSeconds?: number
}

/** What the engine's steps use: the services, and the queue its retries and wake-ups go on. */
export type EngineServices = Services & { queue: PgBoss }
