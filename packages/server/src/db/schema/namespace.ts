import { pgSchema, timestamp } from 'drizzle-orm/pg-core'

/**
 * Every table of Post Scheduler lives in this PostgreSQL schema, so the server can share a
 * database with other applications (bring-your-own `DATABASE_URL`) without name clashes.
 * The job queue has a schema of its own (`QUEUE_SCHEMA`).
 */
export const postScheduler = pgSchema('post_scheduler')

/** A `created_at` column, set by the database. */
export const createdAt = () =>
  timestamp('created_at', { withTimezone: true }).notNull().defaultNow()

/** An instant (`timestamptz`) column. */
export const instant = (name: string) => timestamp(name, { withTimezone: true })
