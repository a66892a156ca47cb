CREATE TYPE "public"."tenant_role" AS ENUM('tenant_admin', 'clinical_reviewer');--> statement-breakpoint
CREATE TYPE "public"."ae_title_kind" AS ENUM('called', 'calling');--> statement-breakpoint
CREATE TABLE "memberships" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"email" text NOT NULL,
	"user_id" uuid,
	"role" "tenant_role" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "memberships_tenant_email_role" UNIQUE("tenant_id","email","role")
);
--> statement-breakpoint
ALTER TABLE "memberships" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tenants_slug_unique" UNIQUE("slug")
);
--> statement-breakpoint
ALTER TABLE "tenants" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"issuer" text NOT NULL,
	"subject" text NOT NULL,
	"email" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_sign_in_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_issuer_subject" UNIQUE("issuer","subject")
);
--> statement-breakpoint
CREATE TABLE "ae_titles" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"kind" "ae_title_kind" NOT NULL,
	"ae_title" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ae_titles_tenant_kind_title" UNIQUE("tenant_id","kind","ae_title"),
	CONSTRAINT "ae_titles_format" CHECK ("ae_titles"."ae_title" ~ '^[\x20-\x5b\x5d-\x7e]{1,16}$' and "ae_titles"."ae_title" = btrim("ae_titles"."ae_title"))
);
--> statement-breakpoint
ALTER TABLE "ae_titles" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "tenant_configs" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"ttl_days" integer DEFAULT 7 NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"applied_version" integer,
	"applied_at" timestamp with time zone,
	"last_sync_error" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tenant_configs_ttl_days_range" CHECK ("tenant_configs"."ttl_days" between 1 and 30),
	CONSTRAINT "tenant_configs_version_positive" CHECK ("tenant_configs"."version" >= 1)
);
--> statement-breakpoint
ALTER TABLE "tenant_configs" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "audit_chain_heads" (
	"chain" text PRIMARY KEY NOT NULL,
	"tenant_id" uuid,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_chain_heads" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "audit_entries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chain" text NOT NULL,
	"tenant_id" uuid,
	"seq" bigint NOT NULL,
	"at" timestamp (6) with time zone NOT NULL,
	"actor" jsonb NOT NULL,
	"action" text NOT NULL,
	"target" text NOT NULL,
	"reason" text,
	"before" jsonb,
	"after" jsonb,
	"request_id" text,
	"source" text NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "audit_entries_chain_seq" UNIQUE("chain","seq")
);
--> statement-breakpoint
ALTER TABLE "audit_entries" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ae_titles" ADD CONSTRAINT "ae_titles_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tenant_configs" ADD CONSTRAINT "tenant_configs_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "memberships_user" ON "memberships" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "memberships_email" ON "memberships" USING btree ("email");--> statement-breakpoint
CREATE INDEX "users_email" ON "users" USING btree ("email");--> statement-breakpoint
CREATE UNIQUE INDEX "ae_titles_called_unique" ON "ae_titles" USING btree ("ae_title") WHERE "ae_titles"."kind" = 'called';--> statement-breakpoint
CREATE INDEX "audit_entries_tenant_at" ON "audit_entries" USING btree ("tenant_id","at");--> statement-breakpoint
CREATE POLICY "memberships_tenant" ON "memberships" AS PERMISSIVE FOR ALL TO public USING ("memberships"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("memberships"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "memberships_own_read" ON "memberships" AS PERMISSIVE FOR SELECT TO public USING ("memberships"."user_id" = nullif(current_setting('app.user_id', true), '')::uuid or "memberships"."email" = nullif(current_setting('app.user_email', true), ''));--> statement-breakpoint
CREATE POLICY "memberships_own_link" ON "memberships" AS PERMISSIVE FOR UPDATE TO public USING ("memberships"."user_id" is null and "memberships"."email" = nullif(current_setting('app.user_email', true), '')) WITH CHECK ("memberships"."user_id" = nullif(current_setting('app.user_id', true), '')::uuid and "memberships"."email" = nullif(current_setting('app.user_email', true), ''));--> statement-breakpoint
CREATE POLICY "tenants_visible" ON "tenants" AS PERMISSIVE FOR SELECT TO public USING ("tenants"."id" = nullif(current_setting('app.tenant_id', true), '')::uuid or coalesce(nullif(current_setting('app.system', true), ''), 'off') = 'on' or exists (
        select 1 from memberships m where m.tenant_id = "tenants"."id" and m.user_id = nullif(current_setting('app.user_id', true), '')::uuid));--> statement-breakpoint
CREATE POLICY "tenants_system_write" ON "tenants" AS PERMISSIVE FOR ALL TO public USING (coalesce(nullif(current_setting('app.system', true), ''), 'off') = 'on') WITH CHECK (coalesce(nullif(current_setting('app.system', true), ''), 'off') = 'on');--> statement-breakpoint
CREATE POLICY "ae_titles_tenant" ON "ae_titles" AS PERMISSIVE FOR ALL TO public USING ("ae_titles"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("ae_titles"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_configs_tenant" ON "tenant_configs" AS PERMISSIVE FOR ALL TO public USING ("tenant_configs"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("tenant_configs"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "audit_heads_own_chain" ON "audit_chain_heads" AS PERMISSIVE FOR ALL TO public USING ("audit_chain_heads"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid or "audit_chain_heads"."tenant_id" is null) WITH CHECK ("audit_chain_heads"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid or "audit_chain_heads"."tenant_id" is null);--> statement-breakpoint
CREATE POLICY "audit_tenant_read" ON "audit_entries" AS PERMISSIVE FOR SELECT TO public USING ("audit_entries"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "audit_global_read" ON "audit_entries" AS PERMISSIVE FOR SELECT TO public USING ("audit_entries"."tenant_id" is null and coalesce(nullif(current_setting('app.system', true), ''), 'off') = 'on');--> statement-breakpoint
CREATE POLICY "audit_append" ON "audit_entries" AS PERMISSIVE FOR INSERT TO public WITH CHECK ("audit_entries"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid or "audit_entries"."tenant_id" is null);