/**
 * Batches calls to `flush` without adding delay: the first call runs a flush at once (after the
 * current synchronous code), and calls made while a flush is running wait and go together in the
 * next one. A quiet system pays one flush per call; a busy one pays one flush (one statement,
 * one transaction) for everything that arrived meanwhile. At most one flush runs at a time.
 *
 * `flush` answers one result per item, in the items' order; when it throws, every call of that
 * batch rejects with its error.
 *
 * @example
 * ```ts
 * const save = coalesce(async (rows: Row[]) => {
 *   await db.insert(table).values(rows)
 *   return rows.map(() => true)
 * })
 * await Promise.all([save(a), save(b)]) // one insert, or two if `a`'s had started
 * ```
 */
export function coalesce<T, R>(
  flush: (items: T[]) => Promise<R[]>,
  options: { maxBatch?: number } = {},
): Coalesced<T, R> {
  const maxBatch = options.maxBatch ?? 500
  let waiting: { item: T; resolve: (result: R) => void; reject: (error: unknown) => void }[] = []
  let running = false
  const idleWaiters: (() => void)[] = []

  async function drain() {
    while (waiting.length > 0) {
      const batch = waiting.slice(0, maxBatch)
      waiting = waiting.slice(batch.length)
      try {
        const results = await flush(batch.map((entry) => entry.item))
        for (const [index, entry] of batch.entries()) entry.resolve(results[index] as R)
      } catch (error) {
        for (const entry of batch) entry.reject(error)
      }
    }
    running = false
    for (const wake of idleWaiters.splice(0)) wake()
  }

  const call = (item: T) =>
    new Promise<R>((resolve, reject) => {
      waiting.push({ item, resolve, reject })
      if (running) return
      running = true
      queueMicrotask(() => void drain())
    })
  return Object.assign(call, {
    idle: () =>
      running ? new Promise<void>((resolve) => idleWaiters.push(resolve)) : Promise.resolve(),
  })
}

/** A batching function made by {@link coalesce}. */
export interface Coalesced<T, R> {
  (item: T): Promise<R>
  /**
   * Resolves once nothing is waiting or being flushed (at once when idle): what was handed over
   * before has been written or has failed. For shutdowns, before the database closes.
   */
  idle(): Promise<void>
}

/**
 * {@link coalesce} for code that learns its database only when called (middleware reads it from
 * the request's services): one batching queue per database client, made on first use.
 *
 * @example
 * ```ts
 * const find = coalescePerDatabase((db, hashes: string[]) => findApiKeys(db, hashes))
 * const key = await find(c.var.services.db, hash)
 * ```
 */
export function coalescePerDatabase<D extends object, T, R>(
  flush: (db: D, items: T[]) => Promise<R[]>,
  options: { maxBatch?: number } = {},
): ((db: D, item: T) => Promise<R>) & { idle(db: D): Promise<void> } {
  const queues = new WeakMap<D, Coalesced<T, R>>()
  const call = (db: D, item: T) => {
    let queue = queues.get(db)
    if (!queue) {
      queue = coalesce((items: T[]) => flush(db, items), options)
      queues.set(db, queue)
    }
    return queue(item)
  }
  /** {@link Coalesced.idle} of the database's queue. */
  return Object.assign(call, { idle: (db: D) => queues.get(db)?.idle() ?? Promise.resolve() })
}
