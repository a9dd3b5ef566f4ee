import { describe, expect, it } from 'vitest'
import { testPublishing } from '../../test/config.ts'
import { connectionHelpers } from '../../test/connections.ts'
import { finished, postHelpers } from '../../test/posts.ts'
import { startTestServer } from '../../test/server.ts'

const server = await startTestServer({ publishing: testPublishing() }, { worker: true })
const { request } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { createPost, waitForPost } = postHelpers(server)

type SandboxPage = { data: { id: string; accountId: string; text: string }[]; duplicates: number }

describe('sandbox accounts', () => {
  it('are scoped to the workspace: two workspaces naming their accounts alike see only their own posts', async () => {
    const name = `Shared Name ${crypto.randomUUID().slice(0, 8)}`
    const workspaces = [await tenantWithProfile(), await tenantWithProfile()]
    const published = []
    for (const [index, tenant] of workspaces.entries()) {
      const { accountId } = await connectPersonalAccount(tenant, { name })
      const text = `Only workspace ${index} may see this ${crypto.randomUUID()}`
      const created = await createPost(tenant, accountId, { content: { text }, publishNow: true })
      const post = await waitForPost(tenant, created.id, finished)
      expect(post.publications[0]?.status).toBe('published')
      published.push({ tenant, text, platformPostId: post.publications[0]?.platformPostId })
    }
    for (const { tenant, text, platformPostId } of published) {
      const listed = (await (
        await request('/v1/sandbox/posts', { token: tenant.apiKey })
      ).json()) as SandboxPage
      expect(listed.data.map((post) => [post.id, post.text])).toEqual([[platformPostId, text]])
    }
    const [first, second] = await Promise.all(
      workspaces.map(async (tenant) => {
        const accounts = (await (
          await request('/v1/accounts', { token: tenant.apiKey })
        ).json()) as {
          data: { platformAccountId: string; displayName: string }[]
        }
        return accounts.data[0]
      }),
    )
    expect(first?.displayName).toBe(name)
    expect(second?.displayName).toBe(name)
    expect(first?.platformAccountId).not.toBe(second?.platformAccountId)
  })
})
