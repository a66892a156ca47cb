// Duplicate SOP Instance UIDs from a real folder source (DCMTK dcmodify sets the UIDs) to a real Orthanc target:
// two different instances of one study sharing a UID, and a study carrying a UID an earlier study of the same
// migration already migrated, are each quarantined as duplicate_uid with both locations, and the earlier study's
// record and its copy at the target stay as they were. A byte-identical copy of a file is one instance (migrated
// once), and studies with distinct UIDs migrate beside them.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { datasetBytes } from "../../../test/dcmtk";
import { startTestEngine } from "../../../test/engine";
import { approveVersion } from "../../../test/migrations";
import { startOrthanc } from "../../../test/orthanc";
import { makeCtStudy } from "../../../test/studies";
import { until } from "../../../test/until";

const TOKEN = "migration-duplicates-".padEnd(48, "d");
const tag = (file: string, t: string) => /\[(.*)\]/.exec(execFileSync("dcmdump", ["-Un", "+P", t, file]).toString())![1]!;
const sha256 = (file: string) => createHash("sha256").update(datasetBytes(readFileSync(file))).digest("hex");
/** Gives the file another instance's SOP Instance UID (dcmodify updates the meta group's copy too). */
const carryUid = (file: string, uid: string) => execFileSync("dcmodify", ["-nb", "-m", `(0008,0018)=${uid}`, file]);

type Location = { sourceId: string; studyInstanceUid: string; seriesInstanceUid: string; sourcePath: string; sha256: string };
type Row = { studyInstanceUid: string; sopInstanceUid: string; sourceSha256: string; targetSha256: string };

describe("duplicate SOP Instance UIDs", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let target: Awaited<ReturnType<typeof startOrthanc>>;
  const importRoot = mkdtempSync(path.join(os.tmpdir(), "imports-"));
  const folder = path.join(importRoot, "north", "dups");
  // Taken in date order by one worker, which overlaps a study's verification with the next study only: "earlier" is
  // recorded before "later" (fourth by date) is taken.
  const earlier = makeCtStudy(path.join(folder, "earlier"), 2, { date: "2024-05-01", patientId: "EARLIER-1" });
  const later = makeCtStudy(path.join(folder, "later"), 2, { date: "2024-05-03", patientId: "LATER-1" });
  const within = makeCtStudy(path.join(folder, "within"), 3, { date: "2024-05-02", patientId: "WITHIN-1" });
  const copied = makeCtStudy(path.join(folder, "copied"), 2, { date: "2024-05-02", patientId: "COPIED-1" });
  const distinct = makeCtStudy(path.join(folder, "distinct"), 2, { date: "2024-05-04", patientId: "DISTINCT-1" });
  const copy = path.join(folder, "copy-of-copied", "slice-0001.dcm");
  // A second pair whose later study is sent while the earlier one is still being verified (the worker overlaps them).
  const racing = path.join(importRoot, "north", "racing");
  const first = makeCtStudy(path.join(racing, "first"), 2, { date: "2024-06-01", patientId: "FIRST-1" });
  const second = makeCtStudy(path.join(racing, "second"), 2, { date: "2024-06-02", patientId: "SECOND-1" });
  let racingId = "";

  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const targetInstances = async () => {
    const out = new Map<string, { study: string; sha256: string }>();
    for (const oid of (await fetch(`${target.http}/instances`).then((r) => r.json())) as string[]) {
      const tags = (await fetch(`${target.http}/instances/${oid}/simplified-tags`).then((r) => r.json())) as { SOPInstanceUID: string; StudyInstanceUID: string };
      const bytes = datasetBytes(Buffer.from(await (await fetch(`${target.http}/instances/${oid}/file`)).arrayBuffer()));
      out.set(tags.SOPInstanceUID, { study: tags.StudyInstanceUID, sha256: createHash("sha256").update(bytes).digest("hex") });
    }
    return out;
  };

  const study = (files: string[]) => tag(files[0]!, "0020,000d");
  /** The evidence's location of files[i]: its study, series, and the source file (matched by its last two path parts). */
  const at = (files: string[], i: number, file = files[i]!): Location => ({
    sourceId: "disk",
    studyInstanceUid: study(files),
    seriesInstanceUid: tag(file, "0020,000e"),
    sourcePath: expect.stringMatching(new RegExp(`${path.basename(path.dirname(file))}/${path.basename(file)}$`)) as unknown as string,
    sha256: sha256(file),
  });

  beforeAll(async () => {
    // Within one study: slice 2 carries slice 1's UID, with its own bytes (instance number, position).
    carryUid(within[1]!, tag(within[0]!, "0008,0018"));
    // Across studies: the later study's slice 2 carries the earlier study's slice 1 UID.
    carryUid(later[1]!, tag(earlier[0]!, "0008,0018"));
    carryUid(second[1]!, tag(first[0]!, "0008,0018"));
    // The same file twice in the folder: byte for byte one instance.
    mkdirSync(path.dirname(copy), { recursive: true });
    copyFileSync(copied[0]!, copy);
    [dbs, target] = await Promise.all([createTestDatabases(), startOrthanc({ aeTitle: "DUP_DST" })]);
    // The racing pair, made deterministic: the first study is recorded only once the second has passed the check
    // before sending (and found nothing), and the second is sent only once the first is recorded, so only the
    // check when recording can catch it.
    const clashing = tag(first[0]!, "0008,0018");
    let secondChecked!: () => void;
    const checked = new Promise<void>((r) => (secondChecked = r));
    const afterVerifyRetrieve = async (files: string[]) => {
      if (files[0] && tag(files[0], "0020,000d") === study(first)) await checked;
    };
    const beforeSend = async (file: string, sopInstanceUid: string) => {
      if (sopInstanceUid !== clashing || tag(file, "0020,000d") !== study(second)) return;
      secondChecked();
      await until(() => api(`/v1/tenants/north/migrations/${racingId}/report`), (r) => (r.body.instances as Row[]).length === 2, 60_000, 200);
    };
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, env: { ENGINE_IMPORT_ROOT: importRoot }, hooks: { migration: { afterVerifyRetrieve, beforeSend } } });
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    await target?.stop();
    await dbs?.drop();
  });

  /** Creates, approves, discovers and runs a migration of one folder with one worker; its counts when completed. */
  const migrate = async (folderName: string, onCreated: (id: string) => void = () => {}) => {
    const created = await api("/v1/tenants/north/migrations", {
      method: "POST",
      body: JSON.stringify({
        name: `Duplicates in ${folderName}`,
        sources: [{ kind: "filesystem", id: "disk", path: folderName }],
        target: { kind: "dicom", aeTitle: target.aeTitle, host: "127.0.0.1", port: target.port },
        filters: { studyDateFrom: "2024-01-01", studyDateTo: "2024-12-31" },
        concurrency: 1,
      }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    onCreated(id);
    await approveVersion({ url: engine.url, token: TOKEN }, "north", id);
    await api(`/v1/tenants/north/migrations/${id}/discover`, { method: "POST" });
    const ready = await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status !== "discovering", 60_000);
    expect(ready.body.status, ready.body.lastError).toBe("ready");
    const start = await api(`/v1/tenants/north/migrations/${id}/start`, { method: "POST" });
    expect(start.status, JSON.stringify(start.body)).toBe(202);
    const done = await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "completed", 120_000, 300);
    return { id, counts: done.body.counts };
  };
  const quarantined = async (id: string) => {
    const q = (await api(`/v1/tenants/north/migrations/${id}/quarantine`)).body.studies as { studyInstanceUid: string; category: string; evidence: { message: string; locations: Location[] } & Record<string, unknown> }[];
    return new Map(q.map((s) => [s.studyInstanceUid, s]));
  };
  it("quarantines both kinds of duplicate as duplicate_uid with both locations; the earlier record stands", async () => {
    const { id, counts } = await migrate("dups");
    expect(counts).toMatchObject({ discovered: 5, migrated: 3, quarantined: 2 });
    const byStudy = await quarantined(id);
    expect([...byStudy.keys()].sort()).toEqual([study(within), study(later)].sort());

    // Within one study: both files named, in the order extracted (either may be first).
    const w = byStudy.get(study(within))!;
    expect(w).toMatchObject({ category: "duplicate_uid", evidence: { sopInstanceUid: tag(within[0]!, "0008,0018"), scope: "within_study" } });
    expect(w.evidence.locations).toHaveLength(2);
    expect(w.evidence.locations).toEqual(expect.arrayContaining([at(within, 0), at(within, 1)]));
    expect(w.evidence.message).toContain(tag(within[0]!, "0008,0018"));

    // Across studies: the earlier study's instance first, then the later study's.
    const l = byStudy.get(study(later))!;
    expect(l).toMatchObject({ category: "duplicate_uid", evidence: { sopInstanceUid: tag(earlier[0]!, "0008,0018"), scope: "across_studies", locations: [at(earlier, 0), at(later, 1)] } });
    expect(l.evidence.message).toContain(study(earlier));
    expect(l.evidence.sentToTarget).toBeUndefined();

    // The earlier study's record is its own, with its own hashes; nothing of either quarantined study is recorded.
    const report = (await api(`/v1/tenants/north/migrations/${id}/report`)).body.instances as Row[];
    const recorded = new Map(report.map((r) => [r.sopInstanceUid, r]));
    expect(new Set(report.map((r) => r.studyInstanceUid))).toEqual(new Set([study(earlier), study(copied), study(distinct)]));
    for (const f of earlier) expect(recorded.get(tag(f, "0008,0018"))).toMatchObject({ studyInstanceUid: study(earlier), sourceSha256: sha256(f), targetSha256: sha256(f) });
    // The identical copy was sent and recorded once; distinct UIDs are never flagged.
    expect(report.filter((r) => r.studyInstanceUid === study(copied))).toHaveLength(2);
    expect(report.filter((r) => r.studyInstanceUid === study(distinct))).toHaveLength(2);

    // At the target: the earlier study's instance is the earlier study's bytes, and nothing of the later study arrived.
    const stored = await targetInstances();
    expect(stored.get(tag(earlier[0]!, "0008,0018"))).toEqual({ study: study(earlier), sha256: sha256(earlier[0]!) });
    expect([...stored.values()].filter((s) => s.study === study(later) || s.study === study(within))).toEqual([]);
    expect(stored.size).toBe(6);
  }, 180_000);

  it("catches a duplicate recorded by another study while this one was in flight, when it is recorded", async () => {
    const { id, counts } = await migrate("racing", (created) => (racingId = created));
    expect(counts).toMatchObject({ discovered: 2, migrated: 1, quarantined: 1 });
    const byStudy = await quarantined(id);
    expect([...byStudy.keys()]).toEqual([study(second)]);
    expect(byStudy.get(study(second))).toMatchObject({
      category: "duplicate_uid",
      evidence: { sopInstanceUid: tag(first[0]!, "0008,0018"), scope: "across_studies", locations: [at(first, 0), at(second, 1)], sentToTarget: true },
    });
    // The first study's record was not replaced, and the second recorded nothing (its record rolled back whole).
    const report = (await api(`/v1/tenants/north/migrations/${id}/report`)).body.instances as Row[];
    expect(report.map((r) => r.studyInstanceUid)).toEqual([study(first), study(first)]);
    for (const f of first) expect(report.find((r) => r.sopInstanceUid === tag(f, "0008,0018"))).toMatchObject({ sourceSha256: sha256(f), targetSha256: sha256(f) });
  }, 180_000);
});
