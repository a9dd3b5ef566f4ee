import { and, eq, gte, lt, lte, type SQL } from 'drizzle-orm'
import { sequential, toPage } from '../db/pagination.ts'
import { auditLog } from '../db/schema/index.ts'
import type { Services } from '../services.ts'
import { type Actor, recordAudit } from './record.ts'

type Entry = typeof auditLog.$inferSelect

/** What the API shows of an audit entry. */
export function presentAuditEntry(entry: Entry) {
  return {
    id: String(entry.id),
    action: entry.action,
    actor: { type: entry.actorType, id: entry.actorId },
    target: entry.targetType ? { type: entry.targetType, id: entry.targetId } : null,
    subjectUserId: entry.subjectUserId,
    ip: entry.ip,
    requestId: entry.requestId,
    details: entry.details,
    createdAt: entry.createdAt.toISOString(),
  }
}

/** Filters of {@link listAuditLog}. */
export interface AuditLogFilter {
  action?: string | undefined
  actorId?: string | undefined
  targetId?: string | undefined
  since?: string | undefined
  until?: string | undefined
  limit: number
  cursor?: string | undefined
}

/**
 * A workspace's audit log, newest first. Entries are append-only; `action` matches exactly or, with
 * a trailing `.*`, by prefix (`api_key.*`). Entries name people and their client addresses: the
 * read is itself recorded (`audit_log.personal_data_viewed`, naming the people other than the
 * reader), so it appears in their access view.
 */
export async function listAuditLog(
  services: Services,
  workspaceId: string,
  filter: AuditLogFilter,
  actor: Actor,
) {
  const conditions: (SQL | undefined)[] = [eq(auditLog.workspaceId, workspaceId)]
  if (filter.action?.endsWith('.*')) {
    const prefix = filter.action.slice(0, -1)
    conditions.push(and(gte(auditLog.action, prefix), lt(auditLog.action, `${prefix}\uffff`)))
  } else if (filter.action) {
    conditions.push(eq(auditLog.action, filter.action))
  }
  if (filter.actorId) conditions.push(eq(auditLog.actorId, filter.actorId))
  if (filter.targetId) conditions.push(eq(auditLog.targetId, filter.targetId))
  if (filter.since) conditions.push(gte(auditLog.createdAt, new Date(filter.since)))
  if (filter.until) conditions.push(lte(auditLog.createdAt, new Date(filter.until)))
  const order = sequential(auditLog.id, filter.cursor)
  conditions.push(order.after)
  const rows = await services.db
    .select()
    .from(auditLog)
    .where(and(...conditions))
    .orderBy(...order.orderBy)
    .limit(filter.limit + 1)
  const page = toPage(
    rows,
    filter.limit,
    (row) => ({ key: '', id: String(row.id) }),
    presentAuditEntry,
  )
  const people = new Set(
    page.data.flatMap((entry) => [
      ...(entry.actor.type === 'user' && entry.actor.id ? [entry.actor.id] : []),
      ...(entry.subjectUserId ? [entry.subjectUserId] : []),
    ]),
  )
  people.delete(actor.id ?? '')
  if (people.size > 0) {
    await recordAudit(services.db, actor, {
      action: 'audit_log.personal_data_viewed',
      workspaceId,
      targetType: 'workspace',
      targetId: workspaceId,
      details: { userIds: [...people] },
    })
  }
  return page
}
