import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { makeImage } from '@post-scheduler/server/testing'
import { Webhook } from 'standardwebhooks'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { startSDKTestServer } from './server.ts'

const here = dirname(fileURLToPath(import.meta.url))
const GUIDE = join(here, '../../../docs/sdk.md')
const ENTRIES: Record<string, string> = {
  '@post-scheduler/sdk': join(here, '../src/index.ts'),
  '@post-scheduler/sdk/node': join(here, '../src/node.ts'),
}

/**
 * The guide's `ts` blocks (not `ts no-run`) as one module, in order: imports merged at the top
 * (from the SDK's sources), the rest as written.
 */
export function assembleSnippets(markdown: string): string {
  const blocks = [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? '')
  const imports = new Map<string, Set<string>>()
  const body: string[] = []
  for (const block of blocks) {
    for (const line of block.split('\n')) {
      const found = line.match(/^import \{ (.+) \} from '([^']+)'$/)
      if (!found) {
        body.push(line)
        continue
      }
      const [, names = '', from = ''] = found
      const merged = imports.get(from) ?? new Set()
      for (const name of names.split(',')) merged.add(name.trim())
      imports.set(from, merged)
    }
  }
  const header = [...imports].map(([from, names]) => {
    const target = ENTRIES[from]
    if (!target) throw new Error(`the guide imports ${from}, which is not an SDK entry`)
    return `import { ${[...names].join(', ')} } from ${JSON.stringify(target)}`
  })
  return [...header, ...body].join('\n')
}

const server = await startSDKTestServer()

describe('docs/sdk.md', () => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {})
  const cwd = process.cwd()
  afterAll(() => {
    log.mockRestore()
    process.chdir(cwd)
  })

  it('runs every ts snippet of the guide, in order, against a real server', async () => {
    const tenant = await server.createTenant()
    const defaultProfile = (await tenant.client.profiles.list().toArray()).find((p) => p.isDefault)
    await server.connectSandboxAccount(tenant.client, defaultProfile?.id as string)
    const webhookSecret = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64')}`
    vi.stubEnv('POST_SCHEDULER_URL', server.url)
    vi.stubEnv('POST_SCHEDULER_API_KEY', tenant.apiKey)
    vi.stubEnv('WEBHOOK_SECRET', webhookSecret)

    // The guide uploads photos/croissant.jpg from the working folder.
    const folder = await mkdtemp(join(tmpdir(), 'sdk-guide-'))
    await mkdir(join(folder, 'photos'))
    await writeFile(join(folder, 'photos', 'croissant.jpg'), await makeImage('jpeg', 80, 60))
    process.chdir(folder)

    const module = join(here, '.snippets', 'sdk-guide.ts')
    await mkdir(dirname(module), { recursive: true })
    await writeFile(module, assembleSnippets(await readFile(GUIDE, 'utf8')))
    const guide = (await import(/* @vite-ignore */ module)) as {
      handleWebhook: (request: Request) => Promise<Response>
    }

    const printed = log.mock.calls.map((args) => args.join(' '))
    expect(printed).toContain('true') // the validated post, and the replayed create
    expect(printed).toContainEqual(expect.stringMatching(/^send the person to http/))
    expect(printed).toContainEqual(expect.stringMatching(/^accountIds /)) // a validation issue
    expect(printed).toContainEqual(expect.stringMatching(/^NOT_FOUND \S+$/)) // code and request id
    expect(printed).toContain('100%') // the upload's progress
    expect(printed).toContain('scheduled 2030-06-01T06:00:00.000Z') // the moved post

    const payload = JSON.stringify({
      type: 'post.published',
      timestamp: new Date().toISOString(),
      data: {},
    })
    const id = `msg_${crypto.randomUUID()}`
    const now = new Date()
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(webhookSecret).sign(id, now, payload),
    }
    const signed = new Request('http://app.example/webhooks', {
      method: 'POST',
      headers,
      body: payload,
    })
    expect((await guide.handleWebhook(signed)).status).toBe(204)
    const forged = new Request('http://app.example/webhooks', {
      method: 'POST',
      headers,
      body: payload.replace('published', 'deleted'),
    })
    expect((await guide.handleWebhook(forged)).status).toBe(400)
  })

  it('keeps no-run blocks out and merges imports from every block', () => {
    const module = assembleSnippets(
      [
        '```ts',
        "import { createClient } from '@post-scheduler/sdk'",
        'const a = 1',
        '```',
        '```ts no-run',
        'never()',
        '```',
        '```ts',
        "import { createClient, NotFoundError } from '@post-scheduler/sdk'",
        'const b = 2',
        '```',
      ].join('\n'),
    )
    expect(module).toContain('import { createClient, NotFoundError } from')
    expect(module).toContain('const a = 1\n')
    expect(module).toContain('const b = 2')
    expect(module).not.toContain('never()')
  })
})
