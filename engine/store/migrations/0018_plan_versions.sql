CREATE TABLE "migration_plan_versions" (
	"migration_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"plan" jsonb NOT NULL,
	"plan_sha256" text NOT NULL,
	"author" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"approval" jsonb,
	"approved_at" timestamp with time zone,
	CONSTRAINT "migration_plan_versions_migration_id_version_pk" PRIMARY KEY("migration_id","version"),
	CONSTRAINT "migration_plan_versions_from_one" CHECK ("migration_plan_versions"."version" >= 1)
);
--> statement-breakpoint
ALTER TABLE "migrations" ADD COLUMN "plan_version" integer;--> statement-breakpoint
ALTER TABLE "migration_plan_versions" ADD CONSTRAINT "migration_plan_versions_migration_id_migrations_id_fk" FOREIGN KEY ("migration_id") REFERENCES "public"."migrations"("id") ON DELETE cascade ON UPDATE no action;