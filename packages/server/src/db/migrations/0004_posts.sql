CREATE TABLE "post_scheduler"."idempotency_keys" (
	"scope" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"response_status" integer,
	"response_body" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "idempotency_keys_scope_key_pk" PRIMARY KEY("scope","key")
);
--> statement-breakpoint
CREATE TABLE "post_scheduler"."posts" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"profile_id" text NOT NULL,
	"status" text NOT NULL,
	"content" jsonb NOT NULL,
	"overrides" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"scheduled_at" timestamp with time zone,
	"timezone" text DEFAULT 'UTC' NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"canceled_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "post_scheduler"."publication_attempts" (
	"attempt_id" text PRIMARY KEY NOT NULL,
	"publication_id" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"outcome" text,
	"error" jsonb,
	"worker" text
);
--> statement-breakpoint
CREATE TABLE "post_scheduler"."publications" (
	"id" text PRIMARY KEY NOT NULL,
	"post_id" text NOT NULL,
	"workspace_id" text NOT NULL,
	"account_id" text NOT NULL,
	"platform" text NOT NULL,
	"status" text NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"attempt_id" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"deadline_at" timestamp with time zone,
	"handles" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"platform_post_id" text,
	"url" text,
	"error" jsonb,
	"published_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "post_scheduler"."posts" ADD CONSTRAINT "posts_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "post_scheduler"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_scheduler"."posts" ADD CONSTRAINT "posts_profile_id_profiles_id_fk" FOREIGN KEY ("profile_id") REFERENCES "post_scheduler"."profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_scheduler"."publication_attempts" ADD CONSTRAINT "publication_attempts_publication_id_publications_id_fk" FOREIGN KEY ("publication_id") REFERENCES "post_scheduler"."publications"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_scheduler"."publications" ADD CONSTRAINT "publications_post_id_posts_id_fk" FOREIGN KEY ("post_id") REFERENCES "post_scheduler"."posts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_scheduler"."publications" ADD CONSTRAINT "publications_account_id_connected_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "post_scheduler"."connected_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "posts_workspace_idx" ON "post_scheduler"."posts" USING btree ("workspace_id","created_at","id");--> statement-breakpoint
CREATE INDEX "posts_profile_idx" ON "post_scheduler"."posts" USING btree ("profile_id");--> statement-breakpoint
CREATE INDEX "publication_attempts_publication_idx" ON "post_scheduler"."publication_attempts" USING btree ("publication_id","started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "publications_post_account_key" ON "post_scheduler"."publications" USING btree ("post_id","account_id");--> statement-breakpoint
CREATE INDEX "publications_due_idx" ON "post_scheduler"."publications" USING btree ("due_at") WHERE "post_scheduler"."publications"."status" in ('scheduled', 'queued', 'publishing');--> statement-breakpoint
CREATE INDEX "publications_account_idx" ON "post_scheduler"."publications" USING btree ("account_id");