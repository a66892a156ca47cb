CREATE TABLE "offboarded_tenants" (
	"slug" text PRIMARY KEY NOT NULL,
	"offboarded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"reason" text NOT NULL,
	"receipt" jsonb NOT NULL
);
