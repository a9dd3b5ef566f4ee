import { and, desc, eq, isNull, sql } from 'drizzle-orm'
import { type Actor, recordAudit } from '../audit/record.ts'
import { type Scope, SECRET_PREFIXES } from '../auth/principal.ts'
import { generateSecret, hashSecret } from '../auth/secrets.ts'
import type { Database } from '../db/client.ts'
import { generateId } from '../db/ids.ts'
import { apiKeys, users, workspaceMembers, workspaces } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import { messages } from '../mail/messages.ts'
import { deliver } from '../mail/transport.ts'
import type { Services } from '../services.ts'

type ApiKey = typeof apiKeys.$inferSelect

/** What the API shows of a key: never the secret, only its prefix and last four characters. */
export function presentApiKey(key: ApiKey) {
  return {
    id: key.id,
    name: key.name,
    mode: key.mode,
    scopes: key.scopes as Scope[],
    masked: `${key.mode === 'live' ? SECRET_PREFIXES.liveKey : SECRET_PREFIXES.testKey}…${key.lastFour}`,
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
  }
}

/**
 * Creates an API key. The secret is returned once and only its hash is stored. The workspace's
 * owners and admins are told by email.
 */
export async function createApiKey(
  services: Pick<Services, 'db' | 'mail' | 'logger'>,
  workspaceId: string,
  input: { name: string; mode: 'live' | 'test'; scopes: Scope[] },
  actor: Actor,
) {
  const secret = generateSecret(
    input.mode === 'live' ? SECRET_PREFIXES.liveKey : SECRET_PREFIXES.testKey,
  )
  const key = await insertApiKey(services.db, workspaceId, input, secret, actor)
  const recipients = await services.db
    .select({ email: users.email, workspace: workspaces.name })
    .from(workspaceMembers)
    .innerJoin(users, eq(users.id, workspaceMembers.userId))
    .innerJoin(workspaces, eq(workspaces.id, workspaceMembers.workspaceId))
    .where(
      and(
        eq(workspaceMembers.workspaceId, workspaceId),
        sql`${workspaceMembers.role} in ('owner', 'admin')`,
      ),
    )
  for (const recipient of recipients) {
    await deliver(
      services,
      messages.apiKeyCreated(recipient.email, { name: key.name, workspace: recipient.workspace }),
    )
  }
  return { ...presentApiKey(key), secret }
}

async function insertApiKey(
  db: Database,
  workspaceId: string,
  input: { name: string; mode: 'live' | 'test'; scopes: Scope[] },
  secret: string,
  actor: Actor,
) {
  return db.transaction(async (tx) => {
    const [key] = await tx
      .insert(apiKeys)
      .values({
        id: generateId('key'),
        workspaceId,
        name: input.name.trim(),
        mode: input.mode,
        scopes: [...new Set(input.scopes)],
        keyHash: hashSecret(secret),
        lastFour: secret.slice(-4),
        createdBy: actor.id,
      })
      .returning()
    if (!key) throw new Error('the API key insert returned no row')
    await recordAudit(tx, actor, {
      action: 'api_key.created',
      workspaceId,
      targetType: 'api_key',
      targetId: key.id,
      details: { name: key.name, mode: key.mode, scopes: key.scopes },
    })
    return key
  })
}

/** The workspace's keys, newest first, revoked ones included (marked). */
export async function listApiKeys(services: Services, workspaceId: string) {
  const rows = await services.db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.workspaceId, workspaceId))
    .orderBy(desc(apiKeys.createdAt))
  return rows.map(presentApiKey)
}

/** Revokes a key at once: the next request with it is refused. */
export async function revokeApiKey(
  services: Services,
  workspaceId: string,
  keyId: string,
  actor: Actor,
) {
  return services.db.transaction(async (tx) => {
    const [key] = await tx
      .update(apiKeys)
      .set({ revokedAt: sql`now()` })
      .where(
        and(eq(apiKeys.id, keyId), eq(apiKeys.workspaceId, workspaceId), isNull(apiKeys.revokedAt)),
      )
      .returning()
    if (!key) throw new ProblemError('NOT_FOUND', `No active API key ${keyId} in this workspace`)
    await recordAudit(tx, actor, {
      action: 'api_key.revoked',
      workspaceId,
      targetType: 'api_key',
      targetId: keyId,
    })
    return presentApiKey(key)
  })
}

/** Exposed for the development bootstrap, which prints the key it makes. */
export { insertApiKey }
