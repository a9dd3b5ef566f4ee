// Test-only (no entry reaches it): shared set-up of the adapter tests, an msw server with a
// fresh LinkedIn emulator per test.
import type {
  PostContent,
  PublicationHandles,
  PublishMedia,
  PublishParams,
} from '@post-scheduler/adapter-core'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { type LinkedInConfig, linkedin } from '../adapter/linkedin.ts'
import {
  createLinkedInEmulator,
  type LinkedInEmulator,
  type LinkedInEmulatorOptions,
} from '../testing/emulator.ts'

export const redirectURI = 'https://app.test/v1/connections/linkedin/callback'
const app = { clientId: 'app-id', clientSecret: 'app-secret' }

export function useLinkedIn(emulatorOptions: LinkedInEmulatorOptions = {}) {
  const server = setupServer()
  let emulator: LinkedInEmulator = createLinkedInEmulator()
  beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
  beforeEach(() => {
    emulator = createLinkedInEmulator({ ...app, redirectURIs: [redirectURI], ...emulatorOptions })
    server.resetHandlers(...emulator.handlers)
  })
  afterAll(() => server.close())

  function adapter(config: Partial<LinkedInConfig> = {}) {
    return linkedin({
      ...app,
      redirectURI,
      now: emulator.clock.now,
      videoProcessing: { pollIntervalMs: 0 },
      ...config,
    })
  }

  async function connect(config: Partial<LinkedInConfig> = {}, scopes?: string[]) {
    const client = adapter(config)
    const codeVerifier = 'v'.repeat(43)
    const { code } = await emulator.approve(
      client.createAuthorizationURL({ state: 's', codeVerifier, scopes }),
    )
    const tokens = await client.validateAuthorizationCode({ code, codeVerifier })
    const accounts = await client.listAccounts({ accessToken: tokens.accessToken })
    const account = (kind: 'personal' | 'organization') => {
      const found = accounts.find((candidate) => candidate.kind === kind)
      if (!found) throw new Error(`no ${kind} account`)
      return { accessToken: tokens.accessToken, accountId: found.id }
    }
    return { adapter: client, tokens, accounts, member: account('personal'), account }
  }

  return {
    server,
    get emulator() {
      return emulator
    },
    adapter,
    connect,
  }
}

/** Publish params that record every checkpoint, merged as the runner stores them. */
export function attempt(
  call: { accessToken: string; accountId: string },
  post: PostContent<PublishMedia>,
  extra: Partial<PublishParams> = {},
) {
  const checkpoints: PublicationHandles[] = []
  const params: PublishParams = {
    ...call,
    attemptId: crypto.randomUUID(),
    post,
    checkpoint: async (handles) => {
      checkpoints.push(handles)
    },
    ...extra,
  }
  return {
    params,
    checkpoints,
    handles: (): PublicationHandles => Object.assign({}, ...checkpoints),
  }
}

export function media(
  kind: PublishMedia['kind'],
  id: string,
  sizeBytes = 2048,
  extra: Partial<PublishMedia> = {},
): PublishMedia {
  const bytes = new Blob([new Uint8Array(sizeBytes).fill(7)])
  const mimeType = {
    image: 'image/png',
    gif: 'image/gif',
    video: 'video/mp4',
    document: 'application/pdf',
  }[kind]
  return {
    id,
    kind,
    mimeType,
    sizeBytes,
    ...(kind === 'video' ? { width: 1280, height: 720, durationSeconds: 10 } : {}),
    ...(kind === 'image' ? { width: 1200, height: 800 } : {}),
    open: async () => bytes,
    ...extra,
  }
}

export async function rejection(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error as Record<string, unknown>,
  )
}
