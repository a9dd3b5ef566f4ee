import { and, eq } from 'drizzle-orm'
import { afterAll, describe, expect, it } from 'vitest'
import { TEST_KEYS, testConfig } from '../../test/config.ts'
import { startTestServer } from '../../test/server.ts'
import { createDatabaseClient } from '../db/client.ts'
import { generateId } from '../db/ids.ts'
import { media, profiles } from '../db/schema/index.ts'
import { createPlatformRegistry } from '../platforms/registry.ts'
import { parseKeyring } from '../vault/vault.ts'
import { validateMediaForPlatforms } from './publishing.ts'

const server = await startTestServer()
const { db, close } = createDatabaseClient(server.databaseURL, { max: 2 })
afterAll(close)
const { registry } = await createPlatformRegistry({
  config: testConfig(server.databaseURL),
  db,
  key: parseKeyring(TEST_KEYS)[0].key,
})
const services = { db, platforms: registry }
const tenant = await server.createTenant()
const [profile] = await db
  .select()
  .from(profiles)
  .where(and(eq(profiles.workspaceId, tenant.workspaceId), eq(profiles.isDefault, true)))

const MB = 1024 * 1024

/** A stored media row as inspection would leave it (large files without uploading them). */
async function seed(
  values: Partial<typeof media.$inferInsert> & Pick<typeof media.$inferInsert, 'kind' | 'mimeType'>,
) {
  const id = generateId('med')
  await db.insert(media).values({
    id,
    workspaceId: tenant.workspaceId,
    profileId: profile?.id ?? '',
    sizeBytes: 100_000,
    sha256: '0'.repeat(64),
    storageKey: `media/${tenant.workspaceId}/${id}/original`,
    details: { container: 'test', source: 'upload' },
    ...values,
  })
  return id
}

const photo = () => seed({ kind: 'image', mimeType: 'image/jpeg', width: 1200, height: 1000 })
const codes = (issues: { platform?: string; path: (string | number)[]; code: string }[]) =>
  issues.map(({ platform, path, code }) => ({ platform, path, code }))

describe('validateMediaForPlatforms', () => {
  it('finds nothing wrong with media every platform takes', async () => {
    const ids = [await photo(), await photo()]
    expect(
      await validateMediaForPlatforms(services, tenant.workspaceId, ids, [
        'sandbox',
        'x',
        'linkedin',
      ]),
    ).toEqual([])
  })

  it('reports what the sandbox refuses: a GIF, a panorama', async () => {
    const gif = await seed({ kind: 'gif', mimeType: 'image/gif', width: 100, height: 100 })
    const panorama = await seed({ kind: 'image', mimeType: 'image/png', width: 3000, height: 1000 })
    const issues = await validateMediaForPlatforms(services, tenant.workspaceId, [gif], ['sandbox'])
    expect(issues).toEqual([
      {
        platform: 'sandbox',
        path: ['media', 0, 'kind'],
        code: 'MEDIA_KIND_UNSUPPORTED',
        message: 'Sandbox does not accept gif files.',
      },
    ])
    const wide = await validateMediaForPlatforms(
      services,
      tenant.workspaceId,
      [panorama],
      ['sandbox'],
    )
    expect(wide).toMatchObject([
      {
        path: ['media', 0, 'aspectRatio'],
        code: 'MEDIA_ASPECT_RATIO_OUT_OF_RANGE',
        message: 'The image is 3000×1000 (ratio 3.00); Sandbox accepts ratios from 0.5 to 2.',
      },
    ])
  })

  it('applies X’s limits: video length, image size, four images at most, one GIF alone', async () => {
    const longVideo = await seed({
      kind: 'video',
      mimeType: 'video/mp4',
      width: 1280,
      height: 720,
      durationSeconds: 200,
    })
    const heavy = await seed({
      kind: 'image',
      mimeType: 'image/png',
      sizeBytes: 6 * MB,
      width: 800,
      height: 800,
    })
    const issues = await validateMediaForPlatforms(services, tenant.workspaceId, [longVideo], ['x'])
    expect(issues).toEqual([
      {
        platform: 'x',
        path: ['media', 0, 'durationSeconds'],
        code: 'MEDIA_DURATION_OUT_OF_RANGE',
        message: expect.stringContaining('140'),
      },
    ])
    expect(
      codes(await validateMediaForPlatforms(services, tenant.workspaceId, [heavy], ['x'])),
    ).toEqual([{ platform: 'x', path: ['media', 0, 'sizeBytes'], code: 'MEDIA_TOO_LARGE' }])
    const five = [await photo(), await photo(), await photo(), await photo(), await photo()]
    const tooMany = await validateMediaForPlatforms(services, tenant.workspaceId, five, [
      'x',
      'linkedin',
    ])
    expect(tooMany).toEqual([
      {
        platform: 'x',
        path: ['media'],
        code: 'MEDIA_COMBINATION_UNSUPPORTED',
        message: expect.stringContaining('1 to 4 image files'),
      },
    ])
  })

  it('applies LinkedIn’s limits: MP4 only, 3 seconds at least, ratios up to 2.4', async () => {
    const short = await seed({
      kind: 'video',
      mimeType: 'video/mp4',
      width: 720,
      height: 720,
      durationSeconds: 2,
    })
    const mov = await seed({
      kind: 'video',
      mimeType: 'video/quicktime',
      width: 3000,
      height: 1000,
      durationSeconds: 10,
    })
    expect(
      codes(
        await validateMediaForPlatforms(services, tenant.workspaceId, [short], ['linkedin', 'x']),
      ),
    ).toEqual([
      {
        platform: 'linkedin',
        path: ['media', 0, 'durationSeconds'],
        code: 'MEDIA_DURATION_OUT_OF_RANGE',
      },
    ])
    const issues = await validateMediaForPlatforms(
      services,
      tenant.workspaceId,
      [mov],
      ['linkedin'],
    )
    expect(codes(issues)).toEqual([
      { platform: 'linkedin', path: ['media', 0, 'mimeType'], code: 'MEDIA_TYPE_UNSUPPORTED' },
      {
        platform: 'linkedin',
        path: ['media', 0, 'aspectRatio'],
        code: 'MEDIA_ASPECT_RATIO_OUT_OF_RANGE',
      },
    ])
    expect(issues[0]?.message).toBe('LinkedIn does not accept video/quicktime; use video/mp4.')
  })

  it('reports media that do not exist in the workspace, whoever owns them', async () => {
    const other = await server.createTenant()
    const mine = await photo()
    const issues = await validateMediaForPlatforms(
      services,
      other.workspaceId,
      [mine, 'med_missing'],
      ['x'],
    )
    expect(codes(issues)).toEqual([
      { platform: undefined, path: ['media', 0], code: 'MEDIA_NOT_FOUND' },
      { platform: undefined, path: ['media', 1], code: 'MEDIA_NOT_FOUND' },
    ])
  })

  it('answers the same through POST /v1/media/validate', async () => {
    const gif = await seed({ kind: 'gif', mimeType: 'image/gif', width: 100, height: 100 })
    const response = await server.request('/v1/media/validate', {
      token: tenant.apiKey,
      json: { mediaIds: [gif], platforms: ['sandbox', 'x'] },
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      valid: false,
      issues: [
        {
          platform: 'sandbox',
          path: ['media', 0, 'kind'],
          code: 'MEDIA_KIND_UNSUPPORTED',
          message: 'Sandbox does not accept gif files.',
        },
      ],
    })
  })
})
