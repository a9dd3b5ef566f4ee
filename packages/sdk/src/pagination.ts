/** One page of a list: its items and the cursor of the next page (`null` on the last). */
export interface Page<Item> {
  data: Item[]
  nextCursor: string | null
}

/**
 * What a list method answers. Await it for the first page; iterate it with `for await` for every
 * item across pages (each page is fetched when the previous one is used up); or collect items with
 * `toArray`.
 *
 * @example
 * ```ts
 * const first = await client.posts.list({ limit: 50 }) // { data, nextCursor }
 * for await (const post of client.posts.list({ status: 'scheduled' })) console.log(post.id)
 * const recent = await client.posts.list().toArray({ limit: 200 })
 * ```
 */
export interface PageList<Item, FirstPage = Page<Item>>
  extends PromiseLike<FirstPage>,
    AsyncIterable<Item> {
  /** Every page in turn, from the first. */
  pages(): AsyncIterableIterator<Page<Item>>
  /**
   * The items of every page, in order, in one array. `limit` stops after that many items (and
   * fetches no page beyond them); without it the whole list is fetched.
   */
  toArray(options?: { limit?: number }): Promise<Item[]>
}

/** A {@link PageList} over `fetchPage`, starting at `cursor`. */
export function createPage<Item>(
  fetchPage: (cursor: string | undefined) => Promise<Page<Item>>,
  cursor?: string,
): PageList<Item> {
  let first: Promise<Page<Item>> | undefined
  const firstPage = () => {
    first ??= fetchPage(cursor)
    return first
  }
  async function* pages() {
    let page = await firstPage()
    yield page
    while (page.nextCursor !== null) {
      page = await fetchPage(page.nextCursor)
      yield page
    }
  }
  async function* items() {
    for await (const page of pages()) yield* page.data
  }
  return {
    // biome-ignore lint/suspicious/noThenProperty: awaiting a list answers its first page, as in Stripe's SDK.
    then: (onFulfilled, onRejected) => firstPage().then(onFulfilled, onRejected),
    [Symbol.asyncIterator]: items,
    pages,
    async toArray({ limit = Number.POSITIVE_INFINITY } = {}) {
      const result: Item[] = []
      if (limit <= 0) return result
      for await (const item of items()) {
        result.push(item)
        if (result.length >= limit) break
      }
      return result
    },
  }
}
