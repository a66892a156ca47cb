// A migrated study's proof: the facts the engine recorded when it verified the study at the target, in one
// canonical form, and the SHA-256 over it. The hash goes into the `migration.study_migrated` event (and so into the
// console's tamper-evident audit chain); the verification report carries the same facts, so anyone holding the
// exported chain and the report can recompute each hash and see which study's record was edited afterwards.
// Imports only node:crypto: the offline verifier (scripts/audit-verify.ts) and migration:reverify use it as is.
import { createHash } from "node:crypto";

export type StudyRecordInstance = { sourceSopInstanceUid: string; targetSopInstanceUid: string; sourceSha256: string; expectedSha256: string; targetSha256: string };

export type StudyRecord = {
  migrationId: string;
  sourceId: string;
  studyInstanceUid: string;
  targetStudyInstanceUid: string;
  instances: StudyRecordInstance[];
  instanceCount: number;
  bytes: number;
  /** when the study was verified at the target (ISO 8601, UTC) */
  migratedAt: string;
  /** the plan's version, when the migration has versioned plans */
  planVersion?: number | null;
};

const text = (v: unknown) => JSON.stringify(String(v));

/**
 * The canonical bytes: version 1, keys in a fixed order, instances ordered by source SOP Instance UID, numbers as
 * integers, no whitespace. planVersion appears only when the migration has one.
 */
export function studyRecordCanonical(r: StudyRecord): string {
  const instances = [...r.instances]
    .sort((a, b) => (a.sourceSopInstanceUid < b.sourceSopInstanceUid ? -1 : a.sourceSopInstanceUid > b.sourceSopInstanceUid ? 1 : 0))
    .map(
      (i) =>
        `{"sourceSopInstanceUid":${text(i.sourceSopInstanceUid)},"targetSopInstanceUid":${text(i.targetSopInstanceUid)},` +
        `"sourceSha256":${text(i.sourceSha256)},"expectedSha256":${text(i.expectedSha256)},"targetSha256":${text(i.targetSha256)}}`,
    );
  return (
    `{"v":1,"migrationId":${text(r.migrationId)},"sourceId":${text(r.sourceId)},"studyInstanceUid":${text(r.studyInstanceUid)},` +
    `"targetStudyInstanceUid":${text(r.targetStudyInstanceUid)},"instanceCount":${Math.trunc(r.instanceCount)},"bytes":${Math.trunc(r.bytes)},` +
    `"migratedAt":${text(new Date(r.migratedAt).toISOString())},${r.planVersion != null ? `"planVersion":${Math.trunc(r.planVersion)},` : ""}"instances":[${instances.join(",")}]}`
  );
}

export const studyRecordHash = (r: StudyRecord) => createHash("sha256").update(studyRecordCanonical(r), "utf8").digest("hex");

/** JSON with object keys sorted by code point and no whitespace (the same rule as the audit export's). */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The verification report's own integrity: SHA-256 over its canonical JSON without `reportSha256`. It catches a
 * report damaged or edited after export; that the records inside are the ones the engine had at the time is what
 * the audit chain's recordHash entries prove.
 */
export function reportSha256(report: Record<string, unknown>): string {
  const { reportSha256: _omit, ...content } = report;
  return createHash("sha256").update(canonicalJson(content), "utf8").digest("hex");
}
