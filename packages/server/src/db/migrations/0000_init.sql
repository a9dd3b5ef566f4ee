-- IF NOT EXISTS: the migrator creates this schema first, to hold its own journal table.
CREATE SCHEMA IF NOT EXISTS "post_scheduler";
