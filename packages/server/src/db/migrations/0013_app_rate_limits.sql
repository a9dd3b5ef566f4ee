CREATE TABLE "post_scheduler"."app_rate_limits" (
	"key" text PRIMARY KEY NOT NULL,
	"rate_limited_until" timestamp with time zone NOT NULL
);
