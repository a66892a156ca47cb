ALTER TABLE "tenants" ADD COLUMN "offboarding_requested_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "offboarding_requested_by" text;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "offboarding_reason" text;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "offboarded_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "offboarded_by" text;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "offboard_receipt" jsonb;