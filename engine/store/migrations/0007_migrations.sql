CREATE TYPE "public"."migration_status" AS ENUM('created', 'discovering', 'ready', 'running', 'paused', 'completed', 'failed');--> statement-breakpoint
CREATE TYPE "public"."migration_study_status" AS ENUM('pending', 'in_flight', 'migrated', 'quarantined', 'skipped');--> statement-breakpoint
CREATE TABLE "migration_studies" (
	"migration_id" uuid NOT NULL,
	"source_id" text NOT NULL,
	"study_instance_uid" text NOT NULL,
	"study_date" text,
	"modalities" text[] NOT NULL,
	"instances" integer,
	"status" "migration_study_status" DEFAULT 'pending' NOT NULL,
	"discovered_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "migration_studies_migration_id_source_id_study_instance_uid_pk" PRIMARY KEY("migration_id","source_id","study_instance_uid")
);
--> statement-breakpoint
CREATE TABLE "migrations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_slug" text NOT NULL,
	"plan" jsonb NOT NULL,
	"status" "migration_status" NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "migration_studies" ADD CONSTRAINT "migration_studies_migration_id_migrations_id_fk" FOREIGN KEY ("migration_id") REFERENCES "public"."migrations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "migration_studies_status" ON "migration_studies" USING btree ("migration_id","status");
