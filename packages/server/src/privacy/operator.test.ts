import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { spawnCLI } from '../../test/cli.ts'
import { servicesOf, startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { runDueErasures } from './erasure.ts'
import { currentPolicy, sendPolicyNotices } from './policy.ts'
import { POLICY_V1 } from './policy-v1.ts'

const server = await startTestServer()
const { request, mail } = server
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)

// The running server's own services, for calling the jobs with an injected clock.
const services = await servicesOf(server)

const DAY_MS = 86_400_000

async function cli(args: string[]) {
  const child = spawnCLI(args, { DATABASE_URL: server.databaseURL, LOG_LEVEL: 'silent' })
  const code = await child.exited
  return { code, ...child.output() }
}

describe('the privacy policy', () => {
  it('is served with its effective date, exactly as published', async () => {
    const response = await request('/v1/privacy-policy')
    expect(response.status).toBe(200)
    const policy = (await response.json()) as { version: number; effectiveAt: string; text: string }
    expect(policy).toMatchObject({
      version: 1,
      effectiveAt: '2025-01-15T00:00:00.000Z',
      upcoming: null,
    })
    expect(policy.text).toBe(POLICY_V1.text)
    expect(policy.text).toContain('Effective Date: January 15, 2025')
  })

  it('cannot take effect sooner than the notice period', async () => {
    const file = join(tmpdir(), `policy-${Date.now()}.txt`)
    await writeFile(file, 'Privacy Policy v2')
    const soon = new Date(Date.now() + 5 * DAY_MS).toISOString()
    const refused = await cli([
      'policy',
      'publish',
      '--file',
      file,
      '--effective-at',
      soon,
      '--summary',
      'x',
    ])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/at least 30 days/)
    expect((await currentPolicy(db, new Date())).upcoming).toBeUndefined()
  })

  it('notifies every user by email and every workspace by event in advance, and flags who has not seen it', async () => {
    const before = await server.createTenant()
    const acknowledged = await server.signUp()
    const file = join(tmpdir(), `policy-${Date.now()}.txt`)
    await writeFile(file, 'Privacy Policy\nEffective Date: later\nWe now also …')
    const effectiveAt = new Date(Date.now() + 31 * DAY_MS)
    const published = await cli([
      'policy',
      'publish',
      '--file',
      file,
      '--effective-at',
      effectiveAt.toISOString(),
      '--summary',
      'We explain international transfers in more detail.',
    ])
    expect(published.code, published.stderr).toBe(0)

    const served = (await (await request('/v1/privacy-policy')).json()) as Record<string, unknown>
    expect(served).toMatchObject({
      version: 1,
      upcoming: {
        version: 2,
        effectiveAt: effectiveAt.toISOString(),
        summary: 'We explain international transfers in more detail.',
        text: 'Privacy Policy\nEffective Date: later\nWe now also …',
      },
    })
    const flagged = async (token: string) =>
      (
        (await (await request('/v1/me/consents', { token })).json()) as {
          privacyPolicy: { reviewNeeded: boolean; acknowledgedVersion: number }
        }
      ).privacyPolicy
    expect(await flagged(before.person.token)).toMatchObject({
      reviewNeeded: true,
      acknowledgedVersion: 1,
    })

    expect(await sendPolicyNotices(services)).toBeGreaterThanOrEqual(2)
    for (const email of [before.person.email, acknowledged.email]) {
      const notice = mail
        .to(email)
        .find((message) => message.subject === 'Our privacy policy is changing')
      expect(notice?.text).toContain(effectiveAt.toISOString())
    }
    const events = await db.execute<{
      workspace_id: string
      data: { version: string; effectiveAt: string }
    }>(sql`select workspace_id, data from post_scheduler.events where type = 'policy.updated'`)
    expect(events).toContainEqual({
      workspace_id: before.workspaceId,
      data: { version: '2', effectiveAt: effectiveAt.toISOString() },
    })
    // Sent once: a second pass sends nothing.
    const sent = mail.sent.length
    expect(await sendPolicyNotices(services)).toBe(0)
    expect(mail.sent.length).toBe(sent)

    const seen = await request('/v1/me/consents', {
      token: acknowledged.token,
      json: { purpose: 'privacy_policy', granted: true },
    })
    expect(((await seen.json()) as { privacyPolicy: unknown }).privacyPolicy).toMatchObject({
      reviewNeeded: false,
      acknowledgedVersion: 2,
    })
    expect(await flagged(before.person.token)).toMatchObject({ reviewNeeded: true })
    // People who sign up after it was published saw it then.
    const newcomer = await server.signUp()
    expect(await flagged(newcomer.token)).toMatchObject({ reviewNeeded: false })
    // It takes effect at its date.
    expect((await currentPolicy(db, new Date(effectiveAt.getTime() + 1000))).current.version).toBe(
      2,
    )
  })
})

describe('a report of a child’s account', () => {
  it('signs the account out at once and erases it at the next run of the privacy job', async () => {
    const child = await server.signUp()
    const done = await cli(['privacy', 'erase-child', child.email.toUpperCase()])
    expect(done.code, done.stderr).toBe(0)
    expect((await request('/v1/me', { token: child.token })).status).toBe(401)
    expect(await runDueErasures(services, new Date())).toBe(1)
    const rows = await db.execute(
      sql`select 1 from post_scheduler.users where id = ${child.userId}`,
    )
    expect(rows).toEqual([])
    const [record] = await db.execute<{ reason: string; status: string }>(
      sql`select reason, status from post_scheduler.privacy_deletions where reason = 'child_report'`,
    )
    expect(record).toEqual({ reason: 'child_report', status: 'completed' })
    expect((await cli(['privacy', 'erase-child', 'nobody@example.com'])).code).toBe(2)
  })
})
