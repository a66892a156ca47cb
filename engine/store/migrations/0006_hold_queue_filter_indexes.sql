-- The console's hold-queue filters, each an ordered walk (newest first) of one tenant's results: a page stays a
-- short index scan at a million results instead of filtering the tenant's whole history.
CREATE INDEX "results_tenant_status_received" ON "results" USING btree ("tenant_slug", "status", "received_at", "id");
--> statement-breakpoint
CREATE INDEX "results_tenant_calling_received" ON "results" USING btree ("tenant_slug", "calling_ae", "received_at", "id");
--> statement-breakpoint
CREATE INDEX "results_tenant_modality_received" ON "results" USING btree ("tenant_slug", "modality", "received_at", "id");
