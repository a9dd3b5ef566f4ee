import { afterAll, inject } from 'vitest'
import { connectTestDatabases } from '../src/testing.ts'

/**
 * Creates a database of its own for the calling test file, copied from the run's migrated
 * template (or `empty`: never migrated), and drops it after the file's tests.
 *
 * @returns its connection URL.
 */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<string> {
  const databases = connectTestDatabases({
    adminURL: inject('adminDatabaseURL'),
    templateDatabase: inject('templateDatabase'),
  })
  const url = await databases.createDatabase(options)
  afterAll(() => databases.dropDatabase(url))
  return url
}
