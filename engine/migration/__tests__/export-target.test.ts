// The filesystem export target against the real engine: studies from a folder source become a PS3.10 file-set
// (patient/study/series folders and a DICOMDIR made by DCMTK), and everything is checked from outside: dcmdump
// reads the DICOMDIR and lists every study, series and image, and each file's dataset hash, computed here from
// the bytes on disk, equals the one the verification report recorded. Refusals: a path outside the tenant's export
// folder, one that cannot be written, and an engine without ENGINE_EXPORT_ROOT.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { datasetBytes } from "../../../test/dcmtk";
import { startTestEngine } from "../../../test/engine";
import { makeCtStudy, makeStudies } from "../../../test/studies";
import { until } from "../../../test/until";
import { resolveExportPath } from "../export-target";
import { approveVersion } from "../../../test/migrations";

const TOKEN = "export-target-".padEnd(48, "x");
const sha = (file: string) => createHash("sha256").update(datasetBytes(readFileSync(file))).digest("hex");

/** dcmdump's reading of the DICOMDIR: every directory record's type and, for images, the file it references. */
function dicomdirRecords(dicomdir: string) {
  const dump = execFileSync("dcmdump", ["-q", dicomdir]).toString();
  const types = [...dump.matchAll(/\(0004,1430\) CS \[(\w+)\s*\]/g)].map((m) => m[1]!);
  const files = [...dump.matchAll(/\(0004,1500\) CS \[([^\]]+)\]/g)].map((m) => m[1]!.trim().split("\\").join("/"));
  const uids = (tag: string) => [...dump.matchAll(new RegExp(`\\(${tag}\\) UI \\[([^\\]]+)\\]`, "g"))].map((m) => m[1]!.replace(/\0/g, "").trim());
  return { types, files, studyUids: new Set(uids("0020,000d")), seriesUids: new Set(uids("0020,000e")), referencedSops: new Set(uids("0004,1511")) };
}

describe("filesystem export target", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  const importRoot = mkdtempSync(path.join(os.tmpdir(), "export-import-"));
  const exportRoot = mkdtempSync(path.join(os.tmpdir(), "export-root-"));
  const scans = path.join(importRoot, "north", "scans");

  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const create = (target: unknown) =>
    api("/v1/tenants/north/migrations", {
      method: "POST",
      body: JSON.stringify({ name: "export", sources: [{ kind: "filesystem", id: "scans", path: "scans" }], target, filters: { studyDateFrom: "2024-01-01", studyDateTo: "2024-12-31" } }),
    });

  beforeAll(async () => {
    // Single-instance studies of several modalities, and two multi-slice CT studies (one series of several images).
    mkdirSync(scans, { recursive: true });
    makeStudies(4, ["2024-06-01", "2024-06-02"], ["CT", "MR", "RTDOSE", "OT"]).forEach((s, i) => copyFileSync(s.file, path.join(scans, `single${i}.dcm`)));
    makeCtStudy(path.join(scans, "ct1"), 3, { date: "2024-06-03", patientId: "EXP-1" });
    makeCtStudy(path.join(scans, "ct2"), 2, { date: "2024-06-04", patientId: "EXP-2" });
    mkdirSync(path.join(exportRoot, "north"), { recursive: true });
    writeFileSync(path.join(exportRoot, "north", "a-file"), "not a folder");
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, env: { ENGINE_IMPORT_ROOT: importRoot, ENGINE_EXPORT_ROOT: exportRoot } });
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    await dbs?.drop();
  });

  it("writes a DICOMDIR file-set that dcmdump lists in full, with the hashes the verification report recorded", async () => {
    const created = await create({ kind: "filesystem", path: "handoff" });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    await approveVersion({ url: engine.url, token: TOKEN }, "north", id);
    await api(`/v1/tenants/north/migrations/${id}/discover`, { method: "POST" });
    const ready = await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status !== "discovering", 60_000);
    expect(ready.body.status, ready.body.lastError).toBe("ready");
    await api(`/v1/tenants/north/migrations/${id}/start`, { method: "POST" });
    const done = await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "completed", 120_000, 300);
    expect(done.body.counts).toMatchObject({ migrated: 6, quarantined: 0 });

    const report = (await api(`/v1/tenants/north/migrations/${id}/report?format=json`)).body as { instances: { targetStudyInstanceUid: string; targetSopInstanceUid: string; targetSha256: string; expectedSha256: string }[] };
    expect(report.instances).toHaveLength(9);
    const root = path.join(exportRoot, "north", "handoff");
    const dir = dicomdirRecords(path.join(root, "DICOMDIR"));
    expect(dir.types.filter((t) => t === "STUDY")).toHaveLength(6);
    expect(dir.types.filter((t) => t === "SERIES")).toHaveLength(6);
    expect(dir.files).toHaveLength(9);
    for (const inst of report.instances) {
      expect(dir.studyUids).toContain(inst.targetStudyInstanceUid);
      expect(dir.referencedSops).toContain(inst.targetSopInstanceUid);
    }
    // Each referenced file: a valid DICOM file ID (≤8 uppercase characters per component), and the hash of its
    // dataset bytes on disk equals what the report says was verified (and expected).
    const bySop = new Map(report.instances.map((i) => [i.targetSopInstanceUid, i]));
    for (const fileId of dir.files) {
      for (const c of fileId.split("/")) expect(c).toMatch(/^[A-Z0-9_]{1,8}$/);
      const file = path.join(root, ...fileId.split("/"));
      const sop = /\[(.*)\]/.exec(execFileSync("dcmdump", ["-q", "+P", "0008,0018", file]).toString())![1]!.replace(/\0/g, "").trim();
      const inst = bySop.get(sop)!;
      expect(sha(file)).toBe(inst.targetSha256);
      expect(inst.targetSha256).toBe(inst.expectedSha256);
    }
    // The check can fail: one changed byte on the medium no longer matches the report.
    const tampered = path.join(root, ...dir.files[0]!.split("/"));
    const bytes = readFileSync(tampered);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    writeFileSync(tampered, bytes);
    expect(report.instances.map((i) => i.targetSha256)).not.toContain(sha(tampered));
  }, 240_000);

  it("refuses a target outside the tenant's export folder, one it cannot write, and engines without an export root", async () => {
    const outside = await create({ kind: "filesystem", path: "../south/stolen" });
    expect(outside.status).toBe(422);
    expect(outside.body.fields["target.path"]).toHaveLength(1);
    expect(JSON.stringify(outside.body)).toMatch(/outside this tenant's export folder/);
    const absolute = await create({ kind: "filesystem", path: os.tmpdir() });
    expect(absolute.status).toBe(422);
    const notWritable = await create({ kind: "filesystem", path: "a-file/inside" });
    expect(notWritable.status).toBe(422);
    expect(JSON.stringify(notWritable.body)).toMatch(/cannot be made a folder the engine writes to \(ENOTDIR\)/);
    expect(await resolveExportPath("x", undefined, "north")).toEqual({ problem: expect.stringMatching(/ENGINE_EXPORT_ROOT is not set/) });
    const probe = await api("/v1/tenants/north/connection-tests", { method: "POST", body: JSON.stringify({ role: "target", endpoint: { kind: "filesystem", path: "../south" } }) });
    expect(JSON.stringify(probe.body)).toMatch(/outside this tenant's export folder/);
  });
});
