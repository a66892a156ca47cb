CREATE TABLE "migration_instances" (
	"migration_id" uuid NOT NULL,
	"study_instance_uid" text NOT NULL,
	"sop_instance_uid" text NOT NULL,
	"sop_class_uid" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"source_sha256" text NOT NULL,
	"target_sha256" text NOT NULL,
	"verified_at" timestamp with time zone NOT NULL,
	CONSTRAINT "migration_instances_migration_id_sop_instance_uid_pk" PRIMARY KEY("migration_id","sop_instance_uid")
);
--> statement-breakpoint
ALTER TABLE "migration_studies" ADD COLUMN "quarantine_category" text;--> statement-breakpoint
ALTER TABLE "migration_studies" ADD COLUMN "quarantine_evidence" jsonb;--> statement-breakpoint
ALTER TABLE "migration_studies" ADD COLUMN "finished_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "migration_studies" ADD COLUMN "worker" text;--> statement-breakpoint
ALTER TABLE "migration_instances" ADD CONSTRAINT "migration_instances_migration_id_migrations_id_fk" FOREIGN KEY ("migration_id") REFERENCES "public"."migrations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "migration_instances_study" ON "migration_instances" USING btree ("migration_id","study_instance_uid");