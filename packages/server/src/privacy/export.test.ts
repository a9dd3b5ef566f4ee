import { sql } from 'drizzle-orm'
import { unzipSync } from 'fflate'
import { describe, expect, it } from 'vitest'
import { local } from '../../test/connections.ts'
import { type Json, startPrivacyTest } from '../../test/privacy.ts'
import { tokenContext } from '../connections/tokens.ts'
import { connectedAccounts } from '../db/schema/index.ts'
import { NOT_PERSONAL_DATA, PERSONAL_DATA } from './inventory.ts'

const { server, request, mail, db, services, json, tablesOfSchema, populate } =
  await startPrivacyTest()
const subject = await populate()
const { person } = subject

describe('the export', () => {
  it('covers every table of the schema: each is exported or listed as holding no personal data', async () => {
    const covered = [...Object.keys(PERSONAL_DATA), ...Object.keys(NOT_PERSONAL_DATA), 'migrations']
    expect((await tablesOfSchema()).filter((table) => !covered.includes(table))).toEqual([])
    expect(
      Object.keys(PERSONAL_DATA).filter(
        (table) => covered.indexOf(table) !== covered.lastIndexOf(table),
      ),
    ).toEqual([])
  })

  it('downloads through its short-lived link as a ZIP with every personal table, the media files and no secret', async () => {
    expect(subject.downloadURL).toMatch(/expires=\d+&signature=/)
    const download = await server.scheduler.app.request(local(subject.downloadURL as string))
    expect(download.status).toBe(200)
    const files = unzipSync(new Uint8Array(await download.arrayBuffer()))
    const tables = Object.keys(PERSONAL_DATA)
    for (const table of tables) {
      const rows = JSON.parse(new TextDecoder().decode(files[`${table}.json`])) as Json[]
      // The person has data in every table (exports are built while it is pending, hence not itself).
      if (table !== 'privacy_deletions' && table !== 'privacy_exports') {
        expect(rows.length, `${table}.json has the person's rows`).toBeGreaterThan(0)
      }
    }
    const announced = await db.execute<{ data: { exportId: string } }>(
      sql`select data from post_scheduler.events where type = 'export.ready' and workspace_id = ${person.workspaceId}`,
    )
    expect(announced.map((event) => event.data.exportId)).toEqual([subject.exportId])
    expect(mail.to(person.person.email).map((message) => message.subject)).toContain(
      'Your data export is ready',
    )
    const mediaFiles = Object.keys(files).filter((name) => name.startsWith('media/'))
    expect(mediaFiles.some((name) => name.endsWith('/original.png'))).toBe(true)

    // No credential: neither what the database keeps of them (hashes, ciphertexts) nor the secrets.
    const columns = await db.execute<{ table: string; column: string }>(sql`
      select table_name as table, column_name as column from information_schema.columns
      where table_schema = 'post_scheduler' and column_name ~ '(hash|sealed|secret|verifier|password)'`)
    const stored: string[] = []
    for (const { table, column } of columns) {
      const rows = await db.execute<{ value: string | null }>(
        sql`select ${sql.identifier(column)}::text as value from post_scheduler.${sql.identifier(table)}`,
      )
      stored.push(
        ...rows.flatMap((row) => (row.value && row.value.length >= 16 ? [row.value] : [])),
      )
    }
    expect(stored.length).toBeGreaterThan(5)
    const tokens = await db.select().from(connectedAccounts)
    const plaintext = [
      person.person.password,
      person.person.token,
      person.apiKey,
      'own-x-app-secret-value-123',
      ...tokens.flatMap((account) =>
        account.accessTokenSealed
          ? [services.vault.open(account.accessTokenSealed, tokenContext(account, 'access_token'))]
          : [],
      ),
    ]
    const everything = Object.entries(files)
      .filter(([name]) => name.endsWith('.json'))
      .map(([, bytes]) => new TextDecoder().decode(bytes))
      .join('\n')
    for (const secret of [...stored, ...plaintext]) expect(everything).not.toContain(secret)
  })
})

describe('the access view', () => {
  it('shows every personal table, connected accounts without tokens, and reads of the person’s data by others', async () => {
    const view = await json<{ data: Record<string, Json[]>; consents: Json }>(
      await request('/v1/me/data', { token: person.person.token }),
      200,
    )
    expect(Object.keys(view.data).sort()).toEqual(Object.keys(PERSONAL_DATA).sort())
    expect(view.data.connected_accounts).toHaveLength(2)
    for (const account of view.data.connected_accounts ?? []) {
      expect(
        Object.keys(account).filter(
          (key) =>
            /token/i.test(key) && key !== 'accessTokenExpiresAt' && key !== 'refreshTokenExpiresAt',
        ),
      ).toEqual([])
    }
    const viewed = (view.data.audit_log ?? []).find(
      (entry) => entry.action === 'member.personal_data_viewed',
    )
    // Who read it is shown; their client address is theirs, not the person's.
    expect(viewed).toMatchObject({ actorId: subject.other.person.userId, ip: null })
    expect(view.data.audit_log).toContainEqual(
      expect.objectContaining({
        action: 'audit_log.personal_data_viewed',
        actorType: 'api_key',
        actorId: subject.other.apiKeyId,
      }),
    )
    // Corrections are audited: the address change asked for during population.
    expect(view.data.audit_log).toContainEqual(
      expect.objectContaining({
        action: 'user.updated',
        details: { fields: ['email (pending confirmation)'] },
      }),
    )
    expect(view.data.users?.[0]).not.toHaveProperty('passwordHash')
  })
})
