CREATE TYPE "public"."result_status" AS ENUM('held', 'notified', 'pulled', 'acked', 'expired', 'purged');--> statement-breakpoint
CREATE TABLE "results" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_slug" text NOT NULL,
	"calling_ae" text NOT NULL,
	"called_ae" text NOT NULL,
	"peer_address" text NOT NULL,
	"sop_class_uid" text NOT NULL,
	"sop_instance_uid" text NOT NULL,
	"study_instance_uid" text,
	"series_instance_uid" text,
	"modality" text,
	"transfer_syntax_uid" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"sha256" text NOT NULL,
	"blob_id" text,
	"status" "result_status" DEFAULT 'held' NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"status_changed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tenant_keys" (
	"slug" text PRIMARY KEY NOT NULL,
	"wrapped_key" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "results_live_instance" ON "results" USING btree ("tenant_slug","sop_instance_uid") WHERE "results"."status" in ('held', 'notified', 'pulled');--> statement-breakpoint
CREATE INDEX "results_tenant_received" ON "results" USING btree ("tenant_slug","received_at","id");--> statement-breakpoint
CREATE INDEX "results_expires" ON "results" USING btree ("expires_at");