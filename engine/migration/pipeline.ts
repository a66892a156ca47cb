// One study through the migration: extract from the source (C-GET, bit-preserving) and hash each instance, send
// each to the target exactly as extracted, retrieve what the target stored and hash it again; only when every
// instance is there with the same hash is the study recorded as migrated. Anything else quarantines the study
// with a category and the evidence a reviewer needs.
//
// What is hashed: SHA-256 of the dataset bytes, i.e. the Part 10 file without its preamble and File Meta
// Information group. Each receiver rewrites the meta group (its implementation UID and version, the source AE
// title), so hashing it would flag every instance; the dataset is what must arrive unchanged.
import { execFile } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, open, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { MigrationPlan } from "../api/contract";
import { datasetOffset, parseHeader } from "../dicom/part10";
import { DicomWebError } from "../dicom/dicomweb";
import type { MoveDestination } from "../dicom/retrieve";
import type { EngineDb } from "../store/db";
import { engineEvents, migrationInstances, migrations, migrationStudies } from "../store/schema";
import { nextCompletion } from "./checkpoints";
import { pixelDataProblem } from "./pixel-data";
import { outranked } from "./priority";
import { ByteRate } from "./bandwidth";
import { extractStudy, retrieveFromTarget, sendToTarget } from "./endpoints";
import { keepEvidence, type EvidenceFile, type EvidenceStore } from "./evidence";
import { studyRecordHash, type StudyRecord } from "./study-record";
import { applyTransforms, tagArg, TransformError } from "./transforms";
import { windowOpen } from "./windows";

export type QuarantineCategory =
  | "hash_mismatch"
  | "malformed_header"
  | "character_set"
  | "corrupt_pixel_data"
  | "transform_error"
  | "target_rejected"
  | "source_unavailable"
  | "incomplete_study"
  | "duplicate_uid";

/** The source returned fewer instances than its C-FIND (or the discovered folder) said the study, or a series, has. */
class ShortStudy extends Error {
  constructor(
    readonly expected: number,
    readonly extracted: number,
    readonly series: { seriesInstanceUid: string; expectedInstances: number; extractedInstances: number }[] = [],
  ) {
    super(`expected ${expected} instances, extracted ${extracted}`);
  }
}

class Quarantine extends Error {
  constructor(
    readonly category: QuarantineCategory,
    message: string,
    readonly evidence: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Test hooks (fault injection); production passes none. */
export type MigrationHooks = {
  /** after extract, before anything reads the files: stands in for an archive that returns damaged files */
  afterExtract?: (files: string[]) => Promise<void>;
  beforeSend?: (file: string, sopInstanceUid: string) => Promise<void>;
  /** after retrieving the study back from the target: stands in for a target that stored different bytes */
  afterVerifyRetrieve?: (files: string[]) => Promise<void>;
};

/** What a migration runner needs from the engine's configuration, beyond the plan. */
export type MigrationRuntime = {
  /** the anonymization profile's pseudonym key (ENGINE_PSEUDONYM_KEY) */
  pseudonymKey?: Buffer;
  /** filesystem sources must lie under <importRoot>/<tenant slug>/ */
  importRoot?: string;
  /** filesystem targets must lie under <exportRoot>/<tenant slug>/ */
  exportRoot?: string;
  /** where archives send C-MOVEd instances (ENGINE_MOVE_AE_TITLE, ENGINE_MOVE_PORT) */
  moveDestination?: MoveDestination;
  hooks?: MigrationHooks;
  workRoot?: string;
  /** names this engine process in the workers it runs (ENGINE_INSTANCE_ID), so a restart can take its studies back */
  instanceId?: string;
  /** true once the engine is shutting down: take no new study */
  stopped?: () => boolean;
  /** where a quarantined study's instances are kept for the reviewer (encrypted with the tenant's key) */
  evidence?: EvidenceStore;
};

/** A reviewer's repair: elements to set or remove (DCMTK dcmodify) before the study is hashed and sent again. */
export type RepairPatch = { op?: "set" | "remove"; tag: string; value?: string }[];

/** Defined terms of Specific Character Set (0008,0005), PS3.3 C.12.1.1.2. */
const CHARACTER_SETS = new Set([
  "ISO_IR 6", "ISO_IR 100", "ISO_IR 101", "ISO_IR 109", "ISO_IR 110", "ISO_IR 144", "ISO_IR 127", "ISO_IR 126", "ISO_IR 138", "ISO_IR 148",
  "ISO_IR 203", "ISO_IR 13", "ISO_IR 166", "ISO_IR 192", "GB18030", "GBK",
  "ISO 2022 IR 6", "ISO 2022 IR 100", "ISO 2022 IR 101", "ISO 2022 IR 109", "ISO 2022 IR 110", "ISO 2022 IR 144", "ISO 2022 IR 127",
  "ISO 2022 IR 126", "ISO 2022 IR 138", "ISO 2022 IR 148", "ISO 2022 IR 203", "ISO 2022 IR 13", "ISO 2022 IR 166", "ISO 2022 IR 87",
  "ISO 2022 IR 159", "ISO 2022 IR 149", "ISO 2022 IR 58",
]);

type Instance = { file: string; studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid: string; sopClassUid: string; transferSyntaxUid: string; size: number; sha256: string };

/** The instance's identity (from its header) and the SHA-256 of its dataset bytes, streamed. */
export async function describe(file: string): Promise<Instance> {
  const fh = await open(file, "r");
  const head = Buffer.alloc(64 * 1024);
  const { bytesRead } = await fh.read(head, 0, head.length, 0);
  await fh.close();
  const offset = datasetOffset(head.subarray(0, bytesRead));
  if (offset === null) throw new Quarantine("malformed_header", `${path.basename(file)} is not a Part 10 file (no DICM prefix or file meta group)`, { file: path.basename(file) });
  const meta = parseHeader(head.subarray(0, bytesRead), "x0020000e");
  const sopInstanceUid = meta?.string("x00020003")?.trim();
  const sopClassUid = meta?.string("x00020002")?.trim();
  const transferSyntaxUid = meta?.string("x00020010")?.trim();
  if (!sopInstanceUid || !sopClassUid || !transferSyntaxUid) {
    throw new Quarantine("malformed_header", `${path.basename(file)}: the file meta group lacks the SOP instance, SOP class or transfer syntax UID`, { sopInstanceUid, sopClassUid, transferSyntaxUid });
  }
  const charset = meta?.string("x00080005");
  const unknown = (charset ?? "").split("\\").map((c) => c.trim()).filter((c) => c && !CHARACTER_SETS.has(c));
  if (unknown.length) {
    throw new Quarantine("character_set", `${sopInstanceUid}: Specific Character Set names ${unknown.join(", ")}, which is not a DICOM character set`, { element: "(0008,0005) SpecificCharacterSet", value: charset, sopInstanceUid });
  }
  const studyInstanceUid = meta?.string("x0020000d")?.replace(/\0/g, "").trim() ?? "";
  const seriesInstanceUid = meta?.string("x0020000e")?.replace(/\0/g, "").trim() ?? "";
  const size = (await stat(file)).size;
  const pixels = pixelDataProblem(parseHeader(head.subarray(0, bytesRead)), transferSyntaxUid, size);
  if (pixels) throw new Quarantine("corrupt_pixel_data", `${sopInstanceUid}: ${pixels.message}`, { ...pixels.evidence, sopInstanceUid });
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file, { start: offset })) hash.update(chunk as Buffer);
  return { file, studyInstanceUid, seriesInstanceUid, sopInstanceUid, sopClassUid, transferSyntaxUid, size, sha256: hash.digest("hex") };
}

/** Transient failures (the archive busy or briefly away) are retried with backoff before the study is quarantined. */
async function withRetries<T>(what: () => Promise<T>, attempts = 3, firstDelayMs = 500): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await what();
    } catch (e) {
      if (i >= attempts) throw e;
      await new Promise((r) => setTimeout(r, firstDelayMs * 2 ** (i - 1)));
    }
  }
}

type StudyRow = typeof migrationStudies.$inferSelect;
type Tx = Parameters<Parameters<EngineDb["transaction"]>[0]>[0];

/** Where an instance came from, as a duplicate SOP Instance UID's evidence names it for each side. */
type Location = { sourceId: string | null; studyInstanceUid: string; seriesInstanceUid: string | null; sourcePath: string | null; sha256: string };
type Clash = { sopInstanceUid: string; earlier: Location; duplicate: Location };

const placeOf = (l: Location) => `study ${l.studyInstanceUid}, ${l.sourcePath ?? `series ${l.seriesInstanceUid ?? "unknown"}`}`;

/** A study with a duplicate SOP Instance UID: the first clash in the message, both locations in the evidence. */
function duplicateUid(scope: "within_study" | "across_studies", clashes: Clash[], sentToTarget = false) {
  const [c] = clashes as [Clash];
  const what =
    scope === "within_study"
      ? `two different instances of this study carry SOP Instance UID ${c.sopInstanceUid} (${placeOf(c.earlier)}; ${placeOf(c.duplicate)})`
      : `SOP Instance UID ${c.sopInstanceUid} was already migrated in ${placeOf(c.earlier)}; this study's instance (${placeOf(c.duplicate)}) carries it too`;
  const message = `${what}${clashes.length > 1 ? `; ${clashes.length} UIDs in all` : ""}${sentToTarget ? "; this study was sent to the target before the clash showed" : ""}`;
  return new Quarantine("duplicate_uid", message, {
    sopInstanceUid: c.sopInstanceUid,
    scope,
    locations: [c.earlier, c.duplicate],
    ...(clashes.length > 1 ? { duplicateUids: clashes.slice(0, 50).map((x) => x.sopInstanceUid), duplicateUidCount: clashes.length } : {}),
    ...(sentToTarget ? { sentToTarget } : {}),
  });
}

/**
 * One study's instances, each SOP Instance UID once. Two copies with the same dataset hash are one instance
 * delivered twice (a copied file, an archive sending it again), so the first is kept and nothing is lost; two that
 * differ are a duplicate UID and quarantine the study, since either one would silently replace the other.
 */
function oncePerUid(instances: Instance[], locate: (i: Instance) => Location): Instance[] {
  const first = new Map<string, Instance>();
  const clashes: Clash[] = [];
  for (const inst of instances) {
    const seen = first.get(inst.sopInstanceUid);
    if (!seen) first.set(inst.sopInstanceUid, inst);
    else if (seen.sha256 !== inst.sha256) clashes.push({ sopInstanceUid: inst.sopInstanceUid, earlier: locate(seen), duplicate: locate(inst) });
  }
  if (clashes.length) throw duplicateUid("within_study", clashes);
  return [...first.values()];
}

/** What this migration already recorded from another study under any of these SOP Instance UIDs (its verified instances). */
async function recordedElsewhere(db: EngineDb | Tx, migrationId: string, studyInstanceUid: string, uids: string[]): Promise<Map<string, Location>> {
  const found = new Map<string, Location>();
  // In slices: a study of many thousand instances stays under PostgreSQL's limit on bind parameters.
  for (let i = 0; i < uids.length; i += 5000) {
    const rows = await db
      .select({ sopInstanceUid: migrationInstances.sopInstanceUid, sourceId: migrationInstances.sourceId, studyInstanceUid: migrationInstances.studyInstanceUid, seriesInstanceUid: migrationInstances.seriesInstanceUid, sourcePath: migrationInstances.sourcePath, sha256: migrationInstances.sourceSha256 })
      .from(migrationInstances)
      .where(and(eq(migrationInstances.migrationId, migrationId), inArray(migrationInstances.sopInstanceUid, uids.slice(i, i + 5000)), ne(migrationInstances.studyInstanceUid, studyInstanceUid)));
    for (const { sopInstanceUid, ...at } of rows) found.set(sopInstanceUid, at);
  }
  return found;
}

/** Quarantines the study if another study of the migration already recorded one of its SOP Instance UIDs. */
async function refuseRecordedElsewhere(db: EngineDb | Tx, migrationId: string, instances: Instance[], locate: (i: Instance) => Location, sentToTarget = false) {
  const here = instances.map(locate);
  const earlier = await recordedElsewhere(db, migrationId, here[0]!.studyInstanceUid, instances.map((i) => i.sopInstanceUid));
  const clashes = instances.flatMap((inst, n) => {
    const at = earlier.get(inst.sopInstanceUid);
    return at ? [{ sopInstanceUid: inst.sopInstanceUid, earlier: at, duplicate: here[n]! }] : [];
  });
  if (clashes.length) throw duplicateUid("across_studies", clashes, sentToTarget);
}

/** Per series, the extracted files that fall short of what the source reported at discovery. */
async function shortSeries(files: string[], reported: Record<string, number>) {
  const got = new Map<string, number>();
  for (const f of files) {
    const fh = await open(f, "r");
    try {
      const head = Buffer.alloc(64 * 1024);
      const { bytesRead } = await fh.read(head, 0, head.length, 0);
      const uid = parseHeader(head.subarray(0, bytesRead), "x00200011")?.string("x0020000e")?.replace(/\0/g, "").trim() ?? "";
      got.set(uid, (got.get(uid) ?? 0) + 1);
    } finally {
      await fh.close();
    }
  }
  return Object.entries(reported)
    .filter(([uid, n]) => (got.get(uid) ?? 0) < n)
    .map(([seriesInstanceUid, n]) => ({ seriesInstanceUid, expectedInstances: n, extractedInstances: got.get(seriesInstanceUid) ?? 0 }));
}

export async function migrateStudy(
  db: EngineDb,
  m: { id: string; tenantSlug: string; plan: MigrationPlan; planVersion?: number | null },
  study: StudyRow,
  worker: string,
  runtime: MigrationRuntime = {},
  /** called with the bytes sent once the study is at the target, before it is verified (the runner starts the next study then) */
  onSent: (bytes: number) => void = () => {},
) {
  const { hooks = {}, workRoot = os.tmpdir() } = runtime;
  const held = and(
    eq(migrationStudies.migrationId, m.id),
    eq(migrationStudies.sourceId, study.sourceId),
    eq(migrationStudies.studyInstanceUid, study.studyInstanceUid),
    eq(migrationStudies.status, "in_flight"),
    eq(migrationStudies.worker, worker),
  );
  const source = m.plan.sources.find((s) => s.id === study.sourceId);
  const target = m.plan.target;
  await mkdir(workRoot, { recursive: true });
  const dir = await mkdtemp(path.join(workRoot, "migrate-"));
  // What the reviewer will see if the study is quarantined: the extracted files and the target's copy of a mismatch.
  let extracted: string[] = [];
  const targetCopies = new Map<string, string>();
  // A filesystem source's file behind each extracted copy, for a duplicate UID's evidence.
  let origins = new Map<string, string>();
  try {
    if (!source) throw new Quarantine("source_unavailable", `source ${study.sourceId} is no longer in the plan`);
    // Each attempt into a folder of its own, so a retry never counts files an earlier attempt left.
    let attempt = 0;
    const got = await withRetries(async () => {
      const files = await extractStudy(db, m.id, source, study.studyInstanceUid, path.join(dir, `extract-${++attempt}`), runtime.moveDestination);
      // What the source said it holds (at discovery) against what it gave: a study that arrives short is retried,
      // then quarantined, never recorded as migrated.
      if (study.instances && files.length < study.instances) throw new ShortStudy(study.instances, files.length);
      // The study's total can hold while a series is short (another gained an instance): counted per series too.
      const series = study.seriesInstances ? await shortSeries(files.map((f) => f.file), study.seriesInstances) : [];
      if (series.length) throw new ShortStudy(study.instances ?? files.length, files.length, series);
      return files;
    }).catch((e: Error) => {
      if (e instanceof ShortStudy) {
        const [first] = e.series;
        const what = first
          ? `series ${first.seriesInstanceUid}: the source reported ${first.expectedInstances} instances but returned ${first.extractedInstances}${e.series.length > 1 ? ` (${e.series.length} series short)` : ""}`
          : `the source reported ${e.expected} instances for this study but returned ${e.extracted}`;
        throw new Quarantine("incomplete_study", `${what} (after ${attempt} attempts)`, {
          expectedInstances: e.expected,
          extractedInstances: e.extracted,
          attempts: attempt,
          ...(e.series.length ? { series: e.series } : {}),
        });
      }
      throw new Quarantine("source_unavailable", e.message);
    });
    extracted = got.map((f) => f.file);
    origins = new Map(got.flatMap((f) => (f.sourcePath ? [[f.file, f.sourcePath] as const] : [])));
    if (!extracted.length) throw new Quarantine("source_unavailable", "the source returned no instances for this study");
    await hooks.afterExtract?.(extracted);
    // The hash at extract: what the source holds, before anything is changed.
    const locate = (i: Instance): Location => ({ sourceId: study.sourceId, studyInstanceUid: study.studyInstanceUid, seriesInstanceUid: i.seriesInstanceUid || null, sourcePath: origins.get(i.file) ?? null, sha256: i.sha256 });
    const atExtract = oncePerUid(await Promise.all(extracted.map(describe)), locate);
    // Checked before anything is sent, so the target's copy of the earlier study's instance is never replaced.
    await refuseRecordedElsewhere(db, m.id, atExtract, locate);
    // From here on each instance once (a byte-identical copy was dropped above).
    const files = atExtract.map((i) => i.file);
    // A reviewer's repair: the tag patch is applied (DCMTK dcmodify) before hashing, so the expected hash is the
    // hash of the repaired dataset.
    const patch = (study.repairPatch as RepairPatch | null) ?? [];
    if (patch.length) await applyPatch(files, patch);
    // The plan's tag rules, per source and modality, also before hashing: the target must hold the transformed dataset.
    const rules = m.plan.transforms.filter((r) => !r.sources || r.sources.includes(study.sourceId));
    if (rules.length)
      await applyTransforms(files, rules, runtime.pseudonymKey).catch((e: unknown) => {
        throw e instanceof TransformError ? new Quarantine(e.category, e.message, e.evidence) : e;
      });
    const instances = patch.length || rules.length ? await Promise.all(files.map(describe)) : atExtract;
    const targetStudyUid = instances[0]!.studyInstanceUid || study.studyInstanceUid;
    for (const inst of instances) await hooks.beforeSend?.(inst.file, inst.sopInstanceUid);
    await sendToTarget(target, instances, (what, sopInstanceUid) =>
      withRetries(what).catch((e: Error) => {
        const failures = e instanceof DicomWebError ? e.failures : undefined;
        throw new Quarantine("target_rejected", e.message, { ...(sopInstanceUid ? { sopInstanceUid } : {}), ...(failures?.length ? { failures } : {}) });
      }),
    );
    onSent(instances.reduce((n, i) => n + i.size, 0));
    // Verify at the target: what it stores now (under the study's target UID), hashed the same way.
    const stored = await withRetries(() => retrieveFromTarget(target, targetStudyUid, path.join(dir, "verify"), runtime.moveDestination)).catch((e: Error) => {
      throw new Quarantine("target_rejected", `could not retrieve the study back for verification: ${e.message}`);
    });
    await hooks.afterVerifyRetrieve?.(stored);
    const storedDescribed = await Promise.all(stored.map(describe));
    for (const i of storedDescribed) targetCopies.set(i.sopInstanceUid, i.file);
    const atTarget = new Map(storedDescribed.map((i) => [i.sopInstanceUid, i.sha256]));
    for (const inst of instances) {
      const found = atTarget.get(inst.sopInstanceUid);
      if (!found) {
        const missing = instances.filter((i) => !atTarget.has(i.sopInstanceUid)).length;
        throw new Quarantine("target_rejected", `instance ${inst.sopInstanceUid} is not at the target after sending (${missing} of ${instances.length} missing)`, {
          sopInstanceUid: inst.sopInstanceUid,
          sentInstances: instances.length,
          atTargetInstances: instances.length - missing,
          ...(study.instances ? { expectedInstances: study.instances } : {}),
        });
      }
      if (found !== inst.sha256) {
        throw new Quarantine("hash_mismatch", `instance ${inst.sopInstanceUid} differs at the target`, { sopInstanceUid: inst.sopInstanceUid, expectedSha256: inst.sha256, targetSha256: found });
      }
    }
    const now = new Date();
    const bytes = instances.reduce((n, i) => n + i.size, 0);
    const recorded = await db.transaction(async (tx) => {
      // The completion's number first (checkpoints.ts): it orders this record against the migration's checkpoints.
      const completionSeq = await nextCompletion(tx, m.id);
      // Only while this worker still holds the study: if its lease lapsed and another worker took the study over,
      // that worker records it (once).
      const mine = await tx
        .update(migrationStudies)
        .set({
          status: "migrated",
          completionSeq,
          finishedAt: now,
          leaseUntil: null,
          quarantineCategory: null,
          quarantineEvidence: null,
          targetStudyInstanceUid: targetStudyUid,
          transformApplied: rules.length || patch.length ? { rules, patch } : null,
          planVersion: m.planVersion ?? null,
        })
        .where(held)
        .returning({ status: migrationStudies.status });
      if (!mine.length) return false;
      const inserted = await tx
        .insert(migrationInstances)
        .values(
          instances.map((i, n) => ({
            migrationId: m.id,
            studyInstanceUid: study.studyInstanceUid,
            sopInstanceUid: atExtract[n]!.sopInstanceUid,
            sourceId: study.sourceId,
            seriesInstanceUid: atExtract[n]!.seriesInstanceUid || null,
            sourcePath: origins.get(atExtract[n]!.file) ?? null,
            targetSopInstanceUid: i.sopInstanceUid,
            sopClassUid: i.sopClassUid,
            sizeBytes: i.size,
            sourceSha256: atExtract[n]!.sha256,
            expectedSha256: i.sha256,
            targetSha256: atTarget.get(i.sopInstanceUid)!,
            verifiedAt: now,
          })),
        )
        .onConflictDoNothing()
        .returning({ sopInstanceUid: migrationInstances.sopInstanceUid });
      // Another study recorded one of these UIDs while this one was in flight (the check before sending found none):
      // throwing rolls this record back and quarantines the study, the earlier record stands.
      if (inserted.length < instances.length) await refuseRecordedElsewhere(tx, m.id, atExtract, locate, true);
      await tx.insert(engineEvents).values({
        tenantSlug: m.tenantSlug,
        type: "migration.study_migrated",
        payload: (() => {
          // The per-study proof (study-record.ts): its hash lands in the audit chain, the report carries its facts.
          const planVersion = m.planVersion ?? null;
          const record: StudyRecord = {
            migrationId: m.id,
            sourceId: study.sourceId,
            studyInstanceUid: study.studyInstanceUid,
            targetStudyInstanceUid: targetStudyUid,
            instances: instances.map((i, n) => ({ sourceSopInstanceUid: atExtract[n]!.sopInstanceUid, targetSopInstanceUid: i.sopInstanceUid, sourceSha256: atExtract[n]!.sha256, expectedSha256: i.sha256, targetSha256: atTarget.get(i.sopInstanceUid)! })),
            instanceCount: instances.length,
            bytes,
            migratedAt: now.toISOString(),
            ...(planVersion != null ? { planVersion } : {}),
          };
          return { migrationId: m.id, sourceId: study.sourceId, studyInstanceUid: study.studyInstanceUid, targetStudyInstanceUid: targetStudyUid, instances: instances.length, bytes, record, recordHash: studyRecordHash(record) };
        })(),
      });
      return true;
    });
    return recorded ? { status: "migrated" as const, bytes } : { status: "lost" as const, bytes };
  } catch (e) {
    const q = e instanceof Quarantine ? e : new Quarantine("transform_error", e instanceof Error ? e.message : String(e));
    const recorded = await db.transaction(async (tx) => {
      const completionSeq = await nextCompletion(tx, m.id);
      const mine = await tx
        .update(migrationStudies)
        .set({ status: "quarantined", completionSeq, finishedAt: new Date(), leaseUntil: null, quarantineCategory: q.category, quarantineEvidence: { message: q.message, ...q.evidence } })
        .where(held)
        .returning({ status: migrationStudies.status });
      if (!mine.length) return false;
      await tx.insert(engineEvents).values({
        tenantSlug: m.tenantSlug,
        type: "migration.study_quarantined",
        payload: { migrationId: m.id, sourceId: study.sourceId, studyInstanceUid: study.studyInstanceUid, category: q.category, message: q.message },
      });
      return true;
    });
    if (recorded && runtime.evidence) {
      const mismatched = q.category === "hash_mismatch" ? targetCopies.get(String(q.evidence.sopInstanceUid)) : undefined;
      const files: EvidenceFile[] = [...extracted.map((file) => ({ file, side: "source" as const })), ...(mismatched ? [{ file: mismatched, side: "target" as const }] : [])];
      // The quarantine stands even if the evidence cannot be kept; the reviewer then sees the recorded message.
      await keepEvidence(db, runtime.evidence, m.tenantSlug, { migrationId: m.id, sourceId: study.sourceId, studyInstanceUid: study.studyInstanceUid }, files).catch((err: Error) =>
        db.insert(engineEvents).values({ tenantSlug: m.tenantSlug, type: "migration.evidence_failed", payload: { migrationId: m.id, studyInstanceUid: study.studyInstanceUid, message: err.message } }),
      );
    }
    return { status: recorded ? ("quarantined" as const) : ("lost" as const), bytes: 0 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function applyPatch(files: string[], patch: RepairPatch) {
  const args = patch.flatMap((p) => (p.op === "remove" ? ["-ea", tagArg(p.tag)] : ["-i", `${tagArg(p.tag)}=${p.value ?? ""}`]));
  // -imt: removing an element a file does not have is not an error (a study's instances differ).
  await new Promise<void>((resolve, reject) =>
    execFile("dcmodify", ["-nb", "-imt", ...args, ...files], (err, _o, stderr) =>
      err ? reject(new Quarantine("transform_error", `the repair patch could not be applied: ${String(stderr).trim() || err.message}`, { patch })) : resolve(),
    ),
  );
}

const WINDOW_POLL_MS = 1000;

/** How long a claim holds without renewal: a worker that died releases its study after this. */
const LEASE_SECONDS = 60;

/**
 * Takes the next pending study of a migration (or one whose worker's lease lapsed), skipping ones another worker
 * holds, and marks it in flight under this worker's lease.
 */
async function claimNext(db: EngineDb, migrationId: string, worker: string) {
  // MATERIALIZED: the pick runs once. Inlined into the join, a LIMIT 1 … SKIP LOCKED subquery can be re-run per
  // joined row and claim several studies at once.
  const rows = await db.execute<StudyRow & Record<string, unknown>>(sql`
    with next as materialized (
      select source_id, study_instance_uid from migration_studies
      where migration_id = ${migrationId} and (status = 'pending' or (status = 'in_flight' and lease_until < now()))
        -- a pause that came while this worker waited for its cap turn stops the claim too
        and exists (select 1 from migrations where id = ${migrationId} and status = 'running')
      order by study_date nulls last limit 1 for update skip locked)
    update migration_studies s set status = 'in_flight', worker = ${worker}, lease_until = now() + make_interval(secs => ${LEASE_SECONDS})
    from next
    where s.migration_id = ${migrationId} and s.source_id = next.source_id and s.study_instance_uid = next.study_instance_uid
    returning s.migration_id as "migrationId", s.source_id as "sourceId", s.study_instance_uid as "studyInstanceUid"`);
  return rows[0] ?? null;
}

/**
 * Runs a migration until nothing is pending: `plan.concurrency` studies at a time, each claimed in the database
 * so concurrent runners never take the same study. Ends the migration as completed.
 */
export async function runMigration(db: EngineDb, migrationId: string, log: (s: string) => void, runtime: MigrationRuntime = {}) {
  const [m] = await db.select().from(migrations).where(eq(migrations.id, migrationId));
  if (!m) return;
  let plan = m.plan as MigrationPlan;
  // The approved plan version in force (plan-versions.ts): each migrated study's record names it.
  let planVersion = m.planVersion;
  const worker = `${runtime.instanceId ?? `engine-${process.pid}`}/${randomUUID().slice(0, 8)}`;
  const tally = { migrated: 0, quarantined: 0, lost: 0 };
  // Caps are per running migration in this process (a second engine process has its own).
  const rate = (bps: number | undefined) => (bps ? new ByteRate(bps) : null);
  let overall = rate(plan.bandwidth.overallBytesPerSecond);
  const perSource = new Map(plan.sources.map((s) => [s.id, rate(plan.bandwidth.perSourceBytesPerSecond)]));
  // Settings changed while running (settings.ts) apply before each worker's next study: a changed cap starts a
  // fresh budget, changed windows and concurrency are read from the plan.
  const applyPlan = (next: MigrationPlan) => {
    if (next.bandwidth.overallBytesPerSecond !== plan.bandwidth.overallBytesPerSecond) overall = rate(next.bandwidth.overallBytesPerSecond);
    if (next.bandwidth.perSourceBytesPerSecond !== plan.bandwidth.perSourceBytesPerSecond) for (const id of perSource.keys()) perSource.set(id, rate(next.bandwidth.perSourceBytesPerSecond));
    // A newly approved version may add a source: it gets the per-source cap too.
    for (const s of next.sources) if (!perSource.has(s.id)) perSource.set(s.id, rate(next.bandwidth.perSourceBytesPerSecond));
    plan = next;
  };
  // The leases of this runner's studies in flight, renewed while it works on them.
  const renew = setInterval(
    () => void db.update(migrationStudies).set({ leaseUntil: sql`now() + make_interval(secs => ${LEASE_SECONDS})` }).where(and(eq(migrationStudies.worker, worker), eq(migrationStudies.status, "in_flight"))).catch(() => {}),
    (LEASE_SECONDS * 1000) / 4,
  );
  // Workers by index: a lowered concurrency ends the highest ones, a raised one starts more (until drained).
  const live = new Set<number>();
  const running: Promise<void>[] = [];
  let drained = false;
  const spawn = () => {
    for (let i = 0; !drained && live.size < plan.concurrency && i < 16; i++) {
      if (live.has(i)) continue;
      live.add(i);
      running.push(runWorker(i).finally(() => live.delete(i)));
    }
  };
  const runWorker = async (index: number) => {
    // Each worker verifies one study while it extracts and sends the next: verification's second retrieval
    // overlaps the next study's transfer instead of adding to it. At most one verification runs behind.
    let verifying: Promise<void> = Promise.resolve();
    try {
      for (;;) {
        if (runtime.stopped?.()) return;
        // Pause takes effect before the next study: the ones in flight finish.
        const [now] = await db.select({ status: migrations.status, plan: migrations.plan, planVersion: migrations.planVersion }).from(migrations).where(eq(migrations.id, migrationId));
        if (now?.status !== "running") return;
        applyPlan(now.plan as MigrationPlan);
        planVersion = now.planVersion;
        if (index >= plan.concurrency) return;
        spawn();
        // Outside the plan's windows nothing new starts (what is in flight has finished); check again shortly.
        if (!windowOpen(plan.windows, new Date())) {
          await new Promise((r) => setTimeout(r, WINDOW_POLL_MS));
          continue;
        }
        // A higher-priority migration from the same archive goes first; this one waits its turn.
        if (await outranked(db, m.tenantSlug, migrationId, plan)) {
          await new Promise((r) => setTimeout(r, WINDOW_POLL_MS));
          continue;
        }
        // Under a cap, a study starts only when the budget allows and holds its turn until it is sent.
        const payOverall = await overall?.ready();
        const next = await claimNext(db, migrationId, worker).catch((e) => {
          payOverall?.(0);
          throw e;
        });
        if (!next) {
          payOverall?.(0);
          drained = true;
          return;
        }
        const [row] = await db
          .select()
          .from(migrationStudies)
          .where(and(eq(migrationStudies.migrationId, migrationId), eq(migrationStudies.sourceId, String(next.sourceId)), eq(migrationStudies.studyInstanceUid, String(next.studyInstanceUid))));
        const paySource = await perSource.get(row!.sourceId)?.ready();
        const pay = (bytes: number) => {
          payOverall?.(bytes);
          paySource?.(bytes);
        };
        let sent!: () => void;
        const isSent = new Promise<void>((r) => (sent = r));
        const whole = migrateStudy(db, { id: m.id, tenantSlug: m.tenantSlug, plan, planVersion }, row!, worker, runtime, (bytes) => {
          // The bytes went over the wire when the study was sent: that is what the caps count.
          pay(bytes);
          sent();
        })
          .then((outcome) => void tally[outcome.status]++)
          .finally(() => pay(0)); // a study quarantined before sending moved nothing
        await Promise.race([isSent, whole]);
        await verifying;
        verifying = whole;
      }
    } finally {
      await verifying;
    }
  };
  spawn();
  try {
    while (running.length) await Promise.all(running.splice(0));
  } finally {
    clearInterval(renew);
  }
  const completed = await db.transaction(async (tx) => {
    const done = await tx
      .update(migrations)
      .set({ status: "completed", updatedAt: new Date() })
      .where(and(eq(migrations.id, migrationId), eq(migrations.status, "running"), sql`not exists (select 1 from migration_studies where migration_id = ${migrationId} and status in ('pending', 'in_flight'))`))
      .returning({ id: migrations.id });
    if (!done.length) return false; // paused, or another runner still has studies in flight

    await tx.insert(engineEvents).values({ tenantSlug: m.tenantSlug, type: "migration.completed", payload: { migrationId, ...tally } });
    return true;
  });
  if (tally.migrated || tally.quarantined || completed) log(`migration ${migrationId}: ${tally.migrated} migrated, ${tally.quarantined} quarantined by this runner${completed ? "; completed" : ""}`);
}
