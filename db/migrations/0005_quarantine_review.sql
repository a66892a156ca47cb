CREATE TYPE "public"."signature_decision" AS ENUM('repair', 'skip', 'escalate', 'countersign');--> statement-breakpoint
ALTER TYPE "public"."tenant_role" ADD VALUE 'senior_reviewer';--> statement-breakpoint
CREATE TABLE "quarantine_claims" (
	"tenant_id" uuid NOT NULL,
	"item_id" text NOT NULL,
	"user_id" uuid NOT NULL,
	"user_name" text NOT NULL,
	"claimed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "quarantine_claims_tenant_id_item_id_pk" PRIMARY KEY("tenant_id","item_id")
);
--> statement-breakpoint
ALTER TABLE "quarantine_claims" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "quarantine_policies" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"require_countersignature" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
ALTER TABLE "quarantine_policies" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "quarantine_signatures" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"item_id" text NOT NULL,
	"study_instance_uid" text NOT NULL,
	"decision" "signature_decision" NOT NULL,
	"meaning" text NOT NULL,
	"reason" text NOT NULL,
	"patch" jsonb,
	"signer_user_id" uuid NOT NULL,
	"signer_name" text NOT NULL,
	"signer_email" text NOT NULL,
	"signed_at" timestamp with time zone NOT NULL,
	"auth_time" timestamp with time zone NOT NULL,
	"batch_id" uuid,
	"countersigns" uuid,
	"awaiting_countersignature" boolean DEFAULT false NOT NULL,
	"binding" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "quarantine_signatures" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "quarantine_claims" ADD CONSTRAINT "quarantine_claims_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quarantine_claims" ADD CONSTRAINT "quarantine_claims_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quarantine_policies" ADD CONSTRAINT "quarantine_policies_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quarantine_signatures" ADD CONSTRAINT "quarantine_signatures_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "quarantine_signatures" ADD CONSTRAINT "quarantine_signatures_signer_user_id_users_id_fk" FOREIGN KEY ("signer_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "quarantine_signatures_item" ON "quarantine_signatures" USING btree ("tenant_id","item_id","signed_at");--> statement-breakpoint
CREATE POLICY "quarantine_claims_tenant" ON "quarantine_claims" AS PERMISSIVE FOR ALL TO public USING ("quarantine_claims"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("quarantine_claims"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "quarantine_policies_tenant" ON "quarantine_policies" AS PERMISSIVE FOR ALL TO public USING ("quarantine_policies"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("quarantine_policies"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "quarantine_signatures_tenant" ON "quarantine_signatures" AS PERMISSIVE FOR ALL TO public USING ("quarantine_signatures"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("quarantine_signatures"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);