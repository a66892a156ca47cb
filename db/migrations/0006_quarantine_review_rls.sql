-- Hand-written (re-apply after regenerating 0005): RLS forced for the owner too, and signatures append-only.
ALTER TABLE "quarantine_claims" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "quarantine_signatures" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "quarantine_policies" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE FUNCTION quarantine_signatures_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'signatures are append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;--> statement-breakpoint
CREATE TRIGGER quarantine_signatures_no_update_delete BEFORE UPDATE OR DELETE ON "quarantine_signatures"
  FOR EACH ROW EXECUTE FUNCTION quarantine_signatures_append_only();
