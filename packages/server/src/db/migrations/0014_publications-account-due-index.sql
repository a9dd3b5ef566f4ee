CREATE INDEX "publications_account_due_idx" ON "post_scheduler"."publications" USING btree ("account_id","due_at");--> statement-breakpoint
DROP INDEX "post_scheduler"."publications_account_idx";
