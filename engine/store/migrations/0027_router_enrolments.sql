CREATE TABLE "router_enrolments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_slug" text NOT NULL,
	"name" text NOT NULL,
	"code_sha256" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"router_id" uuid,
	CONSTRAINT "router_enrolments_code_sha256_unique" UNIQUE("code_sha256")
);
--> statement-breakpoint
CREATE INDEX "router_enrolments_tenant" ON "router_enrolments" USING btree ("tenant_slug");