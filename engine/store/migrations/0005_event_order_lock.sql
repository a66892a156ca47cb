-- The event feed is read in id order by consumers that keep only the last id they saw (the console's audit
-- ingest). Ids come from a sequence, so two transactions could commit out of id order and a consumer would skip
-- the lower id for good. Inserting events takes a transaction-scoped lock first, before any id is drawn: event
-- writers commit one after another, in id order, and a committed id is never followed by a smaller one.
CREATE FUNCTION engine_events_serialize() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7400001);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER engine_events_in_id_order BEFORE INSERT ON engine_events
  FOR EACH STATEMENT EXECUTE FUNCTION engine_events_serialize();
