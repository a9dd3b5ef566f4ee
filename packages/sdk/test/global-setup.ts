import { startTestPostgres } from '@post-scheduler/server/testing'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of a database with rights to create databases. */
    adminDatabaseURL: string
    /** Name of the migrated template database each test file copies. */
    templateDatabase: string
  }
}

/**
 * One PostgreSQL for the run through the server's `./testing` entry: `DATABASE_URL` when set,
 * otherwise an embedded one; a migrated template each test file copies.
 */
export default async function setup(project: TestProject) {
  const postgres = await startTestPostgres()
  project.provide('adminDatabaseURL', postgres.adminURL)
  project.provide('templateDatabase', postgres.templateDatabase)
  return () => postgres.stop()
}
