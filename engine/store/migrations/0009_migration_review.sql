ALTER TABLE "migration_studies" ADD COLUMN "repair_patch" jsonb;--> statement-breakpoint
ALTER TABLE "migration_studies" ADD COLUMN "decision" jsonb;