import { sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { connectionHelpers, local } from '../../test/connections.ts'
import { fileForm, makeImage, mediaTestConfig } from '../../test/media.ts'
import { servicesOf, startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { eraseReportedChild } from './deletion.ts'
import { expireExports } from './exports.ts'
import { PRIVACY_QUEUES } from './jobs.ts'
import { removePublishedMedia } from './retention.ts'

const mediaConfig = await mediaTestConfig()
const server = await startTestServer({ media: mediaConfig }, { worker: true })
const { request } = server
const { tenantWithProfile, connectPersonalAccount } = connectionHelpers(server)
const { db, close } = createDatabaseClient(server.databaseURL, { max: 1 })
afterAll(close)

// The running server's own services, for calling the jobs with an injected clock.
const services = await servicesOf(server)

const HOUR_MS = 3_600_000
type Json = Record<string, unknown>
const json = async <T = Json>(response: Response, status: number): Promise<T> => {
  expect(response.status, await response.clone().text()).toBe(status)
  return (await response.json()) as T
}

async function poll<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

const upload = async (token: string, name: string) =>
  json<{ id: string }>(
    await server.scheduler.app.request('/v1/media', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: fileForm(await makeImage('png'), name),
    }),
    201,
  )

describe('retention of content', () => {
  it('removes media once every post using them is published, after the grace period; the posted history stays', async () => {
    const tenant = await tenantWithProfile()
    const { accountId } = await connectPersonalAccount(tenant)
    const posted = await upload(tenant.apiKey, 'posted.png')
    const waiting = await upload(tenant.apiKey, 'waiting.png')
    const post = await json<{ id: string }>(
      await request('/v1/posts', {
        token: tenant.apiKey,
        json: {
          accountIds: [accountId],
          content: { text: 'With a picture', mediaIds: [posted.id] },
          publishNow: true,
        },
      }),
      201,
    )
    await json(
      await request('/v1/posts', {
        token: tenant.apiKey,
        json: {
          accountIds: [accountId],
          content: { text: 'Later', mediaIds: [waiting.id] },
          scheduledAt: new Date(Date.now() + 48 * HOUR_MS).toISOString(),
        },
      }),
      201,
    )
    await poll(async () => {
      const current = await json<{ status: string }>(
        await request(`/v1/posts/${post.id}`, { token: tenant.apiKey }),
        200,
      )
      return current.status === 'published' ? current : undefined
    }, 'the post to be published')

    const grace = services.config.privacy.publishedMediaGraceHours
    expect(await removePublishedMedia(services, new Date(Date.now() + (grace - 1) * HOUR_MS))).toBe(
      0,
    )
    expect((await request(`/v1/media/${posted.id}`, { token: tenant.apiKey })).status).toBe(200)

    expect(await removePublishedMedia(services, new Date(Date.now() + (grace + 1) * HOUR_MS))).toBe(
      1,
    )
    expect((await request(`/v1/media/${posted.id}`, { token: tenant.apiKey })).status).toBe(404)
    expect((await request(`/v1/media/${waiting.id}`, { token: tenant.apiKey })).status).toBe(200)
    const history = await json<{ status: string; publications: { url: string | null }[] }>(
      await request(`/v1/posts/${post.id}`, { token: tenant.apiKey }),
      200,
    )
    expect(history.status).toBe('published')
    expect(history.publications[0]?.url).toBeTruthy()
  })

  it('keeps the posted history until the user deletes it, posts still to publish stay', async () => {
    const tenant = await tenantWithProfile()
    const { accountId } = await connectPersonalAccount(tenant)
    const create = (text: string) =>
      request('/v1/posts', {
        token: tenant.apiKey,
        json: {
          accountIds: [accountId],
          content: { text },
          scheduledAt: new Date(Date.now() + 24 * HOUR_MS).toISOString(),
        },
      })
    const done = await json<{ id: string }>(await create('Canceled one'), 201)
    const still = await json<{ id: string }>(await create('Still to publish'), 201)
    await json(
      await request(`/v1/posts/${done.id}/cancel`, { token: tenant.apiKey, json: {} }),
      200,
    )

    const deleted = await json<{ deleted: number }>(
      await request('/v1/post-history', { method: 'DELETE', token: tenant.apiKey }),
      200,
    )
    expect(deleted).toEqual({ deleted: 1 })
    expect((await request(`/v1/posts/${done.id}`, { token: tenant.apiKey })).status).toBe(404)
    expect((await request(`/v1/posts/${still.id}`, { token: tenant.apiKey })).status).toBe(200)
  })
})

describe('exports', () => {
  it('are removed with their file once expired; their link stops working', async () => {
    const person = await server.signUp()
    const requested = await json<{ id: string }>(
      await request('/v1/me/exports', { token: person.token, json: {} }),
      202,
    )
    const ready = await poll(async () => {
      const current = await json<{ status: string; downloadURL: string | null; expiresAt: string }>(
        await request(`/v1/me/exports/${requested.id}`, { token: person.token }),
        200,
      )
      return current.status === 'ready' ? current : undefined
    }, 'the export to be built')
    expect(server.mail.to(person.email).at(-1)?.subject).toBe('Your data export is ready')
    const link = local(ready.downloadURL as string)
    expect((await server.scheduler.app.request(link)).status).toBe(200)

    expect(await expireExports(services, new Date(Date.now() + HOUR_MS))).toBe(0)
    const expired = await expireExports(services, new Date(new Date(ready.expiresAt).getTime() + 1))
    expect(expired).toBeGreaterThanOrEqual(1)
    expect((await request(`/v1/me/exports/${requested.id}`, { token: person.token })).status).toBe(
      404,
    )
    expect((await server.scheduler.app.request(link)).status).toBe(404)
  })
})

describe('the privacy job', () => {
  it('erases an account due for erasure when it runs', async () => {
    const child = await server.signUp()
    await eraseReportedChild(db, child.userId)
    await services.queue.send(PRIVACY_QUEUES.sweep, {})
    await poll(async () => {
      const me = await request('/v1/me', { token: child.token })
      const gone = await db.execute(
        sql`select 1 from post_scheduler.users where id = ${child.userId}`,
      )
      return me.status === 401 && gone.length === 0 ? true : undefined
    }, 'the account to be erased')
  })
})
