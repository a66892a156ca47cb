// Migration plans: validated by the contract, proven reachable before they are accepted (a C-ECHO to every DICOM
// source and target, so an unreachable archive is reported now, not discovered hours later), then discovered.
import { randomUUID } from "node:crypto";
import { and, eq, inArray, isNotNull, ne } from "drizzle-orm";
import type { MigrationPlan } from "../api/contract";
import { access } from "node:fs/promises";
import { constants as fsConstants } from "node:fs";
import { pingDicomWeb } from "../dicom/dicomweb";
import { echo, findSeries, findStudies, type DicomPeer } from "../dicom/scu";
import type { EngineDb } from "../store/db";
import { engineEvents, migrations, migrationSourceFiles, migrationStudies } from "../store/schema";
import { countsByStatus } from "./dashboard";
import { discoverStudies } from "./discovery";
import { listSourceFiles, studiesOf } from "./filesystem";
import { latestVersionOf, recordFirstVersion, versionFields } from "./plan-versions";

export type MigrationRow = typeof migrations.$inferSelect;

type Endpoint = MigrationPlan["sources"][number] | MigrationPlan["target"];

/** A C-ECHO to an archive, a QIDO-RS query to a DICOMweb service, a look at a source folder or DICOMDIR. */
async function reach(endpoint: Endpoint) {
  if (endpoint.kind === "dicom") return echo(endpoint as DicomPeer).catch((e: Error) => Promise.reject(new Error(`C-ECHO failed: ${e.message}`)));
  if (endpoint.kind === "stow-rs") return pingDicomWeb(endpoint.url);
  await access(endpoint.path, fsConstants.R_OK).catch(() => Promise.reject(new Error(`${endpoint.path} does not exist or the engine cannot read it`)));
}

/** Field errors from the connection tests, keyed like the plan's fields (`sources.0`, `target`); empty when all answer. */
export async function connectionTest(plan: MigrationPlan): Promise<Record<string, string[]>> {
  const checks: [string, Endpoint][] = [...plan.sources.map((s, i): [string, Endpoint] => [`sources.${i}`, s]), ["target", plan.target]];
  const failures = await Promise.all(checks.map(async ([field, e]) => reach(e).then(() => null, (err: Error): [string, string[]] => [field, [err.message]])));
  return Object.fromEntries(failures.filter((f) => f !== null));
}

/** A new migration with its plan as version 1, awaiting approval (plan-versions.ts). */
export async function createMigration(db: EngineDb, slug: string, plan: MigrationPlan, createdBy: { userId: string; name: string } | null = null) {
  const id = randomUUID();
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(migrations).values({ id, tenantSlug: slug, plan, status: "created" }).returning();
    await tx.insert(engineEvents).values({ tenantSlug: slug, type: "migration.created", payload: { migrationId: id, name: plan.name, sources: plan.sources.map((s) => s.id) } });
    await recordFirstVersion(tx, slug, id, plan, createdBy);
    return row!;
  });
}

export async function getMigration(db: EngineDb, slug: string, id: string) {
  const [row] = await db.select().from(migrations).where(and(eq(migrations.id, id), eq(migrations.tenantSlug, slug)));
  if (!row) return null;
  // From the roll-up kept by triggers: a migration of millions of studies is not counted row by row.
  const n = await countsByStatus(db, id);
  const counts = { pending: n("pending"), inFlight: n("in_flight"), migrated: n("migrated"), quarantined: n("quarantined"), skipped: n("skipped") };
  const versions = versionFields(await latestVersionOf(db, id), row.planVersion);
  return { ...row, ...versions, counts: { discovered: Object.values(counts).reduce((a, b) => a + b, 0), ...counts } };
}

export async function listMigrations(db: EngineDb, slug: string) {
  const rows = await db.select().from(migrations).where(eq(migrations.tenantSlug, slug));
  return Promise.all(rows.map(async (r) => (await getMigration(db, slug, r.id))!));
}

/**
 * Claims a migration for discovery; false when it is already being discovered (one discovery at a time) or no plan
 * version is approved (the caller says which, notApprovedReason).
 */
export async function claimDiscovery(db: EngineDb, id: string) {
  const claimed = await db
    .update(migrations)
    .set({ status: "discovering", lastError: null, updatedAt: new Date() })
    .where(and(eq(migrations.id, id), ne(migrations.status, "discovering"), isNotNull(migrations.planVersion)))
    .returning({ id: migrations.id });
  return claimed.length === 1;
}

async function setStatus(db: EngineDb, id: string, status: MigrationRow["status"], lastError: string | null = null) {
  await db.update(migrations).set({ status, lastError, updatedAt: new Date() }).where(eq(migrations.id, id));
}

/**
 * Finds every study each source holds for the plan's filters and records it (idempotent: running it again adds
 * only what is new). Sources other than DICOM archives are not discovered yet; they are reported as such.
 */
/** While a discovery runs: how many C-FINDs it asked, the studies they matched, and the query it is on now. */
export type DiscoveryProgress = { queries: number; matches: number; current: string };
const discovering = new Map<string, DiscoveryProgress>();
export const discoveryProgress = (migrationId: string) => discovering.get(migrationId) ?? null;
const describeQuery = (sourceId: string, q: Record<string, string>) =>
  `${sourceId}: ${Object.entries(q).map(([k, v]) => `${k}=${v || "(any)"}`).join(", ")}`;

export async function discoverMigration(db: EngineDb, m: MigrationRow, log: (s: string) => void) {
  const plan = m.plan as MigrationPlan;
  const progress: DiscoveryProgress = { queries: 0, matches: 0, current: "starting" };
  discovering.set(m.id, progress);
  try {
    let total = 0;
    const undatedCapped: string[] = [];
    for (const source of plan.sources) {
      if (source.kind === "filesystem") {
        progress.current = `${source.id}: reading the headers of the files under ${source.path}`;
        total += await discoverFiles(db, m, source, plan.filters, log);
        continue;
      }
      const studies = await discoverStudies({
        range: { from: plan.filters.studyDateFrom, to: plan.filters.studyDateTo },
        modalities: plan.filters.modalities,
        cap: source.findLimit,
        find: (q) => {
          progress.current = describeQuery(source.id, q);
          return findStudies(source, q);
        },
        onQuery: (_q, n) => {
          progress.queries++;
          progress.matches += n;
        },
        onUndatedCapped: (message) => undatedCapped.push(message),
      });
      for (const message of undatedCapped.splice(0)) {
        log(`migration ${m.id}: source ${source.id}: ${message}`);
        await db.insert(engineEvents).values({ tenantSlug: m.tenantSlug, type: "migration.undated_unchecked", payload: { migrationId: m.id, sourceId: source.id, message } });
      }
      for (let i = 0; i < studies.length; i += 500) {
        const slice = studies.slice(i, i + 500);
        progress.current = `${source.id}: instance counts per series, studies ${i + 1}–${i + slice.length} of ${studies.length}`;
        const series = await seriesCountsOf(source, slice.map((s) => s.studyInstanceUid));
        const batch = slice.map((s, n) => ({
          migrationId: m.id,
          sourceId: source.id,
          studyInstanceUid: s.studyInstanceUid,
          studyDate: s.studyDate,
          modalities: s.modalities,
          instances: s.instances,
          seriesInstances: series[n],
        }));
        await db.insert(migrationStudies).values(batch).onConflictDoNothing();
      }
      total += studies.length;
      log(`migration ${m.id}: ${studies.length} studies at source ${source.id}`);
    }
    await db.transaction(async (tx) => {
      await tx.update(migrations).set({ status: "ready", lastError: null, updatedAt: new Date() }).where(eq(migrations.id, m.id));
      await tx.insert(engineEvents).values({ tenantSlug: m.tenantSlug, type: "migration.discovered", payload: { migrationId: m.id, studies: total } });
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    log(`migration ${m.id}: discovery failed: ${message}`);
    await setStatus(db, m.id, "failed", `discovery failed: ${message}`);
  } finally {
    discovering.delete(m.id);
  }
}

/**
 * What the archive reports per series of each study (a SERIES-level C-FIND, four at a time), so extraction can tell
 * a short series even when the study's total still holds. Null for a study the archive would not answer about.
 */
async function seriesCountsOf(source: DicomPeer, studyUids: string[]) {
  const out: (Record<string, number> | null)[] = new Array(studyUids.length).fill(null);
  let next = 0;
  const worker = async () => {
    for (let n = next++; n < studyUids.length; n = next++) {
      const found = await findSeries(source, studyUids[n]!).catch(() => null);
      const counted = found?.filter((x) => x.instances !== null);
      out[n] = counted?.length ? Object.fromEntries(counted.map((x) => [x.seriesInstanceUid, x.instances!])) : null;
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return out;
}

/** A folder or DICOMDIR: every Part 10 file's study from its header, and the files recorded for extraction. */
async function discoverFiles(db: EngineDb, m: MigrationRow, source: { id: string; path: string }, filters: MigrationPlan["filters"], log: (s: string) => void) {
  const listing = await listSourceFiles(source.path);
  const studies = studiesOf(listing.files, { from: filters.studyDateFrom, to: filters.studyDateTo, modalities: filters.modalities });
  for (let i = 0; i < studies.length; i += 500) {
    const batch = studies.slice(i, i + 500);
    await db.transaction(async (tx) => {
      await tx
        .insert(migrationStudies)
        .values(batch.map((s) => ({ migrationId: m.id, sourceId: source.id, studyInstanceUid: s.studyInstanceUid, studyDate: s.studyDate, modalities: s.modalities, instances: s.instances })))
        .onConflictDoNothing();
      await tx
        .insert(migrationSourceFiles)
        .values(batch.flatMap((s) => s.paths.map((p) => ({ migrationId: m.id, sourceId: source.id, studyInstanceUid: s.studyInstanceUid, path: p }))))
        .onConflictDoNothing();
    });
  }
  if (listing.skipped.length) {
    await db.insert(engineEvents).values({
      tenantSlug: m.tenantSlug,
      type: "migration.files_skipped",
      payload: { migrationId: m.id, sourceId: source.id, count: listing.skipped.length, examples: listing.skipped.slice(0, 20) },
    });
  }
  log(`migration ${m.id}: ${studies.length} studies in ${listing.files.length} files at source ${source.id}; ${listing.skipped.length} files skipped`);
  return studies.length;
}

/** Marks a ready (or paused) migration running; false when it is not in a state that can start or no version is approved. */
export async function claimRun(db: EngineDb, id: string) {
  const claimed = await db
    .update(migrations)
    .set({ status: "running", updatedAt: new Date() })
    .where(and(eq(migrations.id, id), inArray(migrations.status, ["ready", "paused"]), isNotNull(migrations.planVersion)))
    .returning({ id: migrations.id });
  return claimed.length === 1;
}
