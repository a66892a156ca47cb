CREATE TABLE "audit_checkpoints" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chain" text NOT NULL,
	"tenant_id" uuid,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL,
	"at" text NOT NULL,
	"key_id" text NOT NULL,
	"signature" text NOT NULL,
	CONSTRAINT "audit_checkpoints_chain_seq" UNIQUE("chain","seq")
);
--> statement-breakpoint
ALTER TABLE "audit_checkpoints" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "engine_event_cursor" (
	"id" text PRIMARY KEY NOT NULL,
	"last_seq" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "engine_event_cursor" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY "audit_checkpoints_tenant_read" ON "audit_checkpoints" AS PERMISSIVE FOR SELECT TO public USING ("audit_checkpoints"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "audit_checkpoints_global_read" ON "audit_checkpoints" AS PERMISSIVE FOR SELECT TO public USING ("audit_checkpoints"."tenant_id" is null and coalesce(nullif(current_setting('app.system', true), ''), 'off') = 'on');--> statement-breakpoint
CREATE POLICY "audit_checkpoints_append" ON "audit_checkpoints" AS PERMISSIVE FOR INSERT TO public WITH CHECK ("audit_checkpoints"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid or ("audit_checkpoints"."tenant_id" is null and coalesce(nullif(current_setting('app.system', true), ''), 'off') = 'on'));--> statement-breakpoint
CREATE POLICY "engine_event_cursor_system" ON "engine_event_cursor" AS PERMISSIVE FOR ALL TO public USING (coalesce(nullif(current_setting('app.system', true), ''), 'off') = 'on') WITH CHECK (coalesce(nullif(current_setting('app.system', true), ''), 'off') = 'on');--> statement-breakpoint
ALTER TABLE "audit_checkpoints" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "engine_event_cursor" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
-- Checkpoints are as append-only as the entries they sign.
CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON "audit_checkpoints"
  FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only();--> statement-breakpoint
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON "audit_checkpoints"
  FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only();
