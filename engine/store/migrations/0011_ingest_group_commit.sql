-- Group commit for the hold queue (engine/relay/hold-queue-writer.ts): instances that arrive together, on one or
-- many associations, are recorded in one statement and one commit, and so are the held → notified transitions
-- of results just pushed to routers. Each received item goes through record_received (TTL, replace-or-insert,
-- outbox event) inside its own subtransaction, so one bad item fails alone and the others still commit. Returns
-- one row per received item, in input order: the result id, the blob of a replaced result (for the caller to
-- delete after commit) and the expiry, or the error.
CREATE FUNCTION hold_queue_write(p_received jsonb, p_notified jsonb)
RETURNS TABLE (item_index integer, item_result_id uuid, item_replaced_blob_id text, item_expires_at timestamptz, item_error text)
LANGUAGE plpgsql AS $$
DECLARE
  item jsonb;
  i integer := 0;
  rec record;
BEGIN
  -- The same transition as transition() in hold-queue.ts, for many results: only held ones move, each with its
  -- event (ids drawn in result order).
  IF jsonb_array_length(p_notified) > 0 THEN
    WITH moved AS (
      UPDATE results t SET status = 'notified', status_changed_at = n.at
      FROM (SELECT DISTINCT ON (x.id) x.* FROM jsonb_to_recordset(p_notified) AS x(id uuid, tenant text, router text, at timestamptz) ORDER BY x.id) n
      WHERE t.id = n.id AND t.tenant_slug = n.tenant AND t.status = 'held'
      RETURNING t.id AS rid, t.tenant_slug AS rtenant, n.router AS rrouter)
    INSERT INTO engine_events (tenant_slug, type, payload)
      SELECT m.rtenant, 'result.notified', jsonb_build_object('resultId', m.rid, 'from', 'held', 'routerId', m.rrouter)
      FROM moved m ORDER BY m.rid;
  END IF;
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
