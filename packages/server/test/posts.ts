import { expect } from 'vitest'
import type { startTestServer } from './server.ts'

type TestServer = Awaited<ReturnType<typeof startTestServer>>

/** A publication as the API answers it (the fields tests read). */
export type TestPublication = {
  id: string
  accountId: string
  platform: string
  status: string
  dueAt: string
  attempts: number
  platformPostId: string | null
  url: string | null
  error: { code: string; message: string; action?: string } | null
  publishedAt: string | null
  timeline: { startedAt: string; finishedAt: string | null; outcome: string | null }[]
}

/** A post as the API answers it (the fields tests read). */
export type TestPost = {
  id: string
  status: string
  accountIds: string[]
  scheduledAt: string | null
  content: { text: string }
  publications: TestPublication[]
}

/** Every publication of the post has ended: published, failed or unconfirmed. */
export const finished = (post: TestPost) =>
  post.publications.every((publication) =>
    ['published', 'failed', 'unconfirmed'].includes(publication.status),
  )

/** Creating posts and waiting for the workers to publish them, through the API. */
export function postHelpers(server: Pick<TestServer, 'request'>) {
  const { request } = server

  /** Creates a post for one account (`201` expected). */
  async function createPost(
    tenant: { apiKey: string },
    accountId: string,
    body: Record<string, unknown>,
  ): Promise<TestPost> {
    const response = await request('/v1/posts', {
      token: tenant.apiKey,
      json: { accountIds: [accountId], ...body },
    })
    expect(response.status, await response.clone().text()).toBe(201)
    return (await response.json()) as TestPost
  }

  /** Polls the post until `done` holds; fails with the post as last seen after `timeoutMs`. */
  async function waitForPost(
    tenant: { apiKey: string },
    postId: string,
    done: (post: TestPost) => boolean,
    timeoutMs = 20_000,
  ): Promise<TestPost> {
    const deadline = Date.now() + timeoutMs
    let post: TestPost | undefined
    for (;;) {
      post = (await (
        await request(`/v1/posts/${postId}`, { token: tenant.apiKey })
      ).json()) as TestPost
      if (done(post)) return post
      if (Date.now() > deadline) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error(`the post never got there: ${JSON.stringify(post)}`)
  }

  return { createPost, waitForPost }
}

/**
 * Expects the attempts of the posts' publications to have run one at a time: each ended before
 * the next started.
 */
export function expectOneAtATime(posts: TestPost[], count: number) {
  const attempts = posts
    .flatMap((post) => post.publications.flatMap((publication) => publication.timeline))
    .map((attempt) => ({
      start: Date.parse(attempt.startedAt),
      end: Date.parse(attempt.finishedAt ?? ''),
    }))
    .sort((a, b) => a.start - b.start)
  expect(attempts).toHaveLength(count)
  for (let i = 1; i < attempts.length; i++) {
    expect(attempts[i]?.start).toBeGreaterThanOrEqual(attempts[i - 1]?.end as number)
  }
}
