CREATE TABLE "engine_ca" (
	"id" integer PRIMARY KEY NOT NULL,
	"cert_pem" text NOT NULL,
	"wrapped_key" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "router_certs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_slug" text NOT NULL,
	"name" text NOT NULL,
	"serial" text NOT NULL,
	"subject" text NOT NULL,
	"fingerprint256" text NOT NULL,
	"not_after" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "router_certs_fingerprint256_unique" UNIQUE("fingerprint256")
);
--> statement-breakpoint
CREATE INDEX "router_certs_tenant" ON "router_certs" USING btree ("tenant_slug");