import type { paths } from './generated/openapi.ts'
import { createPage, type PageList } from './pagination.ts'
import type { RequestOptions, Transport } from './transport.ts'

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete'

/** Every operation of the API as `METHOD /path`, e.g. `GET /v1/posts/{postId}`. */
export type Route = {
  [P in keyof paths]: {
    [M in Method & keyof paths[P]]: `${Uppercase<M>} ${P & string}`
  }[Method & keyof paths[P]]
}[keyof paths]

/** The generated description of a route's operation. */
export type Operation<R extends Route> = R extends `${infer M} ${infer P extends keyof paths}`
  ? NonNullable<paths[P][Lowercase<M> & keyof paths[P]]>
  : never

/** The JSON body an operation takes. */
export type RequestBody<R extends Route> =
  Operation<R> extends {
    requestBody?: { content: { 'application/json': infer B } }
  }
    ? B
    : never

/** The query parameters an operation takes. */
export type QueryParams<R extends Route> =
  Operation<R> extends {
    parameters: { query?: infer Q }
  }
    ? NonNullable<Q>
    : never

/** What a successful call answers: the JSON of its 200/201/202, or `undefined` for a 204. */
export type ResponseBody<R extends Route> =
  Operation<R> extends { responses: infer Responses }
    ? {
        [S in keyof Responses]: S extends 200 | 201 | 202
          ? Responses[S] extends { content: { 'application/json': infer J } }
            ? J
            : never
          : S extends 204
            ? undefined
            : never
      }[keyof Responses]
    : never

type PathArgs<P extends string> = P extends `${string}{${string}}${infer Rest}`
  ? [string, ...PathArgs<Rest>]
  : []

type PathOf<R extends Route> = R extends `${string} ${infer P}` ? P : never

/** Where an operation's parameters go: a JSON body, the query string, or nowhere. */
export type InputKind<R extends Route> = [RequestBody<R>] extends [never]
  ? [QueryParams<R>] extends [never]
    ? 'none'
    : 'query'
  : 'json'

type HasRequired<T> = Partial<T> extends T ? false : true

type InputArgs<R extends Route> =
  InputKind<R> extends 'json'
    ? HasRequired<RequestBody<R>> extends true
      ? [params: RequestBody<R>]
      : [params?: RequestBody<R>]
    : InputKind<R> extends 'query'
      ? HasRequired<QueryParams<R>> extends true
        ? [params: QueryParams<R>]
        : [params?: QueryParams<R>]
      : []

/** The arguments of a method: its path parameters in order, its params, then options. */
export type EndpointArgs<R extends Route> = [
  ...PathArgs<PathOf<R>>,
  ...InputArgs<R>,
  options?: RequestOptions,
]

/** A method calling one operation. */
export type Endpoint<R extends Route> = ((...args: EndpointArgs<R>) => Promise<ResponseBody<R>>) & {
  readonly route: R
}

/** The item type of a list operation answering `{ data, nextCursor }`. */
export type PageItem<R extends Route> =
  ResponseBody<R> extends { data: (infer Item)[] } ? Item : never

/** A method calling one list operation, answering a {@link PageList}. */
export type ListEndpoint<R extends Route> = ((
  ...args: EndpointArgs<R>
) => PageList<PageItem<R>, ResponseBody<R>>) & { readonly route: R }

/** Splits a method's arguments into the call they describe. */
function toCall(route: Route, kind: string, args: unknown[]) {
  const [method, template] = route.split(' ') as [string, string]
  let index = 0
  const path = template.replace(/\{[^}]+\}/g, () => {
    const value = args[index++]
    if (typeof value !== 'string' || value === '') {
      throw new TypeError(`${route}: argument ${index} must be a non-empty id`)
    }
    return encodeURIComponent(value)
  })
  const params = kind === 'none' ? undefined : (args[index++] as Record<string, unknown>)
  return {
    method: method as 'GET',
    path,
    query: kind === 'query' ? params : undefined,
    json: kind === 'json' ? (params ?? {}) : undefined,
    options: args[index] as RequestOptions | undefined,
  }
}

/** Marks `fn` as the SDK's way to call `route` (read by the coverage test). */
export function tagRoute<F extends object, R extends Route>(fn: F, route: R): F & { route: R } {
  return Object.defineProperty(fn, 'route', { value: route }) as F & { route: R }
}

/**
 * A method for one operation. `kind` (checked against the generated types) says where its params
 * go.
 *
 * @example
 * ```ts
 * const get = endpoint(send, 'GET /v1/posts/{postId}', 'none')
 * const post = await get('post_123', { timeout: 5_000 })
 * ```
 */
export function endpoint<R extends Route>(
  send: Transport,
  route: R,
  kind: InputKind<R>,
): Endpoint<R> {
  return tagRoute(
    async (...args: unknown[]) => send<ResponseBody<R>>(toCall(route, kind, args)),
    route,
  ) as Endpoint<R>
}

/** A method for one list operation: iterate it for every item, or await it for one page. */
export function listEndpoint<R extends Route>(
  send: Transport,
  route: R,
  kind: InputKind<R>,
): ListEndpoint<R> {
  return tagRoute((...args: unknown[]) => {
    let call: ReturnType<typeof toCall>
    try {
      call = toCall(route, kind, args)
    } catch (error) {
      // Bad arguments reject when the list is awaited or iterated, like every other call.
      return createPage(() => Promise.reject(error))
    }
    return createPage(
      (cursor) =>
        send<{ data: PageItem<R>[]; nextCursor: string | null }>({
          ...call,
          query: { ...call.query, cursor },
        }),
      call.query?.cursor as string | undefined,
    )
  }, route) as unknown as ListEndpoint<R>
}
