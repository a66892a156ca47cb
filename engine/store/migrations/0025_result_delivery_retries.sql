ALTER TABLE "results" ADD COLUMN "delivery_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "results" ADD COLUMN "next_attempt_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "results" ADD COLUMN "last_failure_reason" text;--> statement-breakpoint
ALTER TABLE "results" ADD COLUMN "delivery_failing_since" timestamp with time zone;--> statement-breakpoint
-- A replacing C-STORE is a new version to deliver: its delivery attempts and any 'delivery failing' flag start
-- over (the previous version's failures say nothing about it). Otherwise as in 0016.
CREATE OR REPLACE FUNCTION record_received(
  p_id uuid, p_tenant text, p_calling text, p_called text, p_peer text, p_sop_class text, p_sop_instance text,
  p_study text, p_series text, p_modality text, p_ts text, p_size bigint, p_sha text, p_blob text,
  p_received timestamptz, p_meta jsonb
) RETURNS TABLE (result_id uuid, replaced_blob_id text, expires_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
  ttl integer;
  live results%ROWTYPE;
  expiry timestamptz;
BEGIN
  SELECT c.ttl_days INTO ttl FROM tenant_configs c WHERE c.slug = p_tenant;
  IF ttl IS NULL THEN
    RAISE EXCEPTION 'tenant % has no applied configuration', p_tenant;
  END IF;
  expiry := p_received + make_interval(days => ttl);
  SELECT * INTO live FROM results r
    WHERE r.tenant_slug = p_tenant AND r.sop_instance_uid = p_sop_instance AND r.status IN ('held', 'notified', 'pulled')
    FOR UPDATE;
  IF FOUND THEN
    UPDATE results SET calling_ae = p_calling, called_ae = p_called, peer_address = p_peer, sop_class_uid = p_sop_class,
      study_instance_uid = p_study, series_instance_uid = p_series, modality = p_modality, transfer_syntax_uid = p_ts,
      size_bytes = p_size, sha256 = p_sha, blob_id = p_blob, status = 'held', received_at = p_received,
      expires_at = expiry, status_changed_at = p_received, delivery_attempts = 0, next_attempt_at = NULL,
      last_failure_reason = NULL, delivery_failing_since = NULL
    WHERE id = live.id;
    INSERT INTO engine_events (tenant_slug, type, payload) VALUES (p_tenant, 'result.replaced',
      jsonb_build_object('resultId', live.id, 'previous',
        jsonb_build_object('sha256', live.sha256, 'sizeBytes', live.size_bytes, 'status', live.status,
          'blobId', live.blob_id, 'callingAe', live.calling_ae, 'calledAe', live.called_ae,
          'peerAddress', live.peer_address, 'sopClassUid', live.sop_class_uid,
          'studyInstanceUid', live.study_instance_uid, 'seriesInstanceUid', live.series_instance_uid,
          'modality', live.modality, 'transferSyntaxUid', live.transfer_syntax_uid, 'receivedAt', live.received_at,
          'expiresAt', live.expires_at, 'statusChangedAt', live.status_changed_at)) || p_meta);
    RETURN QUERY SELECT live.id, live.blob_id, expiry;
  ELSE
    INSERT INTO results (id, tenant_slug, calling_ae, called_ae, peer_address, sop_class_uid, sop_instance_uid,
      study_instance_uid, series_instance_uid, modality, transfer_syntax_uid, size_bytes, sha256, blob_id, status,
      received_at, expires_at, status_changed_at)
    VALUES (p_id, p_tenant, p_calling, p_called, p_peer, p_sop_class, p_sop_instance, p_study, p_series, p_modality,
      p_ts, p_size, p_sha, p_blob, 'held', p_received, expiry, p_received);
    INSERT INTO engine_events (tenant_slug, type, payload) VALUES (p_tenant, 'result.received',
      jsonb_build_object('resultId', p_id, 'sopInstanceUid', p_sop_instance) || p_meta);
    RETURN QUERY SELECT p_id, NULL::text, expiry;
  END IF;
END $$;
