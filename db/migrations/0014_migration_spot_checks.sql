CREATE TABLE "migration_spot_check_lists" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"migration_id" uuid NOT NULL,
	"seed" text NOT NULL,
	"studies" jsonb NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "migration_spot_check_lists" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "migration_spot_checks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"list_id" uuid NOT NULL,
	"study_instance_uid" text NOT NULL,
	"instances_seen" integer NOT NULL,
	"meaning" text NOT NULL,
	"note" text NOT NULL,
	"signer_user_id" uuid NOT NULL,
	"signer_name" text NOT NULL,
	"signed_at" timestamp with time zone NOT NULL,
	"auth_time" timestamp with time zone NOT NULL,
	"binding" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "migration_spot_checks" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "migration_spot_check_lists" ADD CONSTRAINT "migration_spot_check_lists_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "migration_spot_checks" ADD CONSTRAINT "migration_spot_checks_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "migration_spot_checks" ADD CONSTRAINT "migration_spot_checks_list_id_migration_spot_check_lists_id_fk" FOREIGN KEY ("list_id") REFERENCES "public"."migration_spot_check_lists"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "migration_spot_checks" ADD CONSTRAINT "migration_spot_checks_signer_user_id_users_id_fk" FOREIGN KEY ("signer_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "migration_spot_check_lists_migration" ON "migration_spot_check_lists" USING btree ("tenant_id","migration_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "migration_spot_checks_study" ON "migration_spot_checks" USING btree ("tenant_id","list_id","study_instance_uid");--> statement-breakpoint
CREATE POLICY "migration_spot_check_lists_tenant" ON "migration_spot_check_lists" AS PERMISSIVE FOR ALL TO public USING ("migration_spot_check_lists"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("migration_spot_check_lists"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "migration_spot_checks_tenant" ON "migration_spot_checks" AS PERMISSIVE FOR ALL TO public USING ("migration_spot_checks"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("migration_spot_checks"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
-- Hand-written (re-apply after regenerating): RLS forced for the owner too, and both tables append-only.
ALTER TABLE "migration_spot_check_lists" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "migration_spot_checks" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TRIGGER migration_spot_check_lists_no_update_delete BEFORE UPDATE OR DELETE ON "migration_spot_check_lists"
  FOR EACH ROW EXECUTE FUNCTION quarantine_signatures_append_only();--> statement-breakpoint
CREATE TRIGGER migration_spot_checks_no_update_delete BEFORE UPDATE OR DELETE ON "migration_spot_checks"
  FOR EACH ROW EXECUTE FUNCTION quarantine_signatures_append_only();
