// Progress of a migration: counts by source and status, studies and bytes migrated per hour and per minute (by
// source and modality), the current rate and an ETA, and the verification report. Whether the migration balances
// is not a count of the engine's own rows: reconcile.ts asks the source and the target again.
import { and, eq, sql } from "drizzle-orm";
import type { EngineDb } from "../store/db";
import { migrationInstances, migrationStudies } from "../store/schema";
import type { MigrationPlan, VerificationReport } from "../api/contract";
import { reportSha256, studyRecordHash, type StudyRecord } from "./study-record";

export async function migrationProgress(db: EngineDb, migrationId: string, now = new Date()) {
  const bucketsOf = (unit: "hour" | "minute") =>
    db.execute<{ bucket: string; source: string; modality: string | null; studies: number; bytes: number }>(sql`
      select to_char(date_trunc(${unit}, s.finished_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"') as bucket, s.source_id as source,
        s.modalities[1] as modality, count(*)::int as studies, coalesce(sum(i.bytes), 0)::bigint as bytes
      from migration_studies s
      left join (select study_instance_uid, sum(size_bytes) as bytes from migration_instances where migration_id = ${migrationId} group by 1) i
        on i.study_instance_uid = s.study_instance_uid
      where s.migration_id = ${migrationId} and s.status = 'migrated'
        ${unit === "minute" ? sql`and s.finished_at > ${new Date(now.getTime() - 3_600_000).toISOString()}::timestamptz` : sql``}
      group by 1, 2, 3 order by 1, 2, 3`);
  const [hours, minutes] = await Promise.all([bucketsOf("hour"), bucketsOf("minute")]);
  const byStatus = await db
    .select({ source: migrationStudies.sourceId, status: migrationStudies.status, category: migrationStudies.quarantineCategory, n: sql<number>`count(*)::int` })
    .from(migrationStudies)
    .where(eq(migrationStudies.migrationId, migrationId))
    .groupBy(migrationStudies.sourceId, migrationStudies.status, migrationStudies.quarantineCategory);
  const count = (f: (r: (typeof byStatus)[number]) => boolean) => byStatus.filter(f).reduce((n, r) => n + r.n, 0);
  const discovered = count(() => true);
  const migrated = count((r) => r.status === "migrated");
  const remaining = count((r) => r.status === "pending" || r.status === "in_flight");
  // Rate over the last ten minutes of finished studies; the ETA assumes it holds.
  const recent = minutes.filter((m) => Date.parse(m.bucket) > now.getTime() - 600_000).reduce((n, m) => n + Number(m.studies), 0);
  const perHour = (recent / 10) * 60;
  const quarantinedBy = Object.fromEntries(
    [...new Set(byStatus.filter((r) => r.status === "quarantined").map((r) => r.category ?? "unknown"))].map((c) => [c, count((r) => r.status === "quarantined" && (r.category ?? "unknown") === c)]),
  );
  const reasons = [
    ...(remaining ? [`${remaining} not migrated yet (pending or in flight)`] : []),
    ...Object.entries(quarantinedBy).map(([c, n]) => `${n} quarantined: ${c.replaceAll("_", " ")}`),
    ...(count((r) => r.status === "skipped") ? [`${count((r) => r.status === "skipped")} skipped by a reviewer's decision, each with its reason`] : []),
  ];
  return {
    sources: [...new Set(byStatus.map((r) => r.source))].map((source) => ({
      source,
      discovered: count((r) => r.source === source),
      pending: count((r) => r.source === source && r.status === "pending"),
      inFlight: count((r) => r.source === source && r.status === "in_flight"),
      migrated: count((r) => r.source === source && r.status === "migrated"),
      quarantined: count((r) => r.source === source && r.status === "quarantined"),
      skipped: count((r) => r.source === source && r.status === "skipped"),
    })),
    hourly: hours.map((h) => ({ ...h, bytes: Number(h.bytes) })),
    minutes: minutes.map((m) => ({ ...m, bytes: Number(m.bytes) })),
    studiesPerHour: Math.round(perHour),
    etaSeconds: remaining === 0 ? 0 : perHour > 0 ? Math.round((remaining / perHour) * 3600) : null,
    reconciliation: {
      discovered,
      migrated,
      quarantined: quarantinedBy,
      skipped: count((r) => r.status === "skipped"),
      remaining,
      outstanding: reasons,
    },
  };
}

/** The verification report: one row per instance, with both hashes and when it was verified. */
export async function verificationReport(db: EngineDb, migrationId: string) {
  return db
    .select({
      studyInstanceUid: migrationInstances.studyInstanceUid,
      sopInstanceUid: migrationInstances.sopInstanceUid,
      targetStudyInstanceUid: sql<string>`coalesce(${migrationStudies.targetStudyInstanceUid}, ${migrationInstances.studyInstanceUid})`,
      targetSopInstanceUid: sql<string>`coalesce(${migrationInstances.targetSopInstanceUid}, ${migrationInstances.sopInstanceUid})`,
      sopClassUid: migrationInstances.sopClassUid,
      sizeBytes: migrationInstances.sizeBytes,
      sourceSha256: migrationInstances.sourceSha256,
      expectedSha256: sql<string>`coalesce(${migrationInstances.expectedSha256}, ${migrationInstances.sourceSha256})`,
      targetSha256: migrationInstances.targetSha256,
      verifiedAt: migrationInstances.verifiedAt,
    })
    .from(migrationInstances)
    .leftJoin(
      migrationStudies,
      and(eq(migrationStudies.migrationId, migrationInstances.migrationId), eq(migrationStudies.studyInstanceUid, migrationInstances.studyInstanceUid), eq(migrationStudies.status, "migrated")),
    )
    .where(and(eq(migrationInstances.migrationId, migrationId)))
    .orderBy(migrationInstances.studyInstanceUid, migrationInstances.sopInstanceUid);
}

/**
 * The exported verification report: every instance row, and per migrated study its record (study-record.ts) and
 * record hash, recomputed from the rows as they are now, so a row edited after the fact no longer matches the hash
 * the audit chain received at the time. `reportSha256` covers the rest of the report.
 */
export async function verificationReportDocument(
  db: EngineDb,
  m: { id: string; tenantSlug: string; plan: unknown; planVersion?: number | null },
  now = new Date(),
): Promise<VerificationReport> {
  const rows = await verificationReport(db, m.id);
  const studies = await db
    .select({ sourceId: migrationStudies.sourceId, studyInstanceUid: migrationStudies.studyInstanceUid, targetStudyInstanceUid: migrationStudies.targetStudyInstanceUid, planVersion: migrationStudies.planVersion })
    .from(migrationStudies)
    .where(and(eq(migrationStudies.migrationId, m.id), eq(migrationStudies.status, "migrated")))
    .orderBy(migrationStudies.studyInstanceUid);
  const byStudy = new Map<string, typeof rows>();
  for (const r of rows) byStudy.set(r.studyInstanceUid, [...(byStudy.get(r.studyInstanceUid) ?? []), r]);
  const records = studies.map((s) => {
    const mine = byStudy.get(s.studyInstanceUid) ?? [];
    const record: StudyRecord = {
      migrationId: m.id,
      sourceId: s.sourceId,
      studyInstanceUid: s.studyInstanceUid,
      targetStudyInstanceUid: s.targetStudyInstanceUid ?? s.studyInstanceUid,
      instances: mine.map((i) => ({ sourceSopInstanceUid: i.sopInstanceUid, targetSopInstanceUid: i.targetSopInstanceUid, sourceSha256: i.sourceSha256, expectedSha256: i.expectedSha256, targetSha256: i.targetSha256 })),
      instanceCount: mine.length,
      bytes: mine.reduce((n, i) => n + Number(i.sizeBytes), 0),
      migratedAt: (mine[0]?.verifiedAt ?? new Date(0)).toISOString(),
      // The version each study was migrated under (a running migration's plan can change), as its event recorded it.
      ...(s.planVersion != null ? { planVersion: s.planVersion } : {}),
    };
    return { record, recordHash: studyRecordHash(record) };
  });
  const content = {
    format: "imgops-migration-report/1" as const,
    migrationId: m.id,
    tenantSlug: m.tenantSlug,
    generatedAt: now.toISOString(),
    target: (m.plan as MigrationPlan).target,
    studies: records,
    instances: rows.map((r) => ({ ...r, sizeBytes: Number(r.sizeBytes), verifiedAt: r.verifiedAt.toISOString() })),
  };
  return { ...content, reportSha256: reportSha256(content) };
}
