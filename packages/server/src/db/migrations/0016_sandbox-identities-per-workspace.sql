-- Sandbox people were identified by the name typed on the consent page alone, so workspaces that
-- typed the same name shared one sandbox account and saw each other's posts. Each workspace now
-- connects through a sandbox client of its own (post-scheduler.<workspace id>), and account ids
-- carry the client: sbx_user_<first 12 hex digits of sha256(client id)>_<slug>. Old ids have no
-- underscore after the prefix (slugs are [a-z0-9-]), so this runs once per row.
-- Their tokens belong to the old shared client: the accounts must be reconnected, and
-- reconnecting with the same name updates them in place.
UPDATE "post_scheduler"."connected_accounts"
SET "platform_account_id" = regexp_replace(
      "platform_account_id",
      '^sbx_(user|page)_',
      'sbx_\1_' || left(encode(sha256(convert_to('post-scheduler.' || "workspace_id", 'UTF8')), 'hex'), 12) || '_'),
    "status" = 'reauth_required',
    "status_reason" = 'sandbox_accounts_scoped_to_workspace',
    "updated_at" = now()
WHERE "platform" = 'sandbox' AND "platform_account_id" ~ '^sbx_(user|page)_[a-z0-9-]+$';
--> statement-breakpoint
-- What a workspace published stays listed for it: each post follows the account that made it.
-- Posts no publication claims stay under the old id, which no account has any more.
UPDATE "post_scheduler"."sandbox_posts" AS sp
SET "account_id" = ca."platform_account_id", "client_id" = 'post-scheduler.' || ca."workspace_id"
FROM "post_scheduler"."publications" AS p
JOIN "post_scheduler"."connected_accounts" AS ca ON ca."id" = p."account_id"
WHERE p."platform_post_id" = sp."id" AND ca."platform" = 'sandbox' AND sp."client_id" = 'post-scheduler';
--> statement-breakpoint
-- The old shared client's grants, codes and uploads are void, and so are their tokens.
DELETE FROM "post_scheduler"."sandbox_state" WHERE "value"->>'clientId' = 'post-scheduler';
--> statement-breakpoint
DELETE FROM "post_scheduler"."sandbox_state" AS t
WHERE (t."key" LIKE 'access:%' OR t."key" LIKE 'refresh:%')
  AND NOT EXISTS (
    SELECT 1 FROM "post_scheduler"."sandbox_state" AS g
    WHERE g."key" = 'grant:' || (t."value"->>'grantId'));
