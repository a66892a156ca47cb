CREATE TABLE "migration_daily" (
	"migration_id" uuid NOT NULL,
	"day" timestamp with time zone NOT NULL,
	"source_id" text NOT NULL,
	"migrated" integer DEFAULT 0 NOT NULL,
	"quarantined" integer DEFAULT 0 NOT NULL,
	"bytes" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "migration_daily_migration_id_day_source_id_pk" PRIMARY KEY("migration_id","day","source_id")
);
--> statement-breakpoint
CREATE TABLE "migration_hourly" (
	"migration_id" uuid NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"source_id" text NOT NULL,
	"modality" text NOT NULL,
	"migrated" integer DEFAULT 0 NOT NULL,
	"quarantined" integer DEFAULT 0 NOT NULL,
	"bytes" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "migration_hourly_migration_id_bucket_source_id_modality_pk" PRIMARY KEY("migration_id","bucket","source_id","modality")
);
--> statement-breakpoint
CREATE TABLE "migration_quarantine_hourly" (
	"migration_id" uuid NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"category" text NOT NULL,
	"entered" integer DEFAULT 0 NOT NULL,
	"left" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "migration_quarantine_hourly_migration_id_bucket_category_pk" PRIMARY KEY("migration_id","bucket","category")
);
--> statement-breakpoint
CREATE TABLE "migration_totals" (
	"migration_id" uuid NOT NULL,
	"source_id" text NOT NULL,
	"modality" text NOT NULL,
	"study_year" text NOT NULL,
	"status" "migration_study_status" NOT NULL,
	"studies" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "migration_totals_migration_id_source_id_modality_study_year_status_pk" PRIMARY KEY("migration_id","source_id","modality","study_year","status")
);
--> statement-breakpoint
ALTER TABLE "migration_daily" ADD CONSTRAINT "migration_daily_migration_id_migrations_id_fk" FOREIGN KEY ("migration_id") REFERENCES "public"."migrations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "migration_hourly" ADD CONSTRAINT "migration_hourly_migration_id_migrations_id_fk" FOREIGN KEY ("migration_id") REFERENCES "public"."migrations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "migration_quarantine_hourly" ADD CONSTRAINT "migration_quarantine_hourly_migration_id_migrations_id_fk" FOREIGN KEY ("migration_id") REFERENCES "public"."migrations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "migration_totals" ADD CONSTRAINT "migration_totals_migration_id_migrations_id_fk" FOREIGN KEY ("migration_id") REFERENCES "public"."migrations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "migration_daily_updated" ON "migration_daily" USING btree ("migration_id","updated_at");--> statement-breakpoint
CREATE INDEX "migration_hourly_updated" ON "migration_hourly" USING btree ("migration_id","updated_at");--> statement-breakpoint
CREATE INDEX "migration_quarantine_hourly_updated" ON "migration_quarantine_hourly" USING btree ("migration_id","updated_at");--> statement-breakpoint
CREATE INDEX "engine_events_migration" ON "engine_events" USING btree (("payload"->>'migrationId'),"id");--> statement-breakpoint
CREATE INDEX "migration_studies_study" ON "migration_studies" USING btree ("migration_id","study_instance_uid");