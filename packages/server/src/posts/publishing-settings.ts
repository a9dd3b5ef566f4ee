import { eq, sql } from 'drizzle-orm'
import type { Actor } from '../audit/record.ts'
import { recordAudit } from '../audit/record.ts'
import type { Database, Transaction } from '../db/client.ts'
import { publishingSettings } from '../db/schema/index.ts'
import type { Services } from '../services.ts'

/**
 * Publications per connected account per UTC day, by platform, unless a workspace sets its own.
 * Each is at or below what the platform documents (see `/work/shared/platforms/README.md`):
 *
 * - `x`: 2,400 — X's published account limit of 2,400 posts a day (X Help Center, not in the
 *   README); under the API's per-user `POST /2/tweets` limit of 100 per 15 minutes and the app's
 *   10,000 per 24 h (README §1.5). Free-tier apps get far fewer ("historically 17–25/24 h",
 *   README §1.9): lower the cap to match.
 * - `linkedin`: 150 — LinkedIn publishes no standard limits (README §4.5, "view them in the
 *   Developer Portal"); 150 a member a day is the limit its Share API documented. UNCONFIRMED.
 * - `instagram`: 50 — `content_publishing_limit` default, "50 posts within a 24 hour moving
 *   period" (README §2, publishing quota).
 * - `facebook`: 30 — the Reels API allows 30 API-published reels per Page per 24 h (README §3.2);
 *   Pages document no cap for other posts.
 * - `youtube`: 100 — the default `videos.insert` bucket of 100 calls a day (README §5.4).
 * - `tiktok`: 15 — "≈15 direct posts/day per creator" (`spam_risk_too_many_posts`, README §6.6;
 *   UNCONFIRMED).
 * - `sandbox`: 10,000 — a local fake network: generous, but still a guard against runaway loops.
 */
export const DEFAULT_DAILY_CAPS: Readonly<Record<string, number>> = {
  x: 2400,
  linkedin: 150,
  instagram: 50,
  facebook: 30,
  youtube: 100,
  tiktok: 15,
  sandbox: 10_000,
}

/** The cap of a platform no default names (a third-party adapter). */
export const FALLBACK_DAILY_CAP = 100

/**
 * The same text may not go to the same account twice within this window (24 h): X refuses
 * duplicates with 403, Facebook with code 506 and LinkedIn with 422 (README, duplicate detection);
 * catching them at scheduling time is kinder than a failed publication.
 */
export const DEFAULT_DUPLICATE_WINDOW_SECONDS = 24 * 60 * 60

/** The guards a workspace publishes under: its overrides over the defaults. */
export interface EffectivePublishingSettings {
  /** Publications per connected account per UTC day, for every installed platform. */
  dailyCaps: Record<string, number>
  /** 0 means the duplicate guard is off. */
  duplicateWindowSeconds: number
  /**
   * A publication first reached this long after its time (everything was down) is marked missed
   * instead of published late; null (the default) publishes it whatever the delay.
   */
  missedAfterSeconds: number | null
  /** The workspace's own values (null where it uses the default). */
  overrides: { dailyCaps: Record<string, number>; duplicateWindowSeconds: number | null }
}

/** A workspace's effective publishing guards. */
export async function getPublishingSettings(
  services: Pick<Services, 'db' | 'platforms'>,
  workspaceId: string,
  db: Database | Transaction = services.db,
): Promise<EffectivePublishingSettings> {
  const [row] = await db
    .select()
    .from(publishingSettings)
    .where(eq(publishingSettings.workspaceId, workspaceId))
  return effectivePublishingSettings(services, row)
}

/** What a workspace's own settings (`row`, absent for none) make of the defaults. */
export function effectivePublishingSettings(
  services: Pick<Services, 'platforms'>,
  row:
    | Pick<
        typeof publishingSettings.$inferSelect,
        'dailyCaps' | 'duplicateWindowSeconds' | 'missedAfterSeconds'
      >
    | undefined,
): EffectivePublishingSettings {
  const own = row?.dailyCaps ?? {}
  const dailyCaps: Record<string, number> = {}
  for (const platform of services.platforms.list()) {
    dailyCaps[platform.id] = own[platform.id] ?? capFor(platform.id)
  }
  return {
    dailyCaps,
    duplicateWindowSeconds: row?.duplicateWindowSeconds ?? DEFAULT_DUPLICATE_WINDOW_SECONDS,
    missedAfterSeconds: row?.missedAfterSeconds ?? null,
    overrides: { dailyCaps: own, duplicateWindowSeconds: row?.duplicateWindowSeconds ?? null },
  }
}

/** The default daily cap of a platform. */
export const capFor = (platform: string) => DEFAULT_DAILY_CAPS[platform] ?? FALLBACK_DAILY_CAP

/** What a workspace changes: a number sets its own value, null goes back to the default. */
export interface PublishingSettingsUpdate {
  dailyCaps?: Record<string, number | null> | undefined
  duplicateWindowSeconds?: number | null | undefined
  missedAfterSeconds?: number | null | undefined
}

/** Changes a workspace's publishing guards (audited) and answers the effective settings. */
export async function updatePublishingSettings(
  services: Pick<Services, 'db' | 'platforms'>,
  workspaceId: string,
  update: PublishingSettingsUpdate,
  actor: Actor,
): Promise<EffectivePublishingSettings> {
  return services.db.transaction(async (tx) => {
    await tx.insert(publishingSettings).values({ workspaceId }).onConflictDoNothing()
    const [row] = await tx
      .select()
      .from(publishingSettings)
      .where(eq(publishingSettings.workspaceId, workspaceId))
      .for('update')
    const dailyCaps = { ...row?.dailyCaps }
    for (const [platform, cap] of Object.entries(update.dailyCaps ?? {})) {
      if (cap === null) delete dailyCaps[platform]
      else dailyCaps[platform] = cap
    }
    await tx
      .update(publishingSettings)
      .set({
        dailyCaps,
        ...(update.duplicateWindowSeconds !== undefined && {
          duplicateWindowSeconds: update.duplicateWindowSeconds,
        }),
        ...(update.missedAfterSeconds !== undefined && {
          missedAfterSeconds: update.missedAfterSeconds,
        }),
        updatedAt: sql`now()`,
      })
      .where(eq(publishingSettings.workspaceId, workspaceId))
    await recordAudit(tx, actor, {
      action: 'publishing_settings.updated',
      workspaceId,
      targetType: 'workspace',
      targetId: workspaceId,
      details: { ...update },
    })
    return getPublishingSettings(services, workspaceId, tx)
  })
}
