-- Posts refer to media by id inside their content and per-platform overrides. This trigger keeps
-- media_references in step with every write to a post (create, edit, series occurrence, status,
-- delete), so a media file in use by a post still to publish cannot be deleted without `force`,
-- and is released once the post is published or canceled (the media clean-up may then remove it).
CREATE FUNCTION "post_scheduler"."sync_post_media_references"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    DELETE FROM "post_scheduler"."media_references" WHERE "kind" = 'post' AND "ref_id" = OLD."id";
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW."status" NOT IN ('published', 'canceled') THEN
    INSERT INTO "post_scheduler"."media_references" ("media_id", "kind", "ref_id")
    SELECT DISTINCT m."id", 'post', NEW."id"
    FROM "post_scheduler"."media" m
    WHERE m."workspace_id" = NEW."workspace_id"
      AND m."id" IN (
        SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(NEW."content"->'mediaIds') = 'array' THEN NEW."content"->'mediaIds' ELSE '[]'::jsonb END)
        UNION
        SELECT jsonb_array_elements_text(o.value->'mediaIds')
        FROM jsonb_each(NEW."overrides") o
        WHERE jsonb_typeof(o.value->'mediaIds') = 'array'
      )
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "posts_media_references" AFTER INSERT OR UPDATE OF "content", "overrides", "status" OR DELETE ON "post_scheduler"."posts" FOR EACH ROW EXECUTE FUNCTION "post_scheduler"."sync_post_media_references"();
