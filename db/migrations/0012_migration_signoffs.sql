CREATE TABLE "migration_signoffs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"migration_id" uuid NOT NULL,
	"record" jsonb NOT NULL,
	"record_sha256" text NOT NULL,
	"meaning" text NOT NULL,
	"signer_user_id" uuid NOT NULL,
	"signer_name" text NOT NULL,
	"signer_email" text NOT NULL,
	"signed_at" timestamp with time zone NOT NULL,
	"auth_time" timestamp with time zone NOT NULL,
	"binding" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "migration_signoffs" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "migration_signoffs" ADD CONSTRAINT "migration_signoffs_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "migration_signoffs" ADD CONSTRAINT "migration_signoffs_signer_user_id_users_id_fk" FOREIGN KEY ("signer_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "migration_signoffs_migration" ON "migration_signoffs" USING btree ("tenant_id","migration_id");--> statement-breakpoint
CREATE POLICY "migration_signoffs_tenant" ON "migration_signoffs" AS PERMISSIVE FOR ALL TO public USING ("migration_signoffs"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("migration_signoffs"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
-- Hand-written (re-apply after regenerating): RLS forced for the owner too, and sign-offs append-only.
ALTER TABLE "migration_signoffs" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TRIGGER migration_signoffs_no_update_delete BEFORE UPDATE OR DELETE ON "migration_signoffs"
  FOR EACH ROW EXECUTE FUNCTION quarantine_signatures_append_only();
