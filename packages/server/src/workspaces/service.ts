import { and, asc, eq, sql } from 'drizzle-orm'
import { type Actor, recordAudit } from '../audit/record.ts'
import type { Database } from '../db/client.ts'
import { generateId } from '../db/ids.ts'
import { profiles, workspaceMembers, workspaces } from '../db/schema/index.ts'
import { ProblemError } from '../errors/problem.ts'
import type { Services } from '../services.ts'

type Workspace = typeof workspaces.$inferSelect
export type Role = (typeof workspaceMembers.$inferSelect)['role']

/** What the API shows of a workspace. */
export function presentWorkspace(workspace: Workspace, role?: Role) {
  return {
    id: workspace.id,
    name: workspace.name,
    corsOrigins: workspace.corsOrigins,
    role: role ?? null,
    createdAt: workspace.createdAt.toISOString(),
  }
}

/**
 * Creates a workspace with `ownerId` as its owner (when given) and its default profile, the one a
 * workspace used directly works in.
 */
export async function createWorkspace(
  db: Database,
  input: { name: string; ownerId?: string | undefined },
  actor: Actor,
) {
  return db.transaction(async (tx) => {
    const [workspace] = await tx
      .insert(workspaces)
      .values({ id: generateId('ws'), name: input.name.trim() })
      .returning()
    if (!workspace) throw new Error('the workspace insert returned no row')
    if (input.ownerId) {
      await tx
        .insert(workspaceMembers)
        .values({ workspaceId: workspace.id, userId: input.ownerId, role: 'owner' })
    }
    await tx.insert(profiles).values({
      id: generateId('prof'),
      workspaceId: workspace.id,
      name: workspace.name,
      isDefault: true,
    })
    await recordAudit(tx, actor, {
      action: 'workspace.created',
      workspaceId: workspace.id,
      targetType: 'workspace',
      targetId: workspace.id,
      subjectUserId: input.ownerId,
    })
    return presentWorkspace(workspace, input.ownerId ? 'owner' : undefined)
  })
}

/** The workspaces a person belongs to, with their role in each. */
export async function listMyWorkspaces(services: Services, userId: string) {
  const rows = await services.db
    .select({ workspace: workspaces, role: workspaceMembers.role })
    .from(workspaceMembers)
    .innerJoin(workspaces, eq(workspaces.id, workspaceMembers.workspaceId))
    .where(eq(workspaceMembers.userId, userId))
    .orderBy(asc(workspaces.createdAt))
  return rows.map((row) => presentWorkspace(row.workspace, row.role))
}

/** One workspace, as seen from inside it. */
export async function getWorkspace(services: Services, workspaceId: string) {
  const [workspace] = await services.db
    .select()
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId))
  if (!workspace) throw new ProblemError('NOT_FOUND', `No workspace ${workspaceId}`)
  return presentWorkspace(workspace)
}

/** Renames a workspace or sets the browser origins allowed to use its profile tokens. */
export async function updateWorkspace(
  services: Services,
  workspaceId: string,
  patch: { name?: string | undefined; corsOrigins?: string[] | undefined },
  actor: Actor,
) {
  return services.db.transaction(async (tx) => {
    const [workspace] = await tx
      .update(workspaces)
      .set({
        ...(patch.name !== undefined && { name: patch.name.trim() }),
        ...(patch.corsOrigins !== undefined && { corsOrigins: [...new Set(patch.corsOrigins)] }),
        updatedAt: sql`now()`,
      })
      .where(eq(workspaces.id, workspaceId))
      .returning()
    if (!workspace) throw new ProblemError('NOT_FOUND', `No workspace ${workspaceId}`)
    await recordAudit(tx, actor, {
      action: 'workspace.updated',
      workspaceId,
      targetType: 'workspace',
      targetId: workspaceId,
      details: { fields: Object.keys(patch) },
    })
    return presentWorkspace(workspace)
  })
}

/** The role of a person in a workspace, if they are a member. */
export async function roleOf(db: Database, workspaceId: string, userId: string) {
  const [member] = await db
    .select({ role: workspaceMembers.role })
    .from(workspaceMembers)
    .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.userId, userId)))
  return member?.role
}
