// A migration's dashboard figures from the roll-up tables (kept by triggers, migration 0014): hourly throughput
// by source and modality, quarantine depth by category, current counts by source, modality and study year, and
// the migration's own events. With `since`, only the buckets and events that changed after it: a dashboard that
// polls every few seconds downloads what is new, not whole series.
import { and, asc, eq, gt, lt, sql } from "drizzle-orm";
import type { EngineDb } from "../store/db";
import { engineEvents, migrationDaily, migrationHourly, migrationQuarantineHourly, migrationTotals } from "../store/schema";

// Events a dashboard and a report show: control, settings, decisions, completion, rollbacks (not one per study, nor
// the hourly checkpoints: the checkpoint list has those).
const NOTABLE = ["migration.created", "migration.discovered", "migration.started", "migration.paused", "migration.resumed", "migration.settings_changed", "migration.completed", "migration.study_skipped", "migration.study_repaired", "migration.study_retried", "migration.study_escalated", "migration.files_skipped", "migration.rolled_back"];

/** Days of hourly detail: the forecast's recency weighting and the four-week back-test need no more. */
const HOURLY_DAYS = 35;

export async function migrationDashboardData(db: EngineDb, migrationId: string, since: Date | null) {
  // Read the clock first: a bucket changed while we read is returned again next time rather than missed.
  const [{ asOf }] = (await db.execute<{ asOf: string }>(sql`select clock_timestamp() as "asOf"`)) as unknown as [{ asOf: string }];
  const changedSince = (col: typeof migrationHourly.updatedAt | typeof migrationQuarantineHourly.updatedAt) => (since ? gt(col, since) : undefined);
  // Whole UTC days, so a day is either all hourly or one daily bucket.
  const hourlyFrom = new Date(Math.floor(Date.parse(asOf) / 86_400_000) * 86_400_000 - HOURLY_DAYS * 86_400_000);
  const [hourly, daily, quarantine, breakdown, events] = await Promise.all([
    // Per hour and source (summed over modalities: breakdowns by modality come from the totals) for the last
    // HOURLY_DAYS, per day before that (migration_daily; a year of hours per source would be most of the answer).
    // With `since`, every (hour, source) with a changed row, summed whole, and the changed days.
    db.execute<{ bucket: Date; source: string; migrated: number; quarantined: number; bytes: string }>(sql`
      select bucket, source_id as source, sum(migrated)::int as migrated, sum(quarantined)::int as quarantined, sum(bytes)::bigint as bytes
      from migration_hourly
      where migration_id = ${migrationId} and bucket >= ${hourlyFrom.toISOString()}::timestamptz
        ${since ? sql`and (bucket, source_id) in (select bucket, source_id from migration_hourly where migration_id = ${migrationId} and updated_at > ${since.toISOString()}::timestamptz)` : sql``}
      group by bucket, source_id order by bucket, source_id`),
    db
      .select({ bucket: migrationDaily.day, source: migrationDaily.sourceId, migrated: migrationDaily.migrated, quarantined: migrationDaily.quarantined, bytes: migrationDaily.bytes })
      .from(migrationDaily)
      .where(and(eq(migrationDaily.migrationId, migrationId), lt(migrationDaily.day, hourlyFrom), since ? gt(migrationDaily.updatedAt, since) : undefined))
      .orderBy(asc(migrationDaily.day), asc(migrationDaily.sourceId)),
    // Quarantine entries and exits: per hour in the hourly window, per day before it (whole days by date_bin's
    // arithmetic, not a time-zone conversion per row).
    db.execute<{ bucket: Date; category: string; entered: number; left: number }>(sql`
      select case when bucket >= ${hourlyFrom.toISOString()}::timestamptz then bucket else date_bin('1 day', bucket, timestamptz '2000-01-01 00:00Z') end as bucket,
        category, sum(entered)::int as entered, sum("left")::int as "left"
      from migration_quarantine_hourly
      where migration_id = ${migrationId}
        ${since ? sql`and (date_bin('1 day', bucket, timestamptz '2000-01-01 00:00Z'), category) in (select date_bin('1 day', bucket, timestamptz '2000-01-01 00:00Z'), category from migration_quarantine_hourly where migration_id = ${migrationId} and updated_at > ${since.toISOString()}::timestamptz)` : sql``}
      group by 1, 2 order by 1, 2`),
    db
      .select({ source: migrationTotals.sourceId, modality: migrationTotals.modality, studyYear: migrationTotals.studyYear, status: migrationTotals.status, studies: migrationTotals.studies })
      .from(migrationTotals)
      .where(and(eq(migrationTotals.migrationId, migrationId), gt(migrationTotals.studies, 0))),
    db
      .select()
      .from(engineEvents)
      .where(and(sql`${engineEvents.payload}->>'migrationId' = ${migrationId}`, sql`${engineEvents.type} in ${NOTABLE}`, since ? gt(engineEvents.createdAt, since) : undefined))
      .orderBy(asc(engineEvents.id))
      .limit(500),
  ]);
  return {
    asOf: new Date(asOf).toISOString(),
    hourlyFrom: hourlyFrom.toISOString(),
    hourly: [...hourly].map((h) => ({ ...h, bucket: new Date(h.bucket).toISOString(), bytes: Number(h.bytes) })),
    daily: [...daily].map((h) => ({ ...h, bucket: new Date(h.bucket).toISOString(), bytes: Number(h.bytes) })),
    quarantine: [...quarantine].map((q) => ({ ...q, bucket: new Date(q.bucket).toISOString() })),
    breakdown,
    events: events.map((e) => ({ id: e.id, type: e.type, createdAt: e.createdAt.toISOString(), payload: e.payload as Record<string, unknown> })),
  };
}

/** Counts by status from the roll-up (a migration of millions of studies is not counted row by row). */
export async function countsByStatus(db: EngineDb, migrationId: string) {
  const rows = await db
    .select({ status: migrationTotals.status, n: sql<number>`sum(${migrationTotals.studies})::int` })
    .from(migrationTotals)
    .where(eq(migrationTotals.migrationId, migrationId))
    .groupBy(migrationTotals.status);
  return (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
}
