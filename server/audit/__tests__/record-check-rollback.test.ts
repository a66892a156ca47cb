// The record check after a rollback to a checkpoint: the studies a `migration.rolled_back` entry put back are no
// longer expected in the report until a redo seals them again, and then the redo's record is the one checked.
import { describe, expect, it } from "vitest";
import { reportSha256, studyRecordHash, type StudyRecord } from "../../../engine/migration/study-record";
import { createMigrationRecordCheck } from "../verifier";

const MIGRATION = "7d0c5a52-2b3c-4d5e-8f90-0123456789ab";
const record = (uid: string, sha: string): StudyRecord => ({
  migrationId: MIGRATION,
  sourceId: "legacy",
  studyInstanceUid: uid,
  targetStudyInstanceUid: uid,
  instances: [{ sourceSopInstanceUid: `${uid}.1`, targetSopInstanceUid: `${uid}.1`, sourceSha256: sha, expectedSha256: sha, targetSha256: sha }],
  instanceCount: 1,
  bytes: 100,
  migratedAt: "2026-12-01T10:00:00.000Z",
});
const line = (seq: number, action: string, after: Record<string, unknown>) => JSON.stringify({ entry: { seq, action, after } });
const sealed = (seq: number, r: StudyRecord) => line(seq, "migration.study_migrated", { migrationId: MIGRATION, studyInstanceUid: r.studyInstanceUid, recordHash: studyRecordHash(r), record: r });
const reportOf = (records: StudyRecord[]) => {
  const body = { migrationId: MIGRATION, studies: records.map((r) => ({ record: r, recordHash: studyRecordHash(r) })) };
  return { ...body, reportSha256: reportSha256(body) };
};

describe("migration record check across a rollback", () => {
  const a = record("1.2.1", "a".repeat(64));
  const b = record("1.2.2", "b".repeat(64));
  const rolledBack = line(3, "migration.rolled_back", { migrationId: MIGRATION, studies: [{ studyInstanceUid: b.studyInstanceUid, previousRecordHash: studyRecordHash(b) }] });

  it("a study rolled back and not yet redone is not missing from the report", () => {
    const check = createMigrationRecordCheck(reportOf([a]));
    for (const l of [sealed(1, a), sealed(2, b), rolledBack]) check.line(l);
    expect(check.finish()).toMatchObject({ ok: true, sealed: 1 });
  });

  it("a redone study is checked against the redo's record, not the first one", () => {
    const redo = { ...record("1.2.2", "c".repeat(64)), migratedAt: "2026-12-02T10:00:00.000Z" };
    const check = createMigrationRecordCheck(reportOf([a, redo]));
    for (const l of [sealed(1, a), sealed(2, b), rolledBack, sealed(4, redo)]) check.line(l);
    expect(check.finish()).toMatchObject({ ok: true, sealed: 2 });
    // Without the rollback entry the first record would still be expected: a study missing from the chain's view.
    const without = createMigrationRecordCheck(reportOf([a]));
    for (const l of [sealed(1, a), sealed(2, b)]) without.line(l);
    expect(without.finish().problems.map((p) => p.studyInstanceUid)).toEqual([b.studyInstanceUid]);
  });
});
