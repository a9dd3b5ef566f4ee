import type { Database } from '../db/client.ts'
import { auditLog } from '../db/schema/index.ts'

/** Who did something, as the audit log records it. */
export interface Actor {
  type: 'user' | 'api_key' | 'profile_token' | 'system' | 'anonymous'
  /** The user, API key or profile token id; absent for `system` and `anonymous`. */
  id: string | undefined
  ip: string | undefined
  requestId: string | undefined
}

/** One audit log entry. Actions are dotted verbs in the past tense (`api_key.created`). */
export interface AuditEvent {
  action: string
  workspaceId?: string | undefined
  targetType?: string
  targetId?: string
  /** The person whose account or personal data the event concerns. */
  subjectUserId?: string | undefined
  details?: Record<string, unknown>
}

/**
 * Appends an entry to the audit log. Pass the transaction of the change it records, so the entry
 * exists exactly when the change does. Never put secrets in `details`.
 *
 * @example
 * ```ts
 * await recordAudit(tx, actor, { action: 'api_key.revoked', workspaceId, targetType: 'api_key', targetId: key.id })
 * ```
 */
export async function recordAudit(
  db: Pick<Database, 'insert'>,
  actor: Actor,
  event: AuditEvent,
): Promise<void> {
  await db.insert(auditLog).values({
    actorType: actor.type,
    actorId: actor.id,
    ip: actor.ip,
    requestId: actor.requestId,
    action: event.action,
    workspaceId: event.workspaceId,
    targetType: event.targetType,
    targetId: event.targetId,
    subjectUserId: event.subjectUserId,
    details: event.details ?? {},
  })
}
