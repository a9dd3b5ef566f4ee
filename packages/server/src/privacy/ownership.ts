import { sql } from 'drizzle-orm'
import type { Database } from '../db/client.ts'
import { workspaceMembers, workspaces } from '../db/schema/index.ts'

/** A workspace as the deletion rules name it. */
export type NamedWorkspace = {
  id: string
  name: string
}

/**
 * The workspaces an erasure deletes with the person: those where they are an owner and nobody
 * else is a member. Nothing else is theirs to take away: a workspace where they are an admin or a
 * member stays (even when no other person belongs to it, such as one run by its API keys alone),
 * and so does one with another member.
 *
 * @example
 * ```ts
 * const doomed = await workspacesErasedWith(db, 'usr_123') // [{ id: 'ws_…', name: 'Acme' }]
 * ```
 */
export async function workspacesErasedWith(
  db: Pick<Database, 'execute'>,
  userId: string,
): Promise<NamedWorkspace[]> {
  const rows = await db.execute<NamedWorkspace>(sql`
    select w.id, w.name from ${workspaceMembers} m join ${workspaces} w on w.id = m.workspace_id
    where m.user_id = ${userId} and m.role = 'owner'
      and not exists (
        select 1 from ${workspaceMembers} o where o.workspace_id = m.workspace_id and o.user_id <> ${userId}
      )
    order by w.created_at, w.id`)
  return rows.map(({ id, name }) => ({ id, name }))
}

/**
 * The workspaces where the person is the only owner and others are members. As the last owner
 * may not leave a workspace, a deletion is refused while there is one: the person makes another
 * member owner first.
 *
 * @example
 * ```ts
 * const blocking = await workspacesOnlyOwnedBy(db, 'usr_123')
 * ```
 */
export async function workspacesOnlyOwnedBy(
  db: Pick<Database, 'execute'>,
  userId: string,
): Promise<NamedWorkspace[]> {
  const rows = await db.execute<NamedWorkspace>(sql`
    select w.id, w.name from ${workspaceMembers} m join ${workspaces} w on w.id = m.workspace_id
    where m.user_id = ${userId} and m.role = 'owner'
      and not exists (
        select 1 from ${workspaceMembers} o
        where o.workspace_id = m.workspace_id and o.user_id <> ${userId} and o.role = 'owner'
      )
      and exists (
        select 1 from ${workspaceMembers} o where o.workspace_id = m.workspace_id and o.user_id <> ${userId}
      )
    order by w.created_at, w.id`)
  return rows.map(({ id, name }) => ({ id, name }))
}
