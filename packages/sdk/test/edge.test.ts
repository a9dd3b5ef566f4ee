import { createContext, runInContext } from 'node:vm'
import { rolldown } from 'rolldown'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import type * as SDK from '../src/index.ts'
import { startSDKTestServer } from './server.ts'

const server = await startSDKTestServer()

/** The browser entry bundled with ky into one script, as a page or an edge worker would load it. */
async function bundleForTheWeb(): Promise<string> {
  const bundle = await rolldown({
    input: new URL('../src/index.ts', import.meta.url).pathname,
    platform: 'browser',
  })
  const { output } = await bundle.generate({ format: 'iife', name: 'PostSchedulerSDK' })
  await bundle.close()
  return output.map((chunk) => (chunk.type === 'chunk' ? chunk.code : '')).join('\n')
}

describe('the browser entry without Node', () => {
  it('works in a realm with only Web APIs (no process, require or Buffer), like an edge runtime', async () => {
    const { apiKey } = await server.createTenant()
    // Only what browsers and edge runtimes (WinterTC) offer; nothing Node-specific.
    const web = {
      fetch,
      Request,
      Response,
      Headers,
      FormData,
      Blob,
      URL,
      URLSearchParams,
      AbortController,
      AbortSignal,
      ReadableStream,
      TransformStream,
      TextEncoder,
      TextDecoder,
      crypto,
      atob,
      btoa,
      setTimeout,
      clearTimeout,
      console,
    }
    const realm = createContext({ ...web })
    runInContext('globalThis.self = globalThis', realm)
    runInContext(await bundleForTheWeb(), realm)
    const sdk = runInContext('PostSchedulerSDK', realm) as typeof SDK
    expect(runInContext('typeof process + typeof require + typeof Buffer', realm)).toBe(
      'undefinedundefinedundefined',
    )

    const client = sdk.createClient({ apiKey, baseURL: server.url })
    const profile = await client.profiles.create({ name: 'At the edge' })
    expect((await client.profiles.list().toArray()).map((found) => found.id)).toContain(profile.id)

    // An error from the other realm is still an instance of this realm's classes.
    const error = await client.posts
      .get('post_mzxw6ytboi2dkmzvgq3tqnrvhe')
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(sdk.NotFoundError)
    const { NotFoundError } = await import('../src/index.ts')
    expect(error).toBeInstanceOf(NotFoundError)

    const secret = `whsec_${btoa('an edge secret of 24 bytes!')}`
    const body = JSON.stringify({ type: 'post.published', data: {} })
    const at = new Date()
    const headers = {
      'webhook-id': 'msg_edge',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign('msg_edge', at, body),
    }
    expect(await sdk.verifyWebhook(body, headers, secret)).toMatchObject({ type: 'post.published' })
  })
})
