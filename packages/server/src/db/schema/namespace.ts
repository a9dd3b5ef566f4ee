import { pgSchema } from 'drizzle-orm/pg-core'

/**
 * Every table of Post Scheduler lives in this PostgreSQL schema, so the server can share a
 * database with other applications (bring-your-own `DATABASE_URL`) without name clashes.
 * The job queue has a schema of its own (`QUEUE_SCHEMA`).
 */
export const postScheduler = pgSchema('post_scheduler')
