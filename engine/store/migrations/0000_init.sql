CREATE TABLE "engine_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tenant_slug" text,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tenant_configs" (
	"slug" text PRIMARY KEY NOT NULL,
	"ttl_days" integer NOT NULL,
	"called_ae_titles" text[] NOT NULL,
	"allowed_calling_ae_titles" text[] NOT NULL,
	"version" integer NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tenant_configs_ttl_days_range" CHECK ("tenant_configs"."ttl_days" between 1 and 30)
);
--> statement-breakpoint
CREATE INDEX "engine_events_tenant" ON "engine_events" USING btree ("tenant_slug","id");