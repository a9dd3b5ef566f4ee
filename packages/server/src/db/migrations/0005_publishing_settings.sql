CREATE TABLE "post_scheduler"."publishing_settings" (
	"workspace_id" text PRIMARY KEY NOT NULL,
	"daily_caps" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"duplicate_window_seconds" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "post_scheduler"."publishing_settings" ADD CONSTRAINT "publishing_settings_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "post_scheduler"."workspaces"("id") ON DELETE cascade ON UPDATE no action;