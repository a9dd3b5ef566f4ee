import type { TestProject } from 'vitest/node'
import { startTestPostgres } from '../src/testing.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of a database with rights to create databases (the server's, or the embedded one's). */
    adminDatabaseURL: string
    /** Name of a migrated database, with the queue schema installed, to copy for each test file. */
    templateDatabase: string
  }
}

/**
 * One PostgreSQL for the whole run (`startTestPostgres` of the `./testing` entry):
 * `DATABASE_URL` when set (bring your own), otherwise an embedded one in a temporary folder. A
 * migrated template database is made once; each test file copies it (see `createTestDatabase`).
 * Everything this run created is dropped at the end.
 */
export default async function setup(project: TestProject) {
  const postgres = await startTestPostgres()
  project.provide('adminDatabaseURL', postgres.adminURL)
  project.provide('templateDatabase', postgres.templateDatabase)
  return () => postgres.stop()
}
