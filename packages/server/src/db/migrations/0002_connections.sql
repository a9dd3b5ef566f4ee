CREATE TABLE "post_scheduler"."connected_accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"profile_id" text NOT NULL,
	"platform" text NOT NULL,
	"platform_account_id" text NOT NULL,
	"kind" text NOT NULL,
	"display_name" text NOT NULL,
	"username" text,
	"avatar_url" text,
	"profile_url" text,
	"scopes" text[] DEFAULT '{}'::text[] NOT NULL,
	"access_token_sealed" text,
	"refresh_token_sealed" text,
	"access_token_expires_at" timestamp with time zone,
	"refresh_token_expires_at" timestamp with time zone,
	"status" text DEFAULT 'active' NOT NULL,
	"status_reason" text,
	"last_refreshed_at" timestamp with time zone,
	"connected_at" timestamp with time zone DEFAULT now() NOT NULL,
	"disconnected_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "post_scheduler"."connection_attempts" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"profile_id" text NOT NULL,
	"platform" text NOT NULL,
	"state_hash" text NOT NULL,
	"code_verifier_sealed" text NOT NULL,
	"return_url" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"tokens_sealed" text,
	"accounts" jsonb,
	"error" text,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "connection_attempts_state_hash_unique" UNIQUE("state_hash")
);
--> statement-breakpoint
CREATE TABLE "post_scheduler"."oauth_apps" (
	"workspace_id" text NOT NULL,
	"platform" text NOT NULL,
	"client_id" text NOT NULL,
	"client_secret_sealed" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "oauth_apps_workspace_id_platform_pk" PRIMARY KEY("workspace_id","platform")
);
--> statement-breakpoint
CREATE TABLE "post_scheduler"."sandbox_posts" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"client_id" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"attempt_id" text,
	"text" text NOT NULL,
	"media" jsonb NOT NULL,
	"thread" jsonb NOT NULL,
	"first_comment" jsonb,
	"options" jsonb NOT NULL,
	"content_digest" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"deleted_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "post_scheduler"."sandbox_state" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"expires_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "post_scheduler"."connected_accounts" ADD CONSTRAINT "connected_accounts_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "post_scheduler"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_scheduler"."connected_accounts" ADD CONSTRAINT "connected_accounts_profile_id_profiles_id_fk" FOREIGN KEY ("profile_id") REFERENCES "post_scheduler"."profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_scheduler"."connection_attempts" ADD CONSTRAINT "connection_attempts_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "post_scheduler"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_scheduler"."connection_attempts" ADD CONSTRAINT "connection_attempts_profile_id_profiles_id_fk" FOREIGN KEY ("profile_id") REFERENCES "post_scheduler"."profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_scheduler"."oauth_apps" ADD CONSTRAINT "oauth_apps_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "post_scheduler"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "connected_accounts_identity_key" ON "post_scheduler"."connected_accounts" USING btree ("profile_id","platform","platform_account_id");--> statement-breakpoint
CREATE INDEX "connected_accounts_workspace_idx" ON "post_scheduler"."connected_accounts" USING btree ("workspace_id");--> statement-breakpoint
CREATE INDEX "connected_accounts_expiry_idx" ON "post_scheduler"."connected_accounts" USING btree ("access_token_expires_at") WHERE "post_scheduler"."connected_accounts"."status" = 'active';--> statement-breakpoint
CREATE INDEX "connection_attempts_profile_idx" ON "post_scheduler"."connection_attempts" USING btree ("profile_id");--> statement-breakpoint
CREATE UNIQUE INDEX "sandbox_posts_idempotency_key" ON "post_scheduler"."sandbox_posts" USING btree ("account_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "sandbox_posts_listing_idx" ON "post_scheduler"."sandbox_posts" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "workspaces_cors_origins_idx" ON "post_scheduler"."workspaces" USING gin ("cors_origins");