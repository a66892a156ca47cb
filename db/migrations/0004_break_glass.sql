CREATE TYPE "public"."break_glass_scope" AS ENUM('read_only', 'read_write');--> statement-breakpoint
CREATE TYPE "public"."break_glass_status" AS ENUM('pending', 'active', 'ended', 'revoked', 'denied', 'lapsed');--> statement-breakpoint
CREATE TABLE "break_glass_grants" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"engineer_user_id" uuid NOT NULL,
	"engineer_name" text NOT NULL,
	"engineer_email" text NOT NULL,
	"justification" text NOT NULL,
	"ticket" text NOT NULL,
	"scope" "break_glass_scope" NOT NULL,
	"duration_minutes" integer NOT NULL,
	"status" "break_glass_status" NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"starts_at" timestamp with time zone,
	"ends_at" timestamp with time zone,
	"decided_by_email" text,
	"closed_at" timestamp with time zone,
	"closed_by_email" text,
	"close_reason" text,
	CONSTRAINT "break_glass_justification" CHECK (char_length("break_glass_grants"."justification") >= 20),
	CONSTRAINT "break_glass_duration" CHECK ("break_glass_grants"."duration_minutes" between 1 and 240)
);
--> statement-breakpoint
ALTER TABLE "break_glass_grants" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "break_glass_policies" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"require_approval" boolean DEFAULT false NOT NULL,
	"approval_window_minutes" integer DEFAULT 60 NOT NULL,
	CONSTRAINT "break_glass_window" CHECK ("break_glass_policies"."approval_window_minutes" between 5 and 1440)
);
--> statement-breakpoint
ALTER TABLE "break_glass_policies" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "audit_entries" ADD COLUMN "grant_id" text GENERATED ALWAYS AS (actor->>'grantId') STORED;--> statement-breakpoint
ALTER TABLE "break_glass_grants" ADD CONSTRAINT "break_glass_grants_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "break_glass_grants" ADD CONSTRAINT "break_glass_grants_engineer_user_id_users_id_fk" FOREIGN KEY ("engineer_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "break_glass_policies" ADD CONSTRAINT "break_glass_policies_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "break_glass_tenant" ON "break_glass_grants" USING btree ("tenant_id","requested_at");--> statement-breakpoint
CREATE INDEX "break_glass_engineer" ON "break_glass_grants" USING btree ("engineer_user_id","status");--> statement-breakpoint
CREATE INDEX "audit_entries_chain_grant_seq" ON "audit_entries" USING btree ("chain","grant_id","seq");--> statement-breakpoint
CREATE POLICY "break_glass_tenant" ON "break_glass_grants" AS PERMISSIVE FOR ALL TO public USING ("break_glass_grants"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("break_glass_grants"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "break_glass_engineer" ON "break_glass_grants" AS PERMISSIVE FOR ALL TO public USING ("break_glass_grants"."engineer_user_id" = nullif(current_setting('app.user_id', true), '')::uuid) WITH CHECK ("break_glass_grants"."engineer_user_id" = nullif(current_setting('app.user_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "break_glass_system" ON "break_glass_grants" AS PERMISSIVE FOR ALL TO public USING (coalesce(nullif(current_setting('app.system', true), ''), 'off') = 'on') WITH CHECK (coalesce(nullif(current_setting('app.system', true), ''), 'off') = 'on');--> statement-breakpoint
CREATE POLICY "break_glass_policy_tenant" ON "break_glass_policies" AS PERMISSIVE FOR ALL TO public USING ("break_glass_policies"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("break_glass_policies"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "break_glass_policy_system_read" ON "break_glass_policies" AS PERMISSIVE FOR SELECT TO public USING (coalesce(nullif(current_setting('app.system', true), ''), 'off') = 'on');--> statement-breakpoint
ALTER TABLE "break_glass_grants" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "break_glass_policies" FORCE ROW LEVEL SECURITY;
