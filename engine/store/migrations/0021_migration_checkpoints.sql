CREATE TABLE "migration_checkpoints" (
	"id" uuid PRIMARY KEY NOT NULL,
	"migration_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"reason" text NOT NULL,
	"taken_at" timestamp with time zone NOT NULL,
	"high_water" bigint NOT NULL,
	"counts" jsonb NOT NULL,
	CONSTRAINT "migration_checkpoints_reason" CHECK ("migration_checkpoints"."reason" in ('pause', 'window_close', 'hourly'))
);
--> statement-breakpoint
CREATE TABLE "migration_study_history" (
	"id" uuid PRIMARY KEY NOT NULL,
	"migration_id" uuid NOT NULL,
	"source_id" text NOT NULL,
	"study_instance_uid" text NOT NULL,
	"checkpoint_id" uuid NOT NULL,
	"reason" text NOT NULL,
	"requested_by" jsonb NOT NULL,
	"superseded_at" timestamp with time zone NOT NULL,
	"previous" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "migration_studies" ADD COLUMN "completion_seq" bigint;--> statement-breakpoint
ALTER TABLE "migrations" ADD COLUMN "completion_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "migrations" ADD COLUMN "window_open_seen" boolean;--> statement-breakpoint
ALTER TABLE "migration_checkpoints" ADD CONSTRAINT "migration_checkpoints_migration_id_migrations_id_fk" FOREIGN KEY ("migration_id") REFERENCES "public"."migrations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "migration_study_history" ADD CONSTRAINT "migration_study_history_migration_id_migrations_id_fk" FOREIGN KEY ("migration_id") REFERENCES "public"."migrations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "migration_study_history" ADD CONSTRAINT "migration_study_history_checkpoint_id_migration_checkpoints_id_fk" FOREIGN KEY ("checkpoint_id") REFERENCES "public"."migration_checkpoints"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "migration_checkpoints_seq" ON "migration_checkpoints" USING btree ("migration_id","seq");--> statement-breakpoint
CREATE INDEX "migration_study_history_study" ON "migration_study_history" USING btree ("migration_id","source_id","study_instance_uid");