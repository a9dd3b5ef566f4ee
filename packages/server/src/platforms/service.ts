import { and, eq } from 'drizzle-orm'
import { z } from 'zod'
import { type Actor, recordAudit } from '../audit/record.ts'
import { oauthApps } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import type { Services } from '../services.ts'
import type { OAuthApp, Platform } from './registry.ts'

/** The vault context of a workspace's OAuth client secret: bound to the workspace and platform. */
export const secretContext = (workspaceId: string, platform: string) =>
  `oauth_app:${workspaceId}:${platform}:client_secret`

/** What the API shows of a platform: its capabilities as data, the options schema as JSON Schema. */
export function presentPlatform(platform: Platform, configured: boolean) {
  const { optionsSchema, ...capabilities } = platform.capabilities
  return {
    id: platform.id,
    displayName: capabilities.displayName,
    configured,
    emulated: platform.emulated,
    capabilities: {
      ...capabilities,
      optionsSchema: z.toJSONSchema(optionsSchema, { io: 'input' }),
    },
  }
}

/** Every installed platform, and whether the workspace can connect accounts to it. */
export async function listPlatforms(services: Services, workspaceId: string) {
  const own = await services.db
    .select({ platform: oauthApps.platform })
    .from(oauthApps)
    .where(eq(oauthApps.workspaceId, workspaceId))
  const withOwnApp = new Set(own.map((row) => row.platform))
  return services.platforms
    .list()
    .map((platform) =>
      presentPlatform(
        platform,
        withOwnApp.has(platform.id) ||
          platform.workspaceApp !== undefined ||
          platform.serverApp !== undefined,
      ),
    )
}

/**
 * The OAuth app to use for a workspace: its own when it registered one, else the one the server
 * gives it (the sandbox's), else the server's.
 *
 * @throws {ProblemError} `CONFLICT` when neither exists.
 */
export async function resolveOAuthApp(
  services: Pick<Services, 'db' | 'vault'>,
  workspaceId: string,
  platform: Platform,
): Promise<OAuthApp> {
  const [own] = await services.db
    .select()
    .from(oauthApps)
    .where(and(eq(oauthApps.workspaceId, workspaceId), eq(oauthApps.platform, platform.id)))
  return chooseOAuthApp(services, workspaceId, platform, own)
}

/**
 * {@link resolveOAuthApp} for a caller that already read the workspace's own app row (or knows
 * there is none): that app, else the server's.
 *
 * @throws {ProblemError} `CONFLICT` when neither exists.
 */
export function chooseOAuthApp(
  services: Pick<Services, 'vault'>,
  workspaceId: string,
  platform: Platform,
  own: typeof oauthApps.$inferSelect | undefined | null,
): OAuthApp {
  if (own) {
    return {
      clientId: own.clientId,
      clientSecret: services.vault.open(
        own.clientSecretSealed,
        secretContext(workspaceId, platform.id),
      ),
    }
  }
  if (platform.workspaceApp) return platform.workspaceApp(workspaceId)
  if (platform.serverApp) return platform.serverApp
  throw new ProblemError(
    'CONFLICT',
    `No ${platform.capabilities.displayName} app is configured: register one with PUT /v1/oauth-apps/${platform.id}, or configure one for the whole server`,
  )
}

/** Registers (or replaces) the workspace's own OAuth app for a platform; the secret is sealed. */
export async function putOAuthApp(
  services: Services,
  workspaceId: string,
  platform: Platform,
  app: OAuthApp,
  actor: Actor,
) {
  const sealed = services.vault.seal(app.clientSecret, secretContext(workspaceId, platform.id))
  return services.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(oauthApps)
      .values({
        workspaceId,
        platform: platform.id,
        clientId: app.clientId,
        clientSecretSealed: sealed,
      })
      .onConflictDoUpdate({
        target: [oauthApps.workspaceId, oauthApps.platform],
        set: { clientId: app.clientId, clientSecretSealed: sealed, updatedAt: new Date() },
      })
      .returning()
    if (!row) throw new Error('the OAuth app upsert returned no row')
    await recordAudit(tx, actor, {
      action: 'oauth_app.saved',
      workspaceId,
      targetType: 'oauth_app',
      targetId: platform.id,
      details: { clientId: app.clientId },
    })
    return presentOAuthApp(row)
  })
}

export async function listOAuthApps(services: Services, workspaceId: string) {
  const rows = await services.db
    .select()
    .from(oauthApps)
    .where(eq(oauthApps.workspaceId, workspaceId))
  return rows.map(presentOAuthApp)
}

export async function deleteOAuthApp(
  services: Services,
  workspaceId: string,
  platformId: string,
  actor: Actor,
) {
  await services.db.transaction(async (tx) => {
    const [row] = await tx
      .delete(oauthApps)
      .where(and(eq(oauthApps.workspaceId, workspaceId), eq(oauthApps.platform, platformId)))
      .returning({ platform: oauthApps.platform })
    if (!row)
      throw new ProblemError('NOT_FOUND', `No ${platformId} app registered in this workspace`)
    await recordAudit(tx, actor, {
      action: 'oauth_app.deleted',
      workspaceId,
      targetType: 'oauth_app',
      targetId: platformId,
    })
  })
}

function presentOAuthApp(row: typeof oauthApps.$inferSelect) {
  return {
    platform: row.platform,
    clientId: row.clientId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }
}
