CREATE TABLE "migration_source_files" (
	"migration_id" uuid NOT NULL,
	"source_id" text NOT NULL,
	"study_instance_uid" text NOT NULL,
	"path" text NOT NULL,
	CONSTRAINT "migration_source_files_migration_id_source_id_path_pk" PRIMARY KEY("migration_id","source_id","path")
);
--> statement-breakpoint
ALTER TABLE "migration_instances" ADD COLUMN "target_sop_instance_uid" text;--> statement-breakpoint
ALTER TABLE "migration_instances" ADD COLUMN "expected_sha256" text;--> statement-breakpoint
ALTER TABLE "migration_studies" ADD COLUMN "lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "migration_studies" ADD COLUMN "target_study_instance_uid" text;--> statement-breakpoint
ALTER TABLE "migration_studies" ADD COLUMN "transform_applied" jsonb;--> statement-breakpoint
ALTER TABLE "migration_source_files" ADD CONSTRAINT "migration_source_files_migration_id_migrations_id_fk" FOREIGN KEY ("migration_id") REFERENCES "public"."migrations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "migration_source_files_study" ON "migration_source_files" USING btree ("migration_id","source_id","study_instance_uid");