// migration:reverify as an auditor runs it: a separate process with the exported report file and access to the
// target (a real Orthanc, by C-GET and by WADO-RS), no engine database. It signs what it found; it fails naming a
// study deleted at the target; it refuses a report that was edited or is not a report.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../test/databases";
import { startTestEngine } from "../../test/engine";
import { startOrthanc } from "../../test/orthanc";
import { makeCtStudy, makeStudies } from "../../test/studies";
import { until } from "../../test/until";
import { checkStatement } from "../migration-reverify";
import { approveVersion } from "../../test/migrations";

const TOKEN = "reverify-token-".padEnd(48, "v");
const SCRIPT = path.resolve(import.meta.dirname, "../migration-reverify.ts");
const TSX = path.resolve(import.meta.dirname, "../../node_modules/.bin/tsx");

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(TSX, [SCRIPT, ...args], { env: { ...process.env, TCP_NODELAY: "1" }, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    ),
  );
}

describe("migration:reverify", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let source: Awaited<ReturnType<typeof startOrthanc>>;
  let target: Awaited<ReturnType<typeof startOrthanc>>;
  const dir = mkdtempSync(path.join(os.tmpdir(), "reverify-test-"));
  const reportFile = path.join(dir, "report.json");
  const keyFile = path.join(dir, "auditor.pem");
  let report: { migrationId: string; studies: { record: { studyInstanceUid: string; targetStudyInstanceUid: string; instanceCount: number } }[] };

  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    [source, target] = await Promise.all([startOrthanc({ aeTitle: "LEGACY" }), startOrthanc({ aeTitle: "NEWARCH", dicomWeb: true })]);
    for (const f of [...makeStudies(2, ["2024-02-01", "2024-02-02"]).map((s) => s.file), ...makeCtStudy(path.join(dir, "ct"), 3, { date: "2024-02-04" })]) await source.upload(f);
    const created = await api("/v1/tenants/north/migrations", {
      method: "POST",
      body: JSON.stringify({
        name: "Reverified",
        sources: [{ kind: "dicom", id: "legacy", aeTitle: source.aeTitle, host: "127.0.0.1", port: source.port }],
        target: { kind: "dicom", aeTitle: target.aeTitle, host: "127.0.0.1", port: target.port },
        filters: { studyDateFrom: "2024-01-01", studyDateTo: "2024-12-31" },
      }),
    });
    const id = created.body.id as string;
    await approveVersion({ url: engine.url, token: TOKEN }, "north", id);
    await api(`/v1/tenants/north/migrations/${id}/discover`, { method: "POST" });
    await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "ready", 60_000);
    await api(`/v1/tenants/north/migrations/${id}/start`, { method: "POST" });
    await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "completed", 120_000, 500);
    report = (await api(`/v1/tenants/north/migrations/${id}/report`)).body;
    writeFileSync(reportFile, JSON.stringify(report));
  }, 180_000);
  afterAll(async () => {
    await source?.stop();
    await target?.stop();
    await engine?.close();
    await dbs?.drop();
  });

  it("passes on a fresh migration by C-GET and by WADO-RS, and signs a statement that can be checked", async () => {
    const out = path.join(dir, "statement.json");
    const r = await run(["--report", reportFile, "--target", `${target.aeTitle}@127.0.0.1:${target.port}`, "--key", keyFile, "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/generated an Ed25519 key/);
    expect(r.stderr).toContain("VERIFIED: 5 instances match the report");
    const doc = JSON.parse(readFileSync(out, "utf8"));
    expect(doc.statement).toMatchObject({ format: "imgops-reverify-statement/1", migrationId: report.migrationId, checked: 5, matched: 5, ok: true, sample: null });
    expect(r.stderr).toContain(doc.publicKey);
    expect(checkStatement(doc)).toBe(true);
    expect(checkStatement({ ...doc, statement: { ...doc.statement, matched: 4 } })).toBe(false);
    expect((await run(["--check", out, "--public-key", doc.publicKey])).code).toBe(0);

    // A seeded sample over DICOMweb: the seed is recorded and the same seed picks the same instances.
    const a = await run(["--report", reportFile, "--target", `${target.http}/dicom-web`, "--key", keyFile, "--sample", "2", "--seed", "audit-2026"]);
    const b = await run(["--report", reportFile, "--target", `${target.http}/dicom-web`, "--key", keyFile, "--sample", "2", "--seed", "audit-2026"]);
    expect(a.code, a.stderr).toBe(0);
    const sa = JSON.parse(a.stdout).statement;
    expect(sa).toMatchObject({ sample: { n: 2, seed: "audit-2026" }, checked: 2, ok: true });
    expect(JSON.parse(b.stdout).statement.results).toEqual(sa.results);
  }, 120_000);

  it("refuses a tampered or malformed report", async () => {
    const edited = JSON.parse(readFileSync(reportFile, "utf8"));
    edited.studies[0].record.instances[0].targetSha256 = "0".repeat(64);
    writeFileSync(path.join(dir, "edited.json"), JSON.stringify(edited));
    const r = await run(["--report", path.join(dir, "edited.json"), "--target", `${target.aeTitle}@127.0.0.1:${target.port}`, "--key", keyFile]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("was changed after export");
    writeFileSync(path.join(dir, "junk.json"), JSON.stringify({ migrationId: "x", instances: [] }));
    const j = await run(["--report", path.join(dir, "junk.json"), "--target", `${target.aeTitle}@127.0.0.1:${target.port}`, "--key", keyFile]);
    expect(j.code).toBe(2);
    expect(j.stderr).toContain("is not a valid verification report");
    expect((await run(["--report", reportFile, "--target", "not a peer", "--key", keyFile])).stderr).toContain("neither AET@host:port");
  }, 60_000);

  it("fails naming the study deleted at the target", async () => {
    const ct = report.studies.find((s) => s.record.instanceCount === 3)!.record;
    const [found] = (await fetch(`${target.http}/tools/lookup`, { method: "POST", body: ct.targetStudyInstanceUid }).then((r) => r.json())) as { ID: string }[];
    await fetch(`${target.http}/studies/${found!.ID}`, { method: "DELETE" });
    const r = await run(["--report", reportFile, "--target", `${target.aeTitle}@127.0.0.1:${target.port}`, "--key", keyFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("FAILED: 3 of 5 instances do not match");
    expect(r.stderr).toContain(`MISSING: study ${ct.studyInstanceUid} instance`);
    expect(JSON.parse(r.stdout).statement.ok).toBe(false);
  }, 60_000);
});
