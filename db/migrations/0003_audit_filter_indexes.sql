ALTER TABLE "audit_entries" ADD COLUMN "actor_email" text GENERATED ALWAYS AS (actor->>'email') STORED;--> statement-breakpoint
CREATE INDEX "audit_entries_chain_at" ON "audit_entries" USING btree ("chain","at");--> statement-breakpoint
CREATE INDEX "audit_entries_chain_action_seq" ON "audit_entries" USING btree ("chain","action","seq");--> statement-breakpoint
CREATE INDEX "audit_entries_chain_actor_seq" ON "audit_entries" USING btree ("chain","actor_email","seq");--> statement-breakpoint
CREATE INDEX "audit_entries_chain_target_seq" ON "audit_entries" USING btree ("chain","target","seq");