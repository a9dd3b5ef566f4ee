import sharp from 'sharp'
import { afterAll, expect, it } from 'vitest'
import { startTestServer } from '../test/server.ts'
import { createOpenAPIDocument } from './app/app.ts'
import { createDatabaseClient } from './db/client.ts'
import { generateId } from './db/ids.ts'
import { connectedAccounts } from './db/schema/index.ts'

// Walks every operation of the OpenAPI document that takes an id in its path, fills the ids with
// another tenant's resources, and proves the caller gets 404 and changes nothing. New routes are
// walked automatically; one with an unknown id name or a required body without a fixture below
// fails this test until it is added here.

const server = await startTestServer()
const { request } = server
const { db, close } = createDatabaseClient(server.databaseURL, { max: 1 })
afterAll(close)

/** A connected account row, as a finished OAuth flow leaves it (the flow has tests of its own). */
const seedConnectedAccount = (workspaceId: string, profileId: string | undefined) =>
  db
    .insert(connectedAccounts)
    .values({
      id: generateId('acct'),
      workspaceId,
      profileId: String(profileId),
      platform: 'sandbox',
      platformAccountId: 'sbx_victim',
      kind: 'personal',
      displayName: 'Victim',
    })
    .returning()

/** Path parameters that name no tenant's resource (a platform is the same for everyone). */
const SHARED_PARAMS = new Set(['platform'])

/** Minimal valid bodies, so validation passes and tenancy is what answers. */
const BODIES: Record<string, unknown> = {
  'POST /v1/connections/{connectionId}/accounts': { accountIds: ['anything'] },
  'POST /v1/profiles/{profileId}/connections': { platform: 'sandbox' },
  'PATCH /v1/workspaces/{workspaceId}': { name: 'Taken over' },
  'PATCH /v1/workspaces/{workspaceId}/members/{userId}': { role: 'member' },
  'POST /v1/workspaces/{workspaceId}/invitations': { email: 'intruder@example.com', role: 'admin' },
  'PATCH /v1/profiles/{profileId}': { name: 'Taken over' },
  'POST /v1/profiles/{profileId}/tokens': {},
  'PUT /v1/profiles/{profileId}/schedule': { timezone: 'UTC', slots: [] },
  'PATCH /v1/posts/{postId}': { content: { text: 'Taken over' } },
  'PATCH /v1/workspaces/{workspaceId}/publishing-settings': { duplicateWindowSeconds: 0 },
  'PATCH /v1/media/{mediaId}': { altText: 'Taken over' },
  'PUT /v1/media/uploads/{uploadId}/parts/{partNumber}': 'part bytes',
  'PATCH /v1/webhook-endpoints/{endpointId}': { enabled: false },
  'POST /v1/webhook-endpoints/{endpointId}/redeliver': { since: '2020-01-01T00:00:00Z' },
}

/** A media file of `apiKey`'s workspace, uploaded as a browser would. */
async function uploadMedia(apiKey: string) {
  const form = new FormData()
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
    .png()
    .toBuffer()
  form.set('file', new Blob([new Uint8Array(png)]), 'victim.png')
  const response = await server.scheduler.app.request('/v1/media', {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}` },
    body: form,
  })
  return (await response.json()) as { id?: string }
}

it('gives another tenant 404 on every operation that takes an id, and changes nothing', async () => {
  const victim = await server.createTenant()
  const intruder = await server.createTenant()

  const profiles = (await (await request('/v1/profiles', { token: victim.apiKey })).json()) as {
    data?: { id: string }[]
  }
  const invitation = (await (
    await request(`/v1/workspaces/${victim.workspaceId}/invitations`, {
      token: victim.apiKey,
      json: { email: 'guest@example.com', role: 'member' },
    })
  ).json()) as { id?: string }
  const connection = (await (
    await request(`/v1/profiles/${profiles.data?.[0]?.id}/connections`, {
      token: victim.apiKey,
      json: { platform: 'sandbox' },
    })
  ).json()) as { id?: string }
  const [account] = await seedConnectedAccount(victim.workspaceId, profiles.data?.[0]?.id)
  const victimMedia = await uploadMedia(victim.apiKey)
  const upload = (await (
    await request('/v1/media/uploads', { token: victim.apiKey, json: { sizeBytes: 10 } })
  ).json()) as { id?: string }
  const recurring = (await (
    await request('/v1/posts', {
      token: victim.apiKey,
      json: {
        accountIds: [account?.id],
        content: { text: 'Every Monday' },
        scheduledAt: '2031-01-06T09:00:00Z',
        recurrence: { rule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=5' },
      },
    })
  ).json()) as { id?: string; seriesId?: string; publications?: { id: string }[] }
  const dataExport = (await (
    await request('/v1/me/exports', { token: victim.person.token, json: {} })
  ).json()) as { id?: string }
  const endpoint = (await (
    await request('/v1/webhook-endpoints', {
      token: victim.apiKey,
      json: { url: 'https://hooks.example.com/victim' },
    })
  ).json()) as { id?: string }
  const events = (await (await request('/v1/events?limit=1', { token: victim.apiKey })).json()) as {
    data?: { id: string }[]
  }
  const ids: Record<string, string | undefined> = {
    endpointId: endpoint.id,
    eventId: events.data?.[0]?.id,
    postId: recurring.id,
    seriesId: recurring.seriesId,
    publicationId: recurring.publications?.[0]?.id,
    mediaId: victimMedia.id,
    uploadId: upload.id,
    partNumber: '1',
    connectionId: connection.id,
    accountId: account?.id,
    workspaceId: victim.workspaceId,
    apiKeyId: victim.apiKeyId,
    sessionId: victim.person.sessionId,
    userId: victim.person.userId,
    profileId: profiles.data?.[0]?.id,
    invitationId: invitation.id,
    exportId: dataExport.id,
  }

  const document = createOpenAPIDocument()
  const walked: string[] = []
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    const names = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] as string)
    if (names.filter((name) => !SHARED_PARAMS.has(name)).length === 0) continue
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const operation = item[method]
      if (!operation) continue
      const label = `${method.toUpperCase()} /v1${path.replace(/^\/v1/, '')}`
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) => {
        const id = ids[name]
        if (!id) throw new Error(`${label}: no fixture for {${name}}; add one to this test`)
        return id
      })
      const needsBody = Boolean(
        (operation.requestBody as { required?: boolean } | undefined)?.required,
      )
      if (needsBody && !(label in BODIES)) {
        throw new Error(`${label}: add a valid body to BODIES in this test`)
      }
      const statuses: number[] = []
      for (const token of [intruder.apiKey, intruder.person.token]) {
        const response = await request(url, {
          method: method.toUpperCase(),
          token,
          json: needsBody ? BODIES[label] : undefined,
        })
        const text = await response.text()
        statuses.push(response.status)
        expect(
          response.status,
          `${label} answered ${response.status}: ${text}`,
        ).toBeGreaterThanOrEqual(400)
        expect([401, 403, 404], `${label}: ${text}`).toContain(response.status)
      }
      expect(statuses, `${label} never said 404`).toContain(404)
      walked.push(label)
    }
  }
  // Every id-taking operation so far; a route dropping out of the walk shows here.
  expect(walked.length).toBeGreaterThanOrEqual(20)

  // Nothing of the victim's changed.
  expect((await request('/v1/me', { token: victim.person.token })).status).toBe(200)
  const workspace = (await (
    await request(`/v1/workspaces/${victim.workspaceId}`, { token: victim.apiKey })
  ).json()) as { name: string }
  expect(workspace.name).not.toBe('Taken over')
  const media = await request(`/v1/media/${victimMedia.id}`, { token: victim.apiKey })
  expect(await media.json()).toMatchObject({ id: victimMedia.id, altText: null })
  expect((await request(`/v1/media/uploads/${upload.id}`, { token: victim.apiKey })).status).toBe(
    200,
  )
  const audit = await (await request('/v1/audit-log?limit=100', { token: victim.apiKey })).text()
  expect(audit).not.toContain(intruder.apiKeyId)
})
