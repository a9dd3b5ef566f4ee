import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { afterAll, inject } from 'vitest'
import { withDatabase } from './global-setup.ts'

/**
 * Creates a database of its own for the calling test file, copied from the run's migrated
 * template (or `empty`: never migrated), and drops it after the file's tests.
 *
 * @returns its connection URL.
 */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<string> {
  const adminURL = inject('adminDatabaseURL')
  const template = inject('templateDatabase')
  const name = `${template.replace(/_template$/, '')}_${randomBytes(4).toString('hex')}`
  const admin = postgres(adminURL, { max: 1, onnotice: () => {} })
  if (options.empty) await admin`create database ${admin(name)}`
  else await admin`create database ${admin(name)} template ${admin(template)}`
  await admin.end()
  afterAll(async () => {
    const sql = postgres(adminURL, { max: 1, onnotice: () => {} })
    await sql`drop database if exists ${sql(name)} with (force)`
    await sql.end()
  })
  return withDatabase(adminURL, name)
}
