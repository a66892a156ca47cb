CREATE TABLE "migration_approval_policies" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"require_second_person" boolean DEFAULT true NOT NULL
);
--> statement-breakpoint
ALTER TABLE "migration_approval_policies" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "migration_plan_signatures" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"migration_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"plan_sha256" text NOT NULL,
	"meaning" text NOT NULL,
	"signer_user_id" uuid NOT NULL,
	"signer_name" text NOT NULL,
	"signer_email" text NOT NULL,
	"signed_at" timestamp with time zone NOT NULL,
	"auth_time" timestamp with time zone NOT NULL,
	"binding" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "migration_plan_signatures" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "migration_approval_policies" ADD CONSTRAINT "migration_approval_policies_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "migration_plan_signatures" ADD CONSTRAINT "migration_plan_signatures_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "migration_plan_signatures" ADD CONSTRAINT "migration_plan_signatures_signer_user_id_users_id_fk" FOREIGN KEY ("signer_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "migration_plan_signatures_version" ON "migration_plan_signatures" USING btree ("tenant_id","migration_id","version");--> statement-breakpoint
CREATE POLICY "migration_approval_policies_tenant" ON "migration_approval_policies" AS PERMISSIVE FOR ALL TO public USING ("migration_approval_policies"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("migration_approval_policies"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "migration_plan_signatures_tenant" ON "migration_plan_signatures" AS PERMISSIVE FOR ALL TO public USING ("migration_plan_signatures"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("migration_plan_signatures"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
-- Hand-written (re-apply after regenerating): RLS forced for the owner too, and approvals append-only.
ALTER TABLE "migration_plan_signatures" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "migration_approval_policies" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TRIGGER migration_plan_signatures_no_update_delete BEFORE UPDATE OR DELETE ON "migration_plan_signatures"
  FOR EACH ROW EXECUTE FUNCTION quarantine_signatures_append_only();
