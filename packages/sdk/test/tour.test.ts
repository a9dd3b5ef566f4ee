import { readFile } from 'node:fs/promises'
import { loadConfig } from '@post-scheduler/server'
import { makeImage } from '@post-scheduler/server/testing'
import { describe, expect, it } from 'vitest'
import { DOCUMENT_PATH } from '../scripts/generate-types.ts'
import { ConflictError, createClient, ValidationError } from '../src/index.ts'
import { startSDKTestServer } from './server.ts'

const server = await startSDKTestServer(
  {
    publishing: {
      ...loadConfig({}).publishing,
      deadlineSeconds: 6,
      concurrency: 4,
      maxAttempts: 2,
      sweepIntervalSeconds: 1,
    },
  },
  { worker: true },
)

// Every request the clients of this file send, as the route it matched in the OpenAPI document.
const document = JSON.parse(await readFile(DOCUMENT_PATH, 'utf8')) as {
  paths: Record<string, Record<string, unknown>>
}
const templates = Object.entries(document.paths).flatMap(([path, item]) =>
  Object.keys(item).map((method) => ({
    route: `${method.toUpperCase()} ${path}`,
    method: method.toUpperCase(),
    pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  })),
)
const called = new Set<string>()
const recordingFetch: typeof fetch = async (input, init) => {
  const request = new Request(input, init)
  const { pathname } = new URL(request.url)
  const match = templates.find(
    (template) => template.method === request.method && template.pattern.test(pathname),
  )
  if (match) called.add(match.route)
  return fetch(request)
}
const clientFor = (auth: { apiKey?: string; token?: string }) =>
  server.clientFor(auth, { fetch: recordingFetch })

const later = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString()

describe('a tour of every method against the real server', () => {
  it('reaches every operation with its arguments in the right places', {
    timeout: 90_000,
  }, async () => {
    const anonymous = clientFor({})
    expect(await anonymous.health.check()).toEqual({ status: 'ok' })
    expect(await anonymous.health.ready()).toMatchObject({ status: 'ready' })
    expect((await anonymous.privacy.policy()).version).toBeGreaterThan(0)

    // People and sessions.
    const email = `tour-${crypto.randomUUID()}@example.com`
    const password = 'correct horse battery staple'
    await anonymous.users.signUp({ name: 'Tour', email, password, dateOfBirth: '1990-01-01' })
    const user = await anonymous.users.verifyEmail({
      token: server.mail.codeFor(email, /Confirm your email/),
    })
    expect(user.email).toBe(email)
    await anonymous.passwordResets.request({ email })
    const newPassword = 'another horse battery staple'
    await anonymous.passwordResets.confirm({
      token: server.mail.codeFor(email, /Reset your password/),
      newPassword,
    })
    const { token } = await anonymous.sessions.create({ email, password: newPassword })
    const person = clientFor({ token })
    expect((await person.me.get()).email).toBe(email)
    expect((await person.me.update({ locale: 'fr' })).locale).toBe('fr')
    const other = await anonymous.sessions.create({ email, password: newPassword })
    await person.sessions.revoke(other.session.id)
    expect((await person.sessions.list()).data.map((session) => session.id)).not.toContain(
      other.session.id,
    )

    // Workspaces, keys, members and invitations.
    const workspace = await person.workspaces.create({ name: 'Tour' })
    expect((await person.workspaces.get(workspace.id)).name).toBe('Tour')
    expect((await person.workspaces.list()).data.map((found) => found.id)).toContain(workspace.id)
    await person.workspaces.update(workspace.id, { corsOrigins: ['https://app.example.com'] })
    const key = await person.apiKeys.create({ name: 'tour', scopes: ['read', 'write', 'admin'] })
    expect((await person.apiKeys.list()).data.map((found) => found.id)).toContain(key.id)
    const client = clientFor({ apiKey: key.secret })

    const invitee = await server.signUp()
    const invitation = await client.invitations.create(workspace.id, {
      email: invitee.email,
      role: 'member',
    })
    expect(
      (await client.invitations.list(workspace.id).toArray()).map((found) => found.id),
    ).toContain(invitation.id)
    const inviteeClient = clientFor({ token: invitee.token })
    const member = await inviteeClient.invitations.accept({
      token: server.mail.codeFor(invitee.email, /You are invited/),
    })
    expect(member.role).toBe('member')
    expect(
      (await client.members.update(workspace.id, invitee.userId, { role: 'admin' })).role,
    ).toBe('admin')
    expect((await client.members.list(workspace.id).toArray()).length).toBe(2)
    await client.members.remove(workspace.id, invitee.userId)
    const withdrawn = await client.invitations.create(workspace.id, {
      email: `nobody-${crypto.randomUUID()}@example.com`,
      role: 'member',
    })
    expect((await client.invitations.revoke(workspace.id, withdrawn.id)).revokedAt).not.toBeNull()
    await inviteeClient.me.changePassword({
      currentPassword: invitee.password,
      newPassword: 'a third horse battery staple',
    })

    // Profiles and tokens.
    const profile = await client.profiles.create({ name: 'Tour', externalId: 'tour-1' })
    expect((await client.profiles.get(profile.id)).externalId).toBe('tour-1')
    expect(
      (await client.profiles.list({ externalId: 'tour-1' }).toArray()).map((p) => p.id),
    ).toEqual([profile.id])
    await client.profiles.update(profile.id, { name: 'Tour profile' })
    await client.profiles.createToken(profile.id, {})
    expect(await client.profiles.revokeTokens(profile.id)).toBeDefined()

    // Platforms, OAuth apps, connections and accounts.
    expect((await client.platforms.list()).data.map((platform) => platform.id)).toContain('sandbox')
    await client.oauthApps.set('x', { clientId: 'tour-client', clientSecret: 'tour-secret' })
    expect((await client.oauthApps.list()).data).toHaveLength(1)
    await client.oauthApps.delete('x')
    const account = await server.connectSandboxAccount(client, profile.id)
    expect((await client.accounts.list({ profileId: profile.id }).toArray()).length).toBe(1)

    // Media.
    const image = new Blob([new Uint8Array(await makeImage('png'))])
    const media = await client.media.upload(image, { profileId: profile.id })
    expect((await client.media.get(media.id)).usedBy).toEqual([])
    expect((await client.media.update(media.id, { altText: 'Blue' })).altText).toBe('Blue')
    expect((await client.media.list({ profileId: profile.id }).toArray()).length).toBe(1)
    expect(
      await client.media.validate({ mediaIds: [media.id], platforms: ['sandbox'] }),
    ).toBeDefined()
    const upload = await client.media.uploads.create({
      sizeBytes: image.size,
      profileId: profile.id,
    })
    await client.media.uploads.sendPart(upload.id, 1, image)
    expect((await client.media.uploads.get(upload.id)).missingParts).toEqual([])
    const completed = await client.media.uploads.complete(upload.id, {})
    await client.media.delete(completed.id)
    // Imports never reach private addresses unless the operator allows them (imported for real in
    // flow.test.ts): reaching the route answers why not.
    const refused = await client.media
      .import({ url: 'http://127.0.0.1:9/photo.png' })
      .catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(ValidationError)
    expect(refused).toMatchObject({ status: 422 })
    const abandoned = await client.media.uploads.create({ sizeBytes: 10 })
    await client.media.uploads.cancel(abandoned.id)

    // Posts, schedules and series.
    const target = { profileId: profile.id, accountIds: [account.id] }
    expect((await client.posts.validate({ ...target, content: { text: 'Hi' } })).valid).toBe(true)
    const post = await client.posts.create({
      ...target,
      content: { text: 'Tour', mediaIds: [media.id] },
      scheduledAt: later(1),
    })
    expect((await client.posts.update(post.id, { scheduledAt: later(2) })).scheduledAt).not.toBe(
      post.scheduledAt,
    )
    expect((await client.posts.cancel(post.id)).status).toBe('canceled')
    await client.posts.delete(post.id)
    const now = await client.posts.create({
      ...target,
      content: { text: 'Now' },
      scheduledAt: later(1),
    })
    await client.posts.publishNow(now.id)
    let published = await client.posts.get(now.id)
    for (let attempt = 0; attempt < 300 && published.status !== 'published'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      published = await client.posts.get(now.id)
    }
    expect(published.status).toBe('published')
    // Only failed or unconfirmed publications can be retried: reaching the route answers 409.
    const retry = await client.posts
      .retry(now.id, published.publications[0]?.id as string)
      .catch((error: unknown) => error)
    expect(retry).toBeInstanceOf(ConflictError)
    expect((await client.posts.list({ profileId: profile.id }).toArray()).map((p) => p.id)).toEqual(
      [now.id],
    )
    expect((await client.sandbox.posts.list().toArray()).map((p) => p.text)).toContain('Now')

    const schedule = await client.schedules.set(profile.id, {
      timezone: 'Europe/Berlin',
      slots: [{ weekday: 1, time: '09:00' }],
    })
    expect(schedule.slots).toHaveLength(1)
    expect((await client.schedules.get(profile.id)).timezone).toBe('Europe/Berlin')
    expect(await client.schedules.slots(profile.id, { count: 2 })).toBeDefined()
    const recurring = await client.posts.create({
      ...target,
      content: { text: 'Weekly' },
      scheduledAt: later(3),
      timezone: 'Europe/Berlin',
      recurrence: { rule: 'FREQ=WEEKLY;COUNT=3' },
    })
    const seriesId = recurring.recurrence?.seriesId as string
    expect((await client.series.get(seriesId)).id).toBe(seriesId)
    await client.series.cancel(seriesId)

    const settings = await client.publishingSettings.get(workspace.id)
    expect(
      await client.publishingSettings.update(workspace.id, {
        duplicateWindowSeconds: settings.duplicateWindowSeconds,
      }),
    ).toBeDefined()

    // Events, webhooks, privacy, usage, audit.
    const [latest] = await client.events.list().toArray({ limit: 1 })
    expect((await client.events.get(latest?.id as string)).id).toBe(latest?.id)
    const hook = await client.webhookEndpoints.create({ url: 'https://hooks.example.com/tour' })
    expect((await client.webhookEndpoints.get(hook.id)).url).toBe('https://hooks.example.com/tour')
    await client.webhookEndpoints.update(hook.id, { description: 'tour' })
    expect((await client.webhookEndpoints.list().toArray()).length).toBe(1)
    await client.webhookEndpoints.rotateSecret(hook.id)
    expect(await client.webhookEndpoints.test(hook.id)).toMatchObject({ succeeded: false })
    expect(await client.webhookEndpoints.deliveries(hook.id).toArray()).toBeDefined()
    expect(await client.webhookEndpoints.attempts(hook.id).toArray()).toBeDefined()
    await client.webhookEndpoints.redeliver(hook.id, { since: later(-1) })
    await client.webhookEndpoints.delete(hook.id)

    expect(await person.privacy.data()).toBeDefined()
    await person.privacy.consents.set({ purpose: 'usage_analytics', granted: true })
    expect(await person.privacy.consents.get()).toBeDefined()
    const exported = await person.privacy.exports.create()
    expect((await person.privacy.exports.get(exported.id)).id).toBe(exported.id)
    expect((await person.privacy.exports.list()).data.length).toBe(1)
    await person.privacy.deletion.request({ password: newPassword })
    expect((await person.privacy.deletion.get()).status).toBe('scheduled')
    await person.privacy.deletion.cancel()
    // The published post and the series' canceled occurrence (the canceled first post is gone).
    expect(await client.privacy.deletePostHistory({ profileId: profile.id })).toEqual({
      deleted: 2,
    })
    expect(await client.usage.get()).toBeDefined()
    expect((await client.auditLog.list({ limit: 5 }).toArray({ limit: 5 })).length).toBe(5)

    // Last, what removes things.
    await client.accounts.get(account.id)
    expect((await client.accounts.disconnect(account.id)).id).toBe(account.id)
    await client.profiles.delete(profile.id)
    await client.apiKeys.revoke(key.id)
    await person.sessions.revokeCurrent()

    // Nothing above was skipped: every method of the SDK was called and reached its route.
    const routes = new Set<string>()
    const walk = (value: unknown) => {
      if (typeof value === 'function' && 'route' in value) routes.add(value.route as string)
      if (typeof value === 'object' && value !== null) Object.values(value).forEach(walk)
    }
    walk(createClient({ baseURL: server.url }))
    expect([...routes].filter((route) => !called.has(route))).toEqual([])
  })
})
