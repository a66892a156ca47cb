ALTER TABLE "migration_instances" ADD COLUMN "source_id" text;--> statement-breakpoint
ALTER TABLE "migration_instances" ADD COLUMN "series_instance_uid" text;--> statement-breakpoint
ALTER TABLE "migration_instances" ADD COLUMN "source_path" text;