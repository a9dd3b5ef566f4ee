CREATE TABLE "post_scheduler"."media" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"profile_id" text NOT NULL,
	"kind" text NOT NULL,
	"mime_type" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"sha256" text NOT NULL,
	"storage_key" text NOT NULL,
	"filename" text,
	"alt_text" text,
	"width" integer,
	"height" integer,
	"duration_seconds" double precision,
	"frame_rate" double precision,
	"bit_rate" bigint,
	"has_audio" boolean,
	"details" jsonb NOT NULL,
	"variants" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "post_scheduler"."media_garbage" (
	"storage_key" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "post_scheduler"."media_references" (
	"media_id" text NOT NULL,
	"kind" text NOT NULL,
	"ref_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "media_references_media_id_kind_ref_id_pk" PRIMARY KEY("media_id","kind","ref_id")
);
--> statement-breakpoint
CREATE TABLE "post_scheduler"."media_upload_parts" (
	"upload_id" text NOT NULL,
	"part_number" integer NOT NULL,
	"size_bytes" bigint NOT NULL,
	"sha256" text NOT NULL,
	"storage_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "media_upload_parts_upload_id_part_number_pk" PRIMARY KEY("upload_id","part_number")
);
--> statement-breakpoint
CREATE TABLE "post_scheduler"."media_uploads" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"profile_id" text NOT NULL,
	"filename" text,
	"alt_text" text,
	"size_bytes" bigint NOT NULL,
	"part_size_bytes" integer NOT NULL,
	"sha256" text,
	"status" text DEFAULT 'open' NOT NULL,
	"media_id" text,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "post_scheduler"."media" ADD CONSTRAINT "media_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "post_scheduler"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_scheduler"."media" ADD CONSTRAINT "media_profile_id_profiles_id_fk" FOREIGN KEY ("profile_id") REFERENCES "post_scheduler"."profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_scheduler"."media_references" ADD CONSTRAINT "media_references_media_id_media_id_fk" FOREIGN KEY ("media_id") REFERENCES "post_scheduler"."media"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_scheduler"."media_upload_parts" ADD CONSTRAINT "media_upload_parts_upload_id_media_uploads_id_fk" FOREIGN KEY ("upload_id") REFERENCES "post_scheduler"."media_uploads"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_scheduler"."media_uploads" ADD CONSTRAINT "media_uploads_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "post_scheduler"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_scheduler"."media_uploads" ADD CONSTRAINT "media_uploads_profile_id_profiles_id_fk" FOREIGN KEY ("profile_id") REFERENCES "post_scheduler"."profiles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "media_workspace_listing_idx" ON "post_scheduler"."media" USING btree ("workspace_id","created_at","id");--> statement-breakpoint
CREATE INDEX "media_profile_idx" ON "post_scheduler"."media" USING btree ("profile_id");--> statement-breakpoint
CREATE INDEX "media_references_ref_idx" ON "post_scheduler"."media_references" USING btree ("kind","ref_id");--> statement-breakpoint
CREATE INDEX "media_uploads_workspace_idx" ON "post_scheduler"."media_uploads" USING btree ("workspace_id");--> statement-breakpoint
CREATE INDEX "media_uploads_expiry_idx" ON "post_scheduler"."media_uploads" USING btree ("expires_at");--> statement-breakpoint
-- Every deleted media row or upload part leaves its storage objects to the cleanup job, whoever
-- deleted it (a forced delete, a deleted profile or workspace, a finished upload).
CREATE FUNCTION "post_scheduler"."media_collect_garbage"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "post_scheduler"."media_garbage" ("storage_key") VALUES (OLD."storage_key") ON CONFLICT DO NOTHING;
  IF TG_TABLE_NAME = 'media' THEN
    INSERT INTO "post_scheduler"."media_garbage" ("storage_key")
      SELECT variant->>'storageKey' FROM jsonb_array_elements(OLD."variants") AS variant
      ON CONFLICT DO NOTHING;
  END IF;
  RETURN OLD;
END $$;
--> statement-breakpoint
CREATE TRIGGER "media_collect_garbage" AFTER DELETE ON "post_scheduler"."media" FOR EACH ROW EXECUTE FUNCTION "post_scheduler"."media_collect_garbage"();
--> statement-breakpoint
CREATE TRIGGER "media_upload_parts_collect_garbage" AFTER DELETE ON "post_scheduler"."media_upload_parts" FOR EACH ROW EXECUTE FUNCTION "post_scheduler"."media_collect_garbage"();
