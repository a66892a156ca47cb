// Closeout proofs against real archives (two Debian Orthanc): the reconciliation asks the source and the target
// again and names what does not match the engine's records (a study deleted at the target, a study added to the
// source after discovery); the verification report carries each study's record and its hash.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { startTestEngine } from "../../../test/engine";
import { startOrthanc } from "../../../test/orthanc";
import { makeCtStudy, makeStudies } from "../../../test/studies";
import { until } from "../../../test/until";
import { VerificationReport } from "../../api/contract";
import { walkFolder } from "../reconcile";
import { reportSha256, studyRecordHash } from "../study-record";
import { approveVersion } from "../../../test/migrations";

const TOKEN = "reconcile-token-".padEnd(48, "r");

describe("closeout reconciliation from independent facts", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let source: Awaited<ReturnType<typeof startOrthanc>>;
  let target: Awaited<ReturnType<typeof startOrthanc>>;
  let webTarget: Awaited<ReturnType<typeof startOrthanc>>;
  const importRoot = mkdtempSync(path.join(os.tmpdir(), "reconcile-import-"));
  let engineDb: postgres.Sql;
  let id: string;
  const singles = makeStudies(3, ["2024-02-01", "2024-02-02", "2024-02-03"]);
  const ct = makeCtStudy(mkdtempSync(path.join(os.tmpdir(), "ct-study-")), 3, { date: "2024-02-04" });

  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const reconcile = () => api(`/v1/tenants/north/migrations/${id}/reconciliation`, { method: "POST" });

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, env: { ENGINE_IMPORT_ROOT: importRoot } });
    engineDb = postgres(dbs.engineUrl, { max: 2, onnotice: () => {} });
    [source, target, webTarget] = await Promise.all([startOrthanc({ aeTitle: "LEGACY" }), startOrthanc({ aeTitle: "NEWARCH" }), startOrthanc({ aeTitle: "WEBARCH", dicomWeb: true })]);
    for (const f of [...singles.map((s) => s.file), ...ct]) await source.upload(f);
    const created = await api("/v1/tenants/north/migrations", {
      method: "POST",
      body: JSON.stringify({
        name: "Reconciled",
        sources: [{ kind: "dicom", id: "legacy", aeTitle: source.aeTitle, host: "127.0.0.1", port: source.port }],
        target: { kind: "dicom", aeTitle: target.aeTitle, host: "127.0.0.1", port: target.port },
        filters: { studyDateFrom: "2024-01-01", studyDateTo: "2024-12-31" },
      }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    id = created.body.id;
    await approveVersion({ url: engine.url, token: TOKEN }, "north", id);
    await api(`/v1/tenants/north/migrations/${id}/discover`, { method: "POST" });
    await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "ready", 60_000);
    await api(`/v1/tenants/north/migrations/${id}/start`, { method: "POST" });
    const done = await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "completed", 120_000, 500);
    expect(done.body.counts).toMatchObject({ discovered: 4, migrated: 4 });
  }, 180_000);
  afterAll(async () => {
    await engineDb?.end();
    await source?.stop();
    await target?.stop();
    await webTarget?.stop();
    await engine?.close();
    await dbs?.drop();
  });

  it("balances on a fresh migration, and is kept with its time", async () => {
    expect((await api(`/v1/tenants/north/migrations/${id}/reconciliation`)).status).toBe(404); // never run
    const r = await reconcile();
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ balanced: true, differences: [], target: { studiesChecked: 4, instancesExpected: 6, instancesPresent: 6 } });
    expect(r.body.sources).toEqual([expect.objectContaining({ source: "legacy", studiesAtSource: 4, instancesAtSource: 6, migrated: 4 })]);
    expect((await api(`/v1/tenants/north/migrations/${id}/reconciliation`)).body).toEqual(r.body);
    // Another tenant cannot run or read it.
    expect((await api(`/v1/tenants/south/migrations/${id}/reconciliation`, { method: "POST" })).status).toBe(404);
    expect((await api(`/v1/tenants/south/migrations/${id}/reconciliation`)).status).toBe(404);
  });

  it("carries each study's record, whose hash matches the one in its migration.study_migrated event", async () => {
    const report = VerificationReport.parse((await api(`/v1/tenants/north/migrations/${id}/report`)).body);
    expect(report.studies).toHaveLength(4);
    expect(report.instances).toHaveLength(6);
    expect(reportSha256(report)).toBe(report.reportSha256);
    const events = (await api("/v1/events?after=0&limit=1000")).body.events.filter((e: { type: string }) => e.type === "migration.study_migrated");
    for (const s of report.studies) {
      expect(studyRecordHash(s.record)).toBe(s.recordHash);
      const e = events.find((e: { payload: { studyInstanceUid: string } }) => e.payload.studyInstanceUid === s.record.studyInstanceUid);
      expect(e.payload.recordHash, s.record.studyInstanceUid).toBe(s.recordHash);
    }
    // A row edited afterwards changes the report's record hash for that study (the event keeps the original).
    const victim = report.studies[0]!.record;
    await engineDb`update migration_instances set target_sha256 = ${"0".repeat(64)} where migration_id = ${id} and study_instance_uid = ${victim.studyInstanceUid}`;
    const after = VerificationReport.parse((await api(`/v1/tenants/north/migrations/${id}/report`)).body);
    expect(after.studies.find((s) => s.record.studyInstanceUid === victim.studyInstanceUid)!.recordHash).not.toBe(report.studies[0]!.recordHash);
    await engineDb`update migration_instances set target_sha256 = source_sha256 where migration_id = ${id} and study_instance_uid = ${victim.studyInstanceUid}`;
  });

  it("names a study deleted at the target and a study added to the source after discovery", async () => {
    const report = VerificationReport.parse((await api(`/v1/tenants/north/migrations/${id}/report`)).body);
    const ctStudy = report.studies.find((s) => s.record.instanceCount === 3)!.record;
    const [orthancId] = (await fetch(`${target.http}/tools/lookup`, { method: "POST", body: ctStudy.targetStudyInstanceUid }).then((r) => r.json())) as { ID: string }[];
    expect((await fetch(`${target.http}/studies/${orthancId!.ID}`, { method: "DELETE" })).status).toBe(200);
    const [late] = makeStudies(1, ["2024-03-09"]);
    await source.upload(late!.file);
    // One more instance in an already migrated study, at the source.
    const grown = path.join(mkdtempSync(path.join(os.tmpdir(), "grown-")), "extra.dcm");
    copyFileSync(singles[0]!.file, grown);
    execFileSync("dcmodify", ["-nb", "-gin", grown]);
    await source.upload(grown);
    const grownUid = report.studies.find((s) => s.record.instances.some((i) => i.sourceSopInstanceUid === /\[(.*)\]/.exec(execFileSync("dcmdump", ["+P", "0008,0018", singles[0]!.file]).toString())![1]))!.record.studyInstanceUid;
    const r = await reconcile();
    expect(r.body.balanced).toBe(false);
    expect(r.body.target).toMatchObject({ studiesChecked: 4, instancesExpected: 6, instancesPresent: 3 });
    const kinds = Object.fromEntries(r.body.differences.map((d: { kind: string; message: string; studyInstanceUid: string }) => [d.kind, d]));
    expect(kinds.missing_at_target).toMatchObject({ studyInstanceUid: ctStudy.studyInstanceUid, message: `study ${ctStudy.studyInstanceUid}: migrated, but the target no longer holds it (0 of 3 instances)` });
    expect(kinds.never_discovered.message).toMatch(/^study [0-9.]+ at source legacy was never discovered/);
    expect(kinds.instance_count_changed.message).toBe(`study ${grownUid}: source now reports 2 instances, 1 were migrated`);
    expect(r.body.differences).toHaveLength(3);
  });

  it("walks a folder source again and asks a STOW-RS target by QIDO-RS", async () => {
    const folder = path.join(importRoot, "north", "scans");
    mkdirSync(folder, { recursive: true });
    const files = makeStudies(2, ["2024-05-01", "2024-05-02"]);
    files.forEach((s, i) => copyFileSync(s.file, path.join(folder, `${i}.dcm`)));
    const created = await api("/v1/tenants/north/migrations", {
      method: "POST",
      body: JSON.stringify({ name: "Folder to DICOMweb", sources: [{ kind: "filesystem", id: "disk", path: "scans" }], target: { kind: "stow-rs", url: webTarget.dicomWebUrl }, filters: { studyDateFrom: "2024-01-01", studyDateTo: "2024-12-31" } }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const fid = created.body.id as string;
    await approveVersion({ url: engine.url, token: TOKEN }, "north", fid);
    await api(`/v1/tenants/north/migrations/${fid}/discover`, { method: "POST" });
    await until(() => api(`/v1/tenants/north/migrations/${fid}`), (r) => r.body.status === "ready", 60_000);
    await api(`/v1/tenants/north/migrations/${fid}/start`, { method: "POST" });
    await until(() => api(`/v1/tenants/north/migrations/${fid}`), (r) => r.body.status === "completed", 120_000, 500);
    const fresh = await api(`/v1/tenants/north/migrations/${fid}/reconciliation`, { method: "POST" });
    expect(fresh.body, JSON.stringify(fresh.body)).toMatchObject({ balanced: true, differences: [], target: { studiesChecked: 2, instancesPresent: 2 } });

    const [late] = makeStudies(1, ["2024-05-03"]);
    copyFileSync(late!.file, path.join(folder, "late.dcm"));
    const oid = ((await fetch(`${webTarget.http}/studies`).then((r) => r.json())) as string[])[0]!;
    await fetch(`${webTarget.http}/studies/${oid}`, { method: "DELETE" });
    const r = await api(`/v1/tenants/north/migrations/${fid}/reconciliation`, { method: "POST" });
    expect(r.body.balanced).toBe(false);
    expect(r.body.differences.map((d: { kind: string }) => d.kind).sort()).toEqual(["missing_at_target", "never_discovered"]);
    expect(r.body.differences.find((d: { kind: string }) => d.kind === "never_discovered").message).toMatch(/at source disk was never discovered \(1 instance\)/);
  }, 180_000);

  it("inventories a folder target by the SOP instance UIDs in its files' meta groups", async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), "export-target-"));
    const slices = makeCtStudy(path.join(folder, "P1", "S1"), 2);
    const sops = slices.map((f) => /\[(.*)\]/.exec(execFileSync("dcmdump", ["+P", "0008,0018", f]).toString())![1]);
    const study = /\[(.*)\]/.exec(execFileSync("dcmdump", ["+P", "0020,000d", slices[0]!]).toString())![1]!;
    expect(new Set((await walkFolder(folder)).get(study))).toEqual(new Set(sops));
  });
});
