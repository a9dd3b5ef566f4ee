CREATE TABLE "post_scheduler"."post_series" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"profile_id" text NOT NULL,
	"status" text NOT NULL,
	"rule" text NOT NULL,
	"timezone" text NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"account_ids" jsonb NOT NULL,
	"content" jsonb NOT NULL,
	"overrides" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"occurrences" integer DEFAULT 0 NOT NULL,
	"last_occurrence_at" timestamp with time zone,
	"next_occurrence_at" timestamp with time zone,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"canceled_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "post_scheduler"."posting_schedules" (
	"profile_id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"timezone" text NOT NULL,
	"slots" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "post_scheduler"."posts" ADD COLUMN "series_id" text;--> statement-breakpoint
ALTER TABLE "post_scheduler"."post_series" ADD CONSTRAINT "post_series_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "post_scheduler"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_scheduler"."post_series" ADD CONSTRAINT "post_series_profile_id_profiles_id_fk" FOREIGN KEY ("profile_id") REFERENCES "post_scheduler"."profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_scheduler"."posting_schedules" ADD CONSTRAINT "posting_schedules_profile_id_profiles_id_fk" FOREIGN KEY ("profile_id") REFERENCES "post_scheduler"."profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_scheduler"."posting_schedules" ADD CONSTRAINT "posting_schedules_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "post_scheduler"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "post_series_profile_idx" ON "post_scheduler"."post_series" USING btree ("profile_id");--> statement-breakpoint
CREATE INDEX "post_series_due_idx" ON "post_scheduler"."post_series" USING btree ("next_occurrence_at") WHERE "post_scheduler"."post_series"."status" = 'active';--> statement-breakpoint
ALTER TABLE "post_scheduler"."posts" ADD CONSTRAINT "posts_series_id_post_series_id_fk" FOREIGN KEY ("series_id") REFERENCES "post_scheduler"."post_series"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "posts_profile_scheduled_idx" ON "post_scheduler"."posts" USING btree ("profile_id","scheduled_at");--> statement-breakpoint
CREATE INDEX "posts_series_idx" ON "post_scheduler"."posts" USING btree ("series_id","scheduled_at");