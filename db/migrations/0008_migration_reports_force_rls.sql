-- RLS applies to the tables' owner as well (as for every tenant table: see 0001).
ALTER TABLE "migration_reports" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "migration_notices" FORCE ROW LEVEL SECURITY;
