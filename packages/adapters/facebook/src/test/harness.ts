// Test-only (no entry reaches it): Meta's node specs from specs/ turned into the emulator's
// request validator, and an msw server with a fresh Facebook emulator per test.
import { readFileSync } from 'node:fs'
import {
  isProcessing,
  type PostContent,
  type PublicationHandles,
  type PublishedPost,
  type PublishMedia,
  type PublishParams,
  type PublishResult,
} from '@post-scheduler/adapter-core'
import {
  createGraphSpecValidator,
  type GraphEnumType,
  type GraphNodeSpec,
} from '@post-scheduler/adapter-core/testing'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { type FacebookConfig, facebook } from '../adapter/facebook.ts'
import {
  createFacebookEmulator,
  type FacebookEmulator,
  type FacebookEmulatorOptions,
} from '../testing/emulator.ts'

const spec = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../specs/meta/${name}.json`, import.meta.url), 'utf8'))

/** Every request the emulator serves is checked against these (see specs/SOURCES.md). */
export const graphSpec = createGraphSpecValidator({
  nodes: {
    User: spec('User') as GraphNodeSpec,
    Page: spec('Page') as GraphNodeSpec,
    PagePost: spec('PagePost') as GraphNodeSpec,
    Photo: spec('Photo') as GraphNodeSpec,
    Application: spec('Application') as GraphNodeSpec,
    AdVideo: spec('AdVideo') as GraphNodeSpec,
    // Not a node in Meta's specs: an upload session (`upload:<id>`), whose two calls are
    // documented below from the upload guide.
    UploadSession: {},
  },
  enumTypes: spec('enum_types') as GraphEnumType[],
  documented: [
    {
      // The spec lists `url` but not the multipart upload of the bytes themselves.
      node: 'Page',
      method: 'POST',
      edge: 'photos',
      params: [{ name: 'source', type: 'file' }],
      source: 'https://developers.facebook.com/docs/graph-api/reference/page/photos/#Creating',
    },
    {
      // The bytes, with `file_offset` as a header and the token as `Authorization: OAuth`.
      node: 'UploadSession',
      method: 'POST',
      params: [],
      source: 'https://developers.facebook.com/docs/graph-api/guides/upload',
    },
    {
      // Resume: answers the `file_offset` reached.
      node: 'UploadSession',
      method: 'GET',
      params: [],
      source: 'https://developers.facebook.com/docs/graph-api/guides/upload',
    },
  ],
})

export const redirectURI = 'https://app.test/v1/oauth/facebook/callback'
export const app = { clientId: 'facebook-test-app', clientSecret: 'facebook-test-secret' }

export function createTestEmulator(options: FacebookEmulatorOptions = {}) {
  return createFacebookEmulator({
    ...app,
    redirectURIs: [redirectURI],
    graph: graphSpec,
    ...options,
  })
}

export function createTestAdapter(config: Partial<FacebookConfig> = {}) {
  return facebook({ ...app, redirectURI, pkce: true, ...config })
}

/** An msw server with a fresh emulator per test, and helpers to connect and publish. */
export function useFacebook(options: FacebookEmulatorOptions = {}) {
  const server = setupServer()
  let emulator: FacebookEmulator = createTestEmulator(options)
  beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
  beforeEach(() => {
    emulator = createTestEmulator(options)
    server.resetHandlers(...emulator.handlers)
  })
  afterAll(() => server.close())

  async function connect(config: Partial<FacebookConfig> = {}) {
    const adapter = createTestAdapter(config)
    const codeVerifier = 'v'.repeat(43)
    const { code } = await emulator.approve(
      adapter.createAuthorizationURL({ state: 's', codeVerifier }),
    )
    const tokens = await adapter.validateAuthorizationCode({ code, codeVerifier })
    const accounts = await adapter.listAccounts({ accessToken: tokens.accessToken })
    const page = accounts[0]
    if (!page?.accessToken) throw new Error('no Page with a token')
    return {
      adapter,
      tokens,
      accounts,
      call: { accessToken: page.accessToken, accountId: page.id },
    }
  }

  return {
    server,
    get emulator() {
      return emulator
    },
    connect,
  }
}

/** Publish params whose checkpoint records every handle saved, merged. */
export function publishParams(
  call: { accessToken: string; accountId: string },
  post: PostContent<PublishMedia>,
  extra: Partial<PublishParams> = {},
) {
  const saved: PublicationHandles[] = []
  const params: PublishParams = {
    ...call,
    attemptId: crypto.randomUUID(),
    post,
    checkpoint: async (handles) => {
      saved.push(handles)
    },
    ...extra,
  }
  return { params, saved, handles: () => Object.assign({}, ...saved) as PublicationHandles }
}

/** A small JPEG-typed photo fixture. */
export function photo(index: number): PublishMedia {
  const bytes = new Blob([new Uint8Array(2048).fill(index)], { type: 'image/jpeg' })
  return {
    id: `photo-${index}`,
    kind: 'image',
    mimeType: 'image/jpeg',
    sizeBytes: bytes.size,
    width: 1080,
    height: 1080,
    open: async () => bytes,
  }
}

/** The published post of a result that must not be `processing` (a text or photo post). */
export function expectPublished(result: PublishResult): PublishedPost {
  if (isProcessing(result)) throw new Error('expected a published post, got processing')
  return result
}

/** An MP4-typed video fixture: `sizeBytes` of patterned bytes (so a resumed upload can be compared). */
export function video(
  sizeBytes = 64 * 1024,
  shape: { width?: number; height?: number; durationSeconds?: number } = {},
): PublishMedia & { bytes: Uint8Array } {
  const bytes = Uint8Array.from({ length: sizeBytes }, (_, index) => (index * 7) % 251)
  const blob = new Blob([bytes], { type: 'video/mp4' })
  return {
    id: `video-${sizeBytes}`,
    kind: 'video',
    mimeType: 'video/mp4',
    sizeBytes,
    width: shape.width ?? 1080,
    height: shape.height ?? 1920,
    durationSeconds: shape.durationSeconds ?? 30,
    open: async () => blob,
    bytes,
  }
}
