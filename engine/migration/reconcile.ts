// The closeout reconciliation, from independent facts: the source and the target are inventoried again (C-FIND
// at the study level at each source, or the folder walked again; per migrated study, IMAGE-level C-FIND or
// QIDO-RS at the target) and compared with what the engine recorded. Every study at the source must be migrated
// with each recorded instance present at the target under its target UID, quarantined with a category, or
// skipped with a reason; anything else is a named difference, and the migration is balanced only without any.
import { open } from "node:fs/promises";
import { and, desc, eq, sql } from "drizzle-orm";
import type { MigrationPlan, MigrationReconciliation } from "../api/contract";
import { qidoInstances } from "../dicom/dicomweb";
import { parseHeader } from "../dicom/part10";
import { findInstances, findStudies, type DicomPeer } from "../dicom/scu";
import type { EngineDb } from "../store/db";
import { engineEvents, migrationInstances, migrationStudies } from "../store/schema";
import { discoverStudies } from "./discovery";
import { listSourceFiles, studiesOf } from "./filesystem";

type Difference = MigrationReconciliation["differences"][number];
type Source = MigrationPlan["sources"][number];

/** What a source holds now for the plan's filters: study UID → its instance count (null when the archive does not say). */
async function inventorySource(source: Source, filters: MigrationPlan["filters"]): Promise<Map<string, number | null>> {
  if (source.kind === "filesystem") {
    const listing = await listSourceFiles(source.path);
    const studies = studiesOf(listing.files, { from: filters.studyDateFrom, to: filters.studyDateTo, modalities: filters.modalities });
    return new Map(studies.map((s) => [s.studyInstanceUid, s.instances]));
  }
  const studies = await discoverStudies({
    range: { from: filters.studyDateFrom, to: filters.studyDateTo },
    modalities: filters.modalities,
    cap: source.findLimit,
    find: (q) => findStudies(source, { ...q, NumberOfStudyRelatedInstances: "" }),
  });
  return new Map(studies.map((s) => [s.studyInstanceUid, s.instances]));
}

/** How to ask the target which SOP instances of a study it holds now: C-FIND, QIDO-RS, or its folder walked once. */
function targetInventory(target: MigrationPlan["target"]): (studyUid: string) => Promise<string[]> {
  const t = target as { kind: string; url?: string; path?: string };
  if (t.kind === "stow-rs") return (uid) => qidoInstances(t.url!, uid);
  if (t.kind === "filesystem") {
    let walked: Promise<Map<string, string[]>> | null = null;
    return async (uid) => (await (walked ??= walkFolder(t.path!))).get(uid) ?? [];
  }
  return (uid) => findInstances(target as DicomPeer, uid);
}

/** A folder target's Part 10 files: study UID → the SOP Instance UIDs in their file meta groups. */
export async function walkFolder(folder: string) {
  const byStudy = new Map<string, string[]>();
  for (const f of (await listSourceFiles(folder)).files) {
    const fh = await open(f.path, "r");
    const head = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(head, 0, head.length, 0).finally(() => fh.close());
    const sop = parseHeader(head.subarray(0, bytesRead), "x00080000")?.string("x00020003")?.replace(/\0/g, "").trim();
    if (sop) byStudy.set(f.studyInstanceUid, [...(byStudy.get(f.studyInstanceUid) ?? []), sop]);
  }
  return byStudy;
}

/** A few target queries at a time: the target is a production archive. */
async function eachLimited<T>(items: T[], n: number, fn: (t: T) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

export async function reconcileMigration(db: EngineDb, m: { id: string; tenantSlug: string; plan: unknown }, now = new Date()): Promise<MigrationReconciliation> {
  const plan = m.plan as MigrationPlan;
  const differences: Difference[] = [];
  const rows = await db.select().from(migrationStudies).where(eq(migrationStudies.migrationId, m.id));
  const recorded = await db
    .select({ studyInstanceUid: migrationInstances.studyInstanceUid, target: sql<string>`coalesce(${migrationInstances.targetSopInstanceUid}, ${migrationInstances.sopInstanceUid})` })
    .from(migrationInstances)
    .where(eq(migrationInstances.migrationId, m.id));
  const recordedByStudy = new Map<string, string[]>();
  for (const r of recorded) recordedByStudy.set(r.studyInstanceUid, [...(recordedByStudy.get(r.studyInstanceUid) ?? []), r.target]);

  const sources: MigrationReconciliation["sources"] = [];
  for (const source of plan.sources) {
    const mine = rows.filter((r) => r.sourceId === source.id);
    const byUid = new Map(mine.map((r) => [r.studyInstanceUid, r]));
    let atSource: Map<string, number | null> | null = null;
    try {
      atSource = await inventorySource(source, plan.filters);
    } catch (e) {
      differences.push({ sourceId: source.id, studyInstanceUid: "", kind: "source_unreadable", message: `source ${source.id} could not be inventoried again: ${e instanceof Error ? e.message : String(e)}` });
    }
    for (const [uid, n] of atSource ?? []) {
      const row = byUid.get(uid);
      if (!row) {
        differences.push({ sourceId: source.id, studyInstanceUid: uid, kind: "never_discovered", message: `study ${uid} at source ${source.id} was never discovered${n ? ` (${n} instance${n === 1 ? "" : "s"})` : ""}` });
        continue;
      }
      const migratedN = recordedByStudy.get(uid)?.length ?? 0;
      if (row.status === "migrated" && n !== null && n !== migratedN)
        differences.push({ sourceId: source.id, studyInstanceUid: uid, kind: "instance_count_changed", message: `study ${uid}: source now reports ${n} instances, ${migratedN} were migrated` });
    }
    for (const row of mine) {
      if (row.status === "pending" || row.status === "in_flight")
        differences.push({ sourceId: source.id, studyInstanceUid: row.studyInstanceUid, kind: "not_finished", message: `study ${row.studyInstanceUid}: ${row.status === "pending" ? "never migrated (still pending)" : "still in flight"}` });
      else if (atSource && row.status !== "migrated" && !atSource.has(row.studyInstanceUid))
        differences.push({ sourceId: source.id, studyInstanceUid: row.studyInstanceUid, kind: "gone_from_source", message: `study ${row.studyInstanceUid}: ${row.status}, and the source no longer lists it` });
    }
    sources.push({
      source: source.id,
      studiesAtSource: atSource?.size ?? 0,
      instancesAtSource: [...(atSource?.values() ?? [])].reduce<number>((a, b) => a + (b ?? 0), 0),
      migrated: mine.filter((r) => r.status === "migrated").length,
      quarantined: mine.filter((r) => r.status === "quarantined").length,
      skipped: mine.filter((r) => r.status === "skipped").length,
      remaining: mine.filter((r) => r.status === "pending" || r.status === "in_flight").length,
    });
  }

  // The target, per migrated study: every recorded instance must be there under its target UID.
  const migrated = rows.filter((r) => r.status === "migrated");
  const askTarget = targetInventory(plan.target);
  let expected = 0;
  let present = 0;
  await eachLimited(migrated, 4, async (row) => {
    const want = recordedByStudy.get(row.studyInstanceUid) ?? [];
    const targetUid = row.targetStudyInstanceUid ?? row.studyInstanceUid;
    expected += want.length;
    let held: Set<string>;
    try {
      held = new Set(await askTarget(targetUid));
    } catch (e) {
      differences.push({ sourceId: row.sourceId, studyInstanceUid: row.studyInstanceUid, kind: "target_unreadable", message: `study ${row.studyInstanceUid}: the target could not be asked for it: ${e instanceof Error ? e.message : String(e)}` });
      return;
    }
    const missing = want.filter((sop) => !held.has(sop));
    present += want.length - missing.length;
    if (missing.length === want.length)
      differences.push({ sourceId: row.sourceId, studyInstanceUid: row.studyInstanceUid, kind: "missing_at_target", message: `study ${row.studyInstanceUid}: migrated, but the target no longer holds it (0 of ${want.length} instances)` });
    else if (missing.length)
      differences.push({
        sourceId: row.sourceId,
        studyInstanceUid: row.studyInstanceUid,
        kind: "instances_missing_at_target",
        message: `study ${row.studyInstanceUid}: migrated, but the target holds ${want.length - missing.length} of ${want.length} instances (missing ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", …" : ""})`,
      });
  });

  const categories = new Map<string, number>();
  for (const r of rows.filter((r) => r.status === "quarantined")) categories.set(r.quarantineCategory ?? "unknown", (categories.get(r.quarantineCategory ?? "unknown") ?? 0) + 1);
  differences.sort((a, b) => (a.studyInstanceUid < b.studyInstanceUid ? -1 : a.studyInstanceUid > b.studyInstanceUid ? 1 : 0));
  return {
    migrationId: m.id,
    reconciledAt: now.toISOString(),
    balanced: differences.length === 0,
    sources,
    target: { studiesChecked: migrated.length, instancesExpected: expected, instancesPresent: present },
    quarantined: [...categories].map(([category, studies]) => ({ category, studies })),
    differences,
  };
}

/** Runs the reconciliation and keeps it as an engine event (so it is also in the console's audit chain). */
export async function runReconciliation(db: EngineDb, m: { id: string; tenantSlug: string; plan: unknown }) {
  const result = await reconcileMigration(db, m);
  await db.insert(engineEvents).values({ tenantSlug: m.tenantSlug, type: "migration.reconciled", payload: result });
  return result;
}

/** The last reconciliation run for a migration, or null. */
export async function lastReconciliation(db: EngineDb, m: { id: string; tenantSlug: string }) {
  const [row] = await db
    .select({ payload: engineEvents.payload })
    .from(engineEvents)
    .where(and(eq(engineEvents.tenantSlug, m.tenantSlug), eq(engineEvents.type, "migration.reconciled"), sql`${engineEvents.payload}->>'migrationId' = ${m.id}`))
    .orderBy(desc(engineEvents.id))
    .limit(1);
  return (row?.payload as MigrationReconciliation | undefined) ?? null;
}

