CREATE TABLE "quarantine_evidence" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_slug" text NOT NULL,
	"migration_id" uuid NOT NULL,
	"source_id" text NOT NULL,
	"study_instance_uid" text NOT NULL,
	"side" text NOT NULL,
	"sop_instance_uid" text,
	"position" bigint NOT NULL,
	"blob_id" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"sha256" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "quarantine_evidence_study" ON "quarantine_evidence" USING btree ("migration_id","source_id","study_instance_uid","side","position");