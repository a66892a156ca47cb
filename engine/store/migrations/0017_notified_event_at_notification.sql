-- A result.notified event is dated when its router was told (the mark's time, as the row's status_changed_at
-- already is), not when it was written: marks now ride along with the next received instance's commit
-- (hold-queue-writer.ts), a few milliseconds later. Everything else is as in 0015.
CREATE OR REPLACE FUNCTION hold_queue_write(p_received jsonb, p_notified jsonb)
RETURNS TABLE (item_index integer, item_result_id uuid, item_replaced_blob_id text, item_expires_at timestamptz, item_error text)
LANGUAGE plpgsql AS $$
DECLARE
  item jsonb;
  i integer := 0;
  rec record;
  mark record;
  cur record;
BEGIN
  IF jsonb_array_length(p_received) = 0 THEN
    PERFORM set_config('synchronous_commit', 'off', true);
  END IF;
  -- The same transition as transition() in hold-queue.ts, for many results: only held ones move, each with its
  -- event (ids drawn in result order).
  FOR mark IN
    SELECT DISTINCT ON (x.id) x.* FROM jsonb_to_recordset(p_notified) AS x(id uuid, tenant text, router text, at timestamptz) ORDER BY x.id
  LOOP
    SELECT r.tenant_slug, r.status INTO cur FROM results r WHERE r.id = mark.id FOR UPDATE;
    IF FOUND AND cur.tenant_slug = mark.tenant AND cur.status = 'held' THEN
      UPDATE results SET status = 'notified', status_changed_at = mark.at WHERE id = mark.id;
      INSERT INTO engine_events (tenant_slug, type, payload, created_at)
        VALUES (mark.tenant, 'result.notified', jsonb_build_object('resultId', mark.id, 'from', 'held', 'routerId', mark.router), mark.at);
    END IF;
  END LOOP;
  FOR item IN SELECT value FROM jsonb_array_elements(p_received) LOOP
    BEGIN
      SELECT * INTO rec FROM record_received(
        (item->>'id')::uuid, item->>'tenant', item->>'calling', item->>'called', item->>'peer', item->>'sopClass',
        item->>'sopInstance', item->>'study', item->>'series', item->>'modality', item->>'ts', (item->>'size')::bigint,
        item->>'sha', item->>'blob', (item->>'received')::timestamptz, item->'meta');
      item_index := i; item_result_id := rec.result_id; item_replaced_blob_id := rec.replaced_blob_id;
      item_expires_at := rec.expires_at; item_error := NULL;
    EXCEPTION WHEN OTHERS THEN
      item_index := i; item_result_id := NULL; item_replaced_blob_id := NULL; item_expires_at := NULL; item_error := SQLERRM;
    END;
    RETURN NEXT;
    i := i + 1;
  END LOOP;
END $$;
