import { sql } from 'drizzle-orm'
import { insertApiKey } from '../api-keys/service.ts'
import { SECRET_PREFIXES } from '../auth/principal.ts'
import { generateSecret } from '../auth/secrets.ts'
import type { Database } from '../db/client.ts'
import { workspaces } from '../db/schema/index.ts'
import type { Logger } from '../logging/logger.ts'
import { createWorkspace } from '../workspaces/service.ts'

const SYSTEM = { type: 'system', id: undefined, ip: undefined, requestId: undefined } as const

/**
 * On the first start of a development install (embedded database, no workspace yet), creates a
 * "Development" workspace with an API key and prints the key with a ready-to-paste `curl` line,
 * so a newcomer can call the API at once. Does nothing once any workspace exists.
 *
 * @returns the key, or `undefined` when nothing was created.
 */
export async function bootstrapDevelopment(db: Database, logger: Logger, baseURL: string) {
  const [existing] = await db.select({ count: sql<number>`count(*)::int` }).from(workspaces)
  if ((existing?.count ?? 0) > 0) return undefined
  const workspace = await createWorkspace(db, { name: 'Development' }, SYSTEM)
  const secret = generateSecret(SECRET_PREFIXES.testKey)
  await insertApiKey(
    db,
    workspace.id,
    {
      name: 'Development (printed at first start)',
      mode: 'test',
      scopes: ['read', 'write', 'admin'],
    },
    secret,
    SYSTEM,
  )
  logger.info(
    { workspaceId: workspace.id },
    `development workspace created; its API key, shown this once: ${secret} — try: curl -H "Authorization: Bearer ${secret}" ${baseURL}/v1/workspaces/${workspace.id}`,
  )
  return { workspaceId: workspace.id, apiKey: secret }
}
