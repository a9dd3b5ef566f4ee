import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { DOCUMENT_PATH } from '../scripts/generate-types.ts'
import { createClient } from '../src/index.ts'

/**
 * Operations the SDK deliberately leaves out, with why. Anything else in the server's OpenAPI
 * document must be reachable through a client method.
 */
const NOT_FOR_THE_SDK: Record<string, string> = {
  'GET /v1/oauth/{platform}/callback':
    'the platform redirects the person’s browser there after consent; no program calls it',
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete']

async function documentedOperations() {
  const document = JSON.parse(await readFile(DOCUMENT_PATH, 'utf8')) as {
    paths: Record<string, Record<string, unknown>>
  }
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => METHODS.includes(method))
      .map((method) => `${method.toUpperCase()} ${path}`),
  )
}

/** Every `route` a client method declares, with the method's name (`posts.create`). */
function clientRoutes(value: unknown, name = 'client', found = new Map<string, string>()) {
  if (typeof value === 'function' && 'route' in value) found.set(value.route as string, name)
  if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) clientRoutes(child, `${name}.${key}`, found)
  }
  return found
}

describe('coverage of the API', () => {
  it('reaches every operation of the server’s OpenAPI document through a client method', async () => {
    const routes = clientRoutes(createClient({ apiKey: 'psk_test', baseURL: 'http://localhost' }))
    const missing = (await documentedOperations()).filter(
      (operation) => !routes.has(operation) && !(operation in NOT_FOR_THE_SDK),
    )
    expect(missing, 'operations without an SDK method: add them to src/client.ts').toEqual([])
  })

  it('has no method for an operation the server no longer has, and no stale exclusion', async () => {
    const documented = new Set(await documentedOperations())
    const routes = clientRoutes(createClient({ apiKey: 'psk_test', baseURL: 'http://localhost' }))
    expect([...routes.keys()].filter((route) => !documented.has(route))).toEqual([])
    expect(Object.keys(NOT_FOR_THE_SDK).filter((route) => !documented.has(route))).toEqual([])
  })
})

describe('arguments', () => {
  const client = createClient({ apiKey: 'psk_test', baseURL: 'http://localhost' })

  it('rejects a missing or empty id before sending anything, for calls and lists alike', async () => {
    // @ts-expect-error the id is missing
    await expect(client.posts.get()).rejects.toThrow(/GET \/v1\/posts\/\{postId\}: argument 1/)
    await expect(client.members.update('ws_1', '', { role: 'admin' })).rejects.toThrow(/argument 2/)
    await expect(client.members.list('').toArray()).rejects.toThrow(/argument 1/)
  })

  it('takes one of apiKey, token or getToken, not several', () => {
    expect(() => createClient({ apiKey: 'a', token: 'b', baseURL: 'http://localhost' })).toThrow(
      /not several/,
    )
  })
})
