CREATE TABLE "post_scheduler"."consents" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"purpose" text NOT NULL,
	"policy_version" integer NOT NULL,
	"granted" boolean NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "post_scheduler"."policy_versions" (
	"version" integer PRIMARY KEY NOT NULL,
	"text" text NOT NULL,
	"summary" text NOT NULL,
	"effective_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"notice_cursor" text,
	"notice_sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "post_scheduler"."privacy_deletions" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text,
	"pseudonym" text NOT NULL,
	"reason" text NOT NULL,
	"status" text DEFAULT 'scheduled' NOT NULL,
	"erase_at" timestamp with time zone NOT NULL,
	"steps_done" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"canceled_at" timestamp with time zone,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "post_scheduler"."privacy_exports" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"storage_key" text,
	"size_bytes" bigint,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ready_at" timestamp with time zone,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "post_scheduler"."usage_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"type" text NOT NULL,
	"feature" text NOT NULL,
	"workspace_id" text,
	"user_id" text
);
--> statement-breakpoint
ALTER TABLE "post_scheduler"."consents" ADD CONSTRAINT "consents_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "post_scheduler"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_scheduler"."privacy_exports" ADD CONSTRAINT "privacy_exports_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "post_scheduler"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_scheduler"."usage_events" ADD CONSTRAINT "usage_events_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "post_scheduler"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_scheduler"."usage_events" ADD CONSTRAINT "usage_events_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "post_scheduler"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "consents_user_idx" ON "post_scheduler"."consents" USING btree ("user_id","purpose","id");--> statement-breakpoint
CREATE UNIQUE INDEX "privacy_deletions_open_key" ON "post_scheduler"."privacy_deletions" USING btree ("user_id") WHERE "post_scheduler"."privacy_deletions"."status" in ('scheduled', 'running');--> statement-breakpoint
CREATE INDEX "privacy_deletions_due_idx" ON "post_scheduler"."privacy_deletions" USING btree ("erase_at") WHERE "post_scheduler"."privacy_deletions"."status" in ('scheduled', 'running');--> statement-breakpoint
CREATE INDEX "privacy_exports_user_idx" ON "post_scheduler"."privacy_exports" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "privacy_exports_expiry_idx" ON "post_scheduler"."privacy_exports" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "usage_events_occurred_idx" ON "post_scheduler"."usage_events" USING btree ("occurred_at");--> statement-breakpoint
CREATE INDEX "usage_events_workspace_idx" ON "post_scheduler"."usage_events" USING btree ("workspace_id","occurred_at");--> statement-breakpoint
CREATE INDEX "usage_events_user_idx" ON "post_scheduler"."usage_events" USING btree ("user_id");--> statement-breakpoint
-- A deleted export (expired, or its owner erased) leaves its file to the media clean-up, whoever
-- deleted it (a cascade from the user row included).
CREATE FUNCTION "post_scheduler"."privacy_exports_collect_garbage"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD."storage_key" IS NOT NULL THEN
    INSERT INTO "post_scheduler"."media_garbage" ("storage_key") VALUES (OLD."storage_key") ON CONFLICT DO NOTHING;
  END IF;
  RETURN OLD;
END $$;
--> statement-breakpoint
CREATE TRIGGER "privacy_exports_collect_garbage" AFTER DELETE ON "post_scheduler"."privacy_exports" FOR EACH ROW EXECUTE FUNCTION "post_scheduler"."privacy_exports_collect_garbage"();
--> statement-breakpoint
-- The audit log stays append-only, with one exception: erasure (src/privacy/erasure.ts) replaces a
-- person's identifiers in the entries about them with a pseudonym and drops their address. It
-- asks for it with the transaction-local setting post_scheduler.audit_erasure = 'on', and even
-- then only the personal fields (actor_id, target_id, subject_user_id, ip, details) may change:
-- what happened, when, in which workspace and to what kind of thing stays, and an address can only
-- be dropped. DELETE and TRUNCATE
-- are always refused.
CREATE OR REPLACE FUNCTION "post_scheduler"."refuse_audit_log_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
    AND current_setting('post_scheduler.audit_erasure', true) = 'on'
    AND NEW."id" = OLD."id"
    AND NEW."action" = OLD."action"
    AND NEW."actor_type" = OLD."actor_type"
    AND NEW."workspace_id" IS NOT DISTINCT FROM OLD."workspace_id"
    AND NEW."target_type" IS NOT DISTINCT FROM OLD."target_type"
    AND NEW."request_id" IS NOT DISTINCT FROM OLD."request_id"
    AND NEW."created_at" = OLD."created_at"
    AND (NEW."ip" IS NULL OR NEW."ip" IS NOT DISTINCT FROM OLD."ip")
  THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
