// Nothing dropped at discovery: studies without a StudyDate, or with one that is not a date, are found and migrated
// beside dated ones, from a real Orthanc archive and from a folder. Date range matching alone would never find them.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { startTestEngine } from "../../../test/engine";
import { startOrthanc } from "../../../test/orthanc";
import { makeCtStudy } from "../../../test/studies";
import { until } from "../../../test/until";
import { approveVersion } from "../../../test/migrations";

const TOKEN = "migration-undated-".padEnd(48, "u");
const studyOf = (file: string) => /\[(.*)\]/.exec(execFileSync("dcmdump", ["+P", "0020,000d", file]).toString())![1]!;

describe("studies without a usable StudyDate", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let source: Awaited<ReturnType<typeof startOrthanc>>;
  let target: Awaited<ReturnType<typeof startOrthanc>>;
  const importRoot = mkdtempSync(path.join(os.tmpdir(), "undated-import-"));
  const folder = path.join(importRoot, "north", "legacy");
  mkdirSync(folder, { recursive: true });
  const dated = makeCtStudy(path.join(folder, "dated"), 2, { date: "2024-05-01" });
  const undated = makeCtStudy(path.join(folder, "undated"), 2);
  const malformed = makeCtStudy(path.join(folder, "malformed"), 1);
  const outOfRange = makeCtStudy(path.join(folder, "old"), 1, { date: "1999-01-01" });
  execFileSync("dcmodify", ["-nb", "-ea", "(0008,0020)", ...undated]);
  execFileSync("dcmodify", ["-nb", "-m", "(0008,0020)=2024-5-1", ...malformed]);
  const expected = [dated, undated, malformed].map((s) => studyOf(s[0]!)).sort();

  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const migrate = async (name: string, sources: unknown[]) => {
    const created = await api("/v1/tenants/north/migrations", {
      method: "POST",
      body: JSON.stringify({ name, sources, target: { kind: "dicom", aeTitle: target.aeTitle, host: "127.0.0.1", port: target.port }, filters: { studyDateFrom: "2024-01-01", studyDateTo: "2024-12-31" }, concurrency: 1 }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    await approveVersion({ url: engine.url, token: TOKEN }, "north", id);
    await api(`/v1/tenants/north/migrations/${id}/discover`, { method: "POST" });
    await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "ready", 60_000);
    expect((await api(`/v1/tenants/north/migrations/${id}/start`, { method: "POST" })).status).toBe(202);
    return until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "completed", 120_000, 300);
  };
  const migratedStudies = async (id: string) =>
    [...new Set(((await api(`/v1/tenants/north/migrations/${id}/report`)).body.instances as { studyInstanceUid: string }[]).map((i) => i.studyInstanceUid))].sort();

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, env: { ENGINE_IMPORT_ROOT: importRoot } });
    [source, target] = await Promise.all([startOrthanc({ aeTitle: "LEGACY" }), startOrthanc({ aeTitle: "NEWARCH", overwrite: true })]);
    for (const f of [...dated, ...undated, ...malformed, ...outOfRange]) await source.upload(f);
  }, 120_000);
  afterAll(async () => {
    await source?.stop();
    await target?.stop();
    await engine?.close();
    await dbs?.drop();
  });

  it("finds and migrates them from a DICOM archive; the study outside the range stays out", async () => {
    const done = await migrate("Undated from Orthanc", [{ kind: "dicom", id: "legacy", aeTitle: source.aeTitle, host: "127.0.0.1", port: source.port }]);
    expect(done.body.counts).toMatchObject({ discovered: 3, migrated: 3 });
    expect(await migratedStudies(done.body.id)).toEqual(expected);
  }, 180_000);

  it("finds and migrates them from a folder", async () => {
    const done = await migrate("Undated from a folder", [{ kind: "filesystem", id: "folder", path: "legacy" }]);
    expect(done.body.counts).toMatchObject({ discovered: 3, migrated: 3 });
    expect(await migratedStudies(done.body.id)).toEqual(expected);
  }, 180_000);
});
