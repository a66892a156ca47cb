ALTER TABLE "tenant_configs" ADD COLUMN "suspended_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tenant_configs" ADD COLUMN "suspension_reason" text;