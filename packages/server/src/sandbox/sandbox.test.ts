import { readFile } from 'node:fs/promises'
import { and, eq, sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { testPublishing } from '../../test/config.ts'
import { connectionHelpers } from '../../test/connections.ts'
import { finished, postHelpers } from '../../test/posts.ts'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { connectedAccounts, sandboxPosts, sandboxState } from '../db/schema/index.ts'

const server = await startTestServer({ publishing: testPublishing() }, { worker: true })
const { request } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { createPost, waitForPost } = postHelpers(server)
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)

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

  it('keep what a workspace published, and its accounts, across the migration from shared names', async () => {
    const tenant = await tenantWithProfile()
    const name = `Legacy ${crypto.randomUUID().slice(0, 8)}`
    const { accountId } = await connectPersonalAccount(tenant, { name })
    const text = `Before scoping ${crypto.randomUUID()}`
    const created = await createPost(tenant, accountId, { content: { text }, publishNow: true })
    const published = await waitForPost(tenant, created.id, finished)
    const platformPostId = published.publications[0]?.platformPostId as string
    const [account] = await db
      .select()
      .from(connectedAccounts)
      .where(eq(connectedAccounts.id, accountId))
    const scopedId = account?.platformAccountId as string

    // The data as the server stored it before sandbox accounts were scoped: the name's slug alone,
    // the shared client, and a grant of that client with its token.
    const legacyId = scopedId.replace(/^sbx_user_[0-9a-f]{12}_/, 'sbx_user_')
    expect(legacyId).not.toBe(scopedId)
    await db
      .update(connectedAccounts)
      .set({ platformAccountId: legacyId })
      .where(eq(connectedAccounts.id, accountId))
    await db
      .update(sandboxPosts)
      .set({ accountId: legacyId, clientId: 'post-scheduler' })
      .where(eq(sandboxPosts.id, platformPostId))
    const grant = `legacy-${crypto.randomUUID()}`
    await db.insert(sandboxState).values([
      {
        key: `grant:${grant}`,
        value: { id: grant, clientId: 'post-scheduler', user: { id: 'ada', name } },
      },
      { key: `access:${grant}`, value: { grantId: grant, expiresAt: Date.now() + 3600_000 } },
    ])

    const migration = await readFile(
      new URL('../db/migrations/0016_sandbox-identities-per-workspace.sql', import.meta.url),
      'utf8',
    )
    for (const statement of migration.split('--> statement-breakpoint'))
      await db.execute(sql.raw(statement))

    const [migrated] = await db
      .select()
      .from(connectedAccounts)
      .where(eq(connectedAccounts.id, accountId))
    expect(migrated).toMatchObject({ platformAccountId: scopedId, status: 'reauth_required' })
    const listed = (await (
      await request('/v1/sandbox/posts', { token: tenant.apiKey })
    ).json()) as SandboxPage
    expect(listed.data.map((post) => [post.id, post.accountId])).toEqual([
      [platformPostId, scopedId],
    ])
    const left = await db
      .select()
      .from(sandboxState)
      .where(and(sql`${sandboxState.key} in (${`grant:${grant}`}, ${`access:${grant}`})`))
    expect(left).toEqual([])

    // Reconnecting with the same name repairs the same account.
    const again = await connectPersonalAccount(tenant, { name })
    expect(again.accountId).toBe(accountId)
    const [repaired] = await db
      .select()
      .from(connectedAccounts)
      .where(eq(connectedAccounts.id, accountId))
    expect(repaired?.status).toBe('active')
  })
})
