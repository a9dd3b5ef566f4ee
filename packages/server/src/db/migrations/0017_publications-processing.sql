DROP INDEX "post_scheduler"."publications_due_idx";--> statement-breakpoint
ALTER TABLE "post_scheduler"."publications" ADD COLUMN "processing_until" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "publications_due_idx" ON "post_scheduler"."publications" USING btree ("due_at") WHERE "post_scheduler"."publications"."status" in ('scheduled', 'queued', 'publishing', 'processing');