-- Migration roll-ups kept by statement-level triggers (one aggregated upsert per statement, rows locked in key
-- order so concurrent workers don't deadlock on the shared counters), then backfilled from the existing rows.
-- Buckets are UTC hours (and UTC days, for the history before the dashboard's hourly window); a study counts under its first modality ('' when none) and its study date's year.

CREATE FUNCTION migration_studies_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO migration_totals (migration_id, source_id, modality, study_year, status, studies)
  SELECT migration_id, source_id, coalesce(modalities[1], ''), coalesce(substr(study_date, 1, 4), ''), status, count(*)::int
  FROM new_rows GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (migration_id, source_id, modality, study_year, status) DO UPDATE SET studies = migration_totals.studies + excluded.studies;
  -- Rows inserted already finished (an import of another tool's history) count in the hour they finished.
  INSERT INTO migration_hourly (migration_id, bucket, source_id, modality, migrated, quarantined, updated_at)
  SELECT migration_id, date_trunc('hour', finished_at, 'UTC'), source_id, coalesce(modalities[1], ''),
    count(*) FILTER (WHERE status = 'migrated')::int, count(*) FILTER (WHERE status = 'quarantined')::int, clock_timestamp()
  FROM new_rows WHERE status IN ('migrated', 'quarantined') AND finished_at IS NOT NULL
  GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (migration_id, bucket, source_id, modality) DO UPDATE SET
    migrated = migration_hourly.migrated + excluded.migrated, quarantined = migration_hourly.quarantined + excluded.quarantined, updated_at = excluded.updated_at;
  INSERT INTO migration_daily (migration_id, day, source_id, migrated, quarantined, updated_at)
  SELECT migration_id, date_bin('1 day', finished_at, timestamptz '2000-01-01 00:00Z'), source_id,
    count(*) FILTER (WHERE status = 'migrated')::int, count(*) FILTER (WHERE status = 'quarantined')::int, clock_timestamp()
  FROM new_rows WHERE status IN ('migrated', 'quarantined') AND finished_at IS NOT NULL
  GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (migration_id, day, source_id) DO UPDATE SET
    migrated = migration_daily.migrated + excluded.migrated, quarantined = migration_daily.quarantined + excluded.quarantined, updated_at = excluded.updated_at;
  INSERT INTO migration_quarantine_hourly (migration_id, bucket, category, entered, updated_at)
  SELECT migration_id, date_trunc('hour', coalesce(finished_at, now()), 'UTC'), coalesce(quarantine_category, 'unknown'), count(*)::int, clock_timestamp()
  FROM new_rows WHERE status = 'quarantined' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (migration_id, bucket, category) DO UPDATE SET entered = migration_quarantine_hourly.entered + excluded.entered, updated_at = excluded.updated_at;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION migration_studies_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Rows deleted by the cascade from their migration leave nothing to count.
  INSERT INTO migration_totals (migration_id, source_id, modality, study_year, status, studies)
  SELECT o.migration_id, o.source_id, coalesce(o.modalities[1], ''), coalesce(substr(o.study_date, 1, 4), ''), o.status, -count(*)::int
  FROM old_rows o WHERE EXISTS (SELECT 1 FROM migrations m WHERE m.id = o.migration_id)
  GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (migration_id, source_id, modality, study_year, status) DO UPDATE SET studies = migration_totals.studies + excluded.studies;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION migration_studies_rollup_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Only status changes count (lease renewals and the like update rows without changing their status). One
  -- statement: the changed rows once, three upserts from them.
  WITH changed AS MATERIALIZED (
    SELECT n.migration_id, n.source_id, coalesce(n.modalities[1], '') AS modality, coalesce(substr(n.study_date, 1, 4), '') AS study_year,
      o.status AS old_status, n.status AS new_status, n.finished_at,
      coalesce(o.quarantine_category, 'unknown') AS old_category, coalesce(n.quarantine_category, 'unknown') AS new_category
    FROM old_rows o JOIN new_rows n USING (migration_id, source_id, study_instance_uid)
    WHERE o.status IS DISTINCT FROM n.status
  ),
  totals AS (
    INSERT INTO migration_totals (migration_id, source_id, modality, study_year, status, studies)
    SELECT migration_id, source_id, modality, study_year, status, sum(d)::int FROM (
      SELECT migration_id, source_id, modality, study_year, old_status AS status, -1 AS d FROM changed
      UNION ALL SELECT migration_id, source_id, modality, study_year, new_status, 1 FROM changed
    ) x GROUP BY 1, 2, 3, 4, 5 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (migration_id, source_id, modality, study_year, status) DO UPDATE SET studies = migration_totals.studies + excluded.studies
    RETURNING 1
  ),
  hourly AS (
    INSERT INTO migration_hourly (migration_id, bucket, source_id, modality, migrated, quarantined, updated_at)
    SELECT migration_id, date_trunc('hour', finished_at, 'UTC'), source_id, modality,
      count(*) FILTER (WHERE new_status = 'migrated')::int, count(*) FILTER (WHERE new_status = 'quarantined')::int, clock_timestamp()
    FROM changed WHERE new_status IN ('migrated', 'quarantined') AND finished_at IS NOT NULL
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (migration_id, bucket, source_id, modality) DO UPDATE SET
      migrated = migration_hourly.migrated + excluded.migrated, quarantined = migration_hourly.quarantined + excluded.quarantined, updated_at = excluded.updated_at
    RETURNING 1
  ),
  daily AS (
    INSERT INTO migration_daily (migration_id, day, source_id, migrated, quarantined, updated_at)
    SELECT migration_id, date_bin('1 day', finished_at, timestamptz '2000-01-01 00:00Z'), source_id,
      count(*) FILTER (WHERE new_status = 'migrated')::int, count(*) FILTER (WHERE new_status = 'quarantined')::int, clock_timestamp()
    FROM changed WHERE new_status IN ('migrated', 'quarantined') AND finished_at IS NOT NULL
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (migration_id, day, source_id) DO UPDATE SET
      migrated = migration_daily.migrated + excluded.migrated, quarantined = migration_daily.quarantined + excluded.quarantined, updated_at = excluded.updated_at
    RETURNING 1
  )
  -- Quarantine depth: in when a study is quarantined, out when a decision sends it elsewhere (skip, repair).
  INSERT INTO migration_quarantine_hourly (migration_id, bucket, category, entered, "left", updated_at)
  SELECT migration_id, bucket, category, sum(entered)::int, sum(lft)::int, clock_timestamp() FROM (
    SELECT migration_id, date_trunc('hour', coalesce(finished_at, now()), 'UTC') AS bucket, new_category AS category, 1 AS entered, 0 AS lft
    FROM changed WHERE new_status = 'quarantined'
    UNION ALL SELECT migration_id, date_trunc('hour', now(), 'UTC'), old_category, 0, 1
    FROM changed WHERE old_status = 'quarantined'
  ) x GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (migration_id, bucket, category) DO UPDATE SET
    entered = migration_quarantine_hourly.entered + excluded.entered, "left" = migration_quarantine_hourly."left" + excluded."left", updated_at = excluded.updated_at;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Bytes arrive with the instances, recorded in the same transaction right after their study became migrated.
CREATE FUNCTION migration_instances_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO migration_hourly (migration_id, bucket, source_id, modality, bytes, updated_at)
  SELECT i.migration_id, date_trunc('hour', i.verified_at, 'UTC'), s.source_id, coalesce(s.modalities[1], ''), sum(i.size_bytes), clock_timestamp()
  FROM new_rows i
  JOIN LATERAL (
    SELECT source_id, modalities FROM migration_studies s
    WHERE s.migration_id = i.migration_id AND s.study_instance_uid = i.study_instance_uid AND s.status = 'migrated' LIMIT 1
  ) s ON true
  GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (migration_id, bucket, source_id, modality) DO UPDATE SET bytes = migration_hourly.bytes + excluded.bytes, updated_at = excluded.updated_at;
  INSERT INTO migration_daily (migration_id, day, source_id, bytes, updated_at)
  SELECT i.migration_id, date_bin('1 day', i.verified_at, timestamptz '2000-01-01 00:00Z'), s.source_id, sum(i.size_bytes), clock_timestamp()
  FROM new_rows i
  JOIN LATERAL (
    SELECT source_id FROM migration_studies s
    WHERE s.migration_id = i.migration_id AND s.study_instance_uid = i.study_instance_uid AND s.status = 'migrated' LIMIT 1
  ) s ON true
  GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (migration_id, day, source_id) DO UPDATE SET bytes = migration_daily.bytes + excluded.bytes, updated_at = excluded.updated_at;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER migration_studies_rollup_insert AFTER INSERT ON migration_studies REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION migration_studies_rollup_insert();
--> statement-breakpoint
CREATE TRIGGER migration_studies_rollup_update AFTER UPDATE ON migration_studies REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION migration_studies_rollup_update();
--> statement-breakpoint
CREATE TRIGGER migration_studies_rollup_delete AFTER DELETE ON migration_studies REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION migration_studies_rollup_delete();
--> statement-breakpoint
CREATE TRIGGER migration_instances_rollup_insert AFTER INSERT ON migration_instances REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION migration_instances_rollup_insert();
--> statement-breakpoint
-- Backfill from what is already recorded (quarantine exits before this migration are not known: depth starts
-- from the studies quarantined now).
INSERT INTO migration_totals (migration_id, source_id, modality, study_year, status, studies)
SELECT migration_id, source_id, coalesce(modalities[1], ''), coalesce(substr(study_date, 1, 4), ''), status, count(*)::int
FROM migration_studies GROUP BY 1, 2, 3, 4, 5;
--> statement-breakpoint
INSERT INTO migration_hourly (migration_id, bucket, source_id, modality, migrated, quarantined, bytes)
SELECT s.migration_id, date_trunc('hour', s.finished_at, 'UTC'), s.source_id, coalesce(s.modalities[1], ''),
  count(*) FILTER (WHERE s.status = 'migrated')::int, count(*) FILTER (WHERE s.status = 'quarantined')::int, coalesce(sum(i.bytes), 0)::bigint
FROM migration_studies s
LEFT JOIN (SELECT migration_id, study_instance_uid, sum(size_bytes) AS bytes FROM migration_instances GROUP BY 1, 2) i
  ON i.migration_id = s.migration_id AND i.study_instance_uid = s.study_instance_uid AND s.status = 'migrated'
WHERE s.status IN ('migrated', 'quarantined') AND s.finished_at IS NOT NULL
GROUP BY 1, 2, 3, 4;
--> statement-breakpoint
INSERT INTO migration_daily (migration_id, day, source_id, migrated, quarantined, bytes)
SELECT migration_id, date_bin('1 day', bucket, timestamptz '2000-01-01 00:00Z'), source_id, sum(migrated)::int, sum(quarantined)::int, sum(bytes)::bigint
FROM migration_hourly GROUP BY 1, 2, 3;
--> statement-breakpoint
INSERT INTO migration_quarantine_hourly (migration_id, bucket, category, entered)
SELECT migration_id, date_trunc('hour', coalesce(finished_at, now()), 'UTC'), coalesce(quarantine_category, 'unknown'), count(*)::int
FROM migration_studies WHERE status = 'quarantined' GROUP BY 1, 2, 3;
