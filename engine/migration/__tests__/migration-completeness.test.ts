// Completeness per study against real Orthanc archives: the source's C-FIND says how many instances a study has;
// a study the source then serves short (an instance deleted after discovery) is retried, then quarantined as
// incomplete_study with the counts, and never counted as migrated. A whole study migrates beside it.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { startTestEngine } from "../../../test/engine";
import { startOrthanc } from "../../../test/orthanc";
import { makeCtStudy } from "../../../test/studies";
import { until } from "../../../test/until";
import { approveVersion } from "../../../test/migrations";

const TOKEN = "migration-completeness-".padEnd(48, "c");
const tag = (file: string, t: string) => /\[(.*)\]/.exec(execFileSync("dcmdump", ["+P", t, file]).toString())![1]!;

describe("completeness per study", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let source: Awaited<ReturnType<typeof startOrthanc>>;
  let target: Awaited<ReturnType<typeof startOrthanc>>;
  const dir = mkdtempSync(path.join(os.tmpdir(), "completeness-"));
  const short = makeCtStudy(path.join(dir, "short"), 3, { date: "2024-05-01", patientId: "SHORT-1" });
  const whole = makeCtStudy(path.join(dir, "whole"), 2, { date: "2024-05-02", patientId: "WHOLE-1" });
  // Two series of two; after discovery one series loses an instance and the other gains one: the total holds.
  const mixed = makeCtStudy(path.join(dir, "mixed"), 4, { date: "2024-05-03", patientId: "MIXED-1" });
  const secondSeries = `2.25.${Date.now()}7`;
  for (const f of mixed.slice(2)) execFileSync("dcmodify", ["-nb", "-m", `(0020,000E)=${secondSeries}`, f]);
  const extra = path.join(dir, "mixed-extra.dcm");

  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    [source, target] = await Promise.all([startOrthanc({ aeTitle: "LEGACY" }), startOrthanc({ aeTitle: "NEWARCH" })]);
    for (const f of [...short, ...whole, ...mixed]) await source.upload(f);
    execFileSync("cp", [mixed[0]!, extra]);
    execFileSync("dcmodify", ["-nb", "-gin", extra]);
  }, 120_000);
  afterAll(async () => {
    await source?.stop();
    await target?.stop();
    await engine?.close();
    await dbs?.drop();
  });

  it("quarantines a study the source serves short as incomplete_study, with the counts", async () => {
    const created = await api("/v1/tenants/north/migrations", {
      method: "POST",
      body: JSON.stringify({
        name: "Completeness",
        sources: [{ kind: "dicom", id: "legacy", aeTitle: source.aeTitle, host: "127.0.0.1", port: source.port }],
        target: { kind: "dicom", aeTitle: target.aeTitle, host: "127.0.0.1", port: target.port },
        filters: { studyDateFrom: "2024-01-01", studyDateTo: "2024-12-31" },
        concurrency: 1,
      }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    await approveVersion({ url: engine.url, token: TOKEN }, "north", id);
    await api(`/v1/tenants/north/migrations/${id}/discover`, { method: "POST" });
    await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "ready", 60_000);

    // After discovery counted 3, the archive loses one of them.
    const [found] = (await fetch(`${source.http}/tools/lookup`, { method: "POST", body: tag(short[1]!, "0008,0018") }).then((r) => r.json())) as { ID: string }[];
    expect((await fetch(`${source.http}/instances/${found!.ID}`, { method: "DELETE" })).ok).toBe(true);
    const [lost] = (await fetch(`${source.http}/tools/lookup`, { method: "POST", body: tag(mixed[3]!, "0008,0018") }).then((r) => r.json())) as { ID: string }[];
    expect((await fetch(`${source.http}/instances/${lost!.ID}`, { method: "DELETE" })).ok).toBe(true);
    await source.upload(extra);

    const start = await api(`/v1/tenants/north/migrations/${id}/start`, { method: "POST" });
    expect(start.status, JSON.stringify(start.body)).toBe(202);
    const done = await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "completed", 120_000, 300);
    expect(done.body.counts).toMatchObject({ migrated: 1, quarantined: 2 });

    const q = await api(`/v1/tenants/north/migrations/${id}/quarantine`);
    expect(q.body.studies).toHaveLength(2);
    // The study's total still holds (4 of 4); the per-series counts from discovery find the short series and name it.
    expect(q.body.studies.find((s: { studyInstanceUid: string }) => s.studyInstanceUid === tag(mixed[0]!, "0020,000d"))).toMatchObject({
      category: "incomplete_study",
      evidence: { expectedInstances: 4, extractedInstances: 4, series: [{ seriesInstanceUid: secondSeries, expectedInstances: 2, extractedInstances: 1 }] },
    });
    expect(q.body.studies.find((s: { studyInstanceUid: string }) => s.studyInstanceUid === tag(short[0]!, "0020,000d"))).toMatchObject({
      studyInstanceUid: tag(short[0]!, "0020,000d"),
      category: "incomplete_study",
      evidence: { expectedInstances: 3, extractedInstances: 2, attempts: 3 },
    });
    // Nothing of the short study is recorded as verified; the whole one is.
    const report = await api(`/v1/tenants/north/migrations/${id}/report`);
    const studiesInReport = new Set((report.body.instances as { studyInstanceUid: string }[]).map((i) => i.studyInstanceUid));
    expect([...studiesInReport]).toEqual([tag(whole[0]!, "0020,000d")]);
  }, 180_000);
});
