// Per-study migration records in the tamper-evident chain: a real migration (two Debian Orthanc), its
// migration.study_migrated events ingested into the tenant's chain by the console, the chain exported and the
// engine's verification report exported; `audit:verify --migration-report` passes, and after one row of the
// engine database is edited and the report exported again it fails naming that study.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useConsoleDatabase } from "../../../test/console-db";
import { startTestEngine } from "../../../test/engine";
import { startOrthanc } from "../../../test/orthanc";
import { makeCtStudy, makeStudies } from "../../../test/studies";
import { until } from "../../../test/until";
import { systemContext } from "../../context";
import { closeDb } from "../../db";
import { createEngineClient } from "../../engine/client";
import { createTenant } from "../../tenancy/service";
import { drainEngineEvents } from "../engine-events";
import { exportJsonLines } from "../export";
import { tenantChain } from "../queries";
import { approveVersion } from "../../../test/migrations";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const TOKEN = "records-token-".padEnd(48, "k");

describe("migration records in the audit chain", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let source: Awaited<ReturnType<typeof startOrthanc>>;
  let target: Awaited<ReturnType<typeof startOrthanc>>;
  let engineDb: postgres.Sql;
  let id: string;
  let tenant: { id: string; slug: string };
  const dir = mkdtempSync(path.join(os.tmpdir(), "migration-records-"));

  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const exportChain = async () => {
    let text = "";
    for await (const chunk of exportJsonLines(tenantChain({ tenantId: tenant.id, tenantSlug: tenant.slug, actor: systemContext(tenant.id).actor }), {})) text += chunk;
    const file = path.join(dir, "chain.jsonl");
    writeFileSync(file, text);
    return file;
  };
  const exportReport = async (name: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify((await api(`/v1/tenants/northside/migrations/${id}/report`)).body));
    return file;
  };
  const verify = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/audit-verify.ts"), ...args], { cwd: ROOT, encoding: "utf8" });

  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    engineDb = postgres(dbs.engineUrl, { max: 2, onnotice: () => {} });
    tenant = await createTenant({ slug: "northside", name: "Northside" });
    [source, target] = await Promise.all([startOrthanc({ aeTitle: "LEGACY" }), startOrthanc({ aeTitle: "NEWARCH" })]);
    for (const f of [...makeStudies(2, ["2024-02-01", "2024-02-02"]).map((s) => s.file), ...makeCtStudy(path.join(dir, "ct"), 2, { date: "2024-02-04" })]) await source.upload(f);
    const created = await api("/v1/tenants/northside/migrations", {
      method: "POST",
      body: JSON.stringify({
        name: "Sealed",
        sources: [{ kind: "dicom", id: "legacy", aeTitle: source.aeTitle, host: "127.0.0.1", port: source.port }],
        target: { kind: "dicom", aeTitle: target.aeTitle, host: "127.0.0.1", port: target.port },
        filters: { studyDateFrom: "2024-01-01", studyDateTo: "2024-12-31" },
      }),
    });
    id = created.body.id;
    await approveVersion({ url: engine.url, token: TOKEN }, "northside", id);
    await api(`/v1/tenants/northside/migrations/${id}/discover`, { method: "POST" });
    await until(() => api(`/v1/tenants/northside/migrations/${id}`), (r) => r.body.status === "ready", 60_000);
    await api(`/v1/tenants/northside/migrations/${id}/start`, { method: "POST" });
    await until(() => api(`/v1/tenants/northside/migrations/${id}`), (r) => r.body.status === "completed", 120_000, 500);
    await drainEngineEvents(createEngineClient({ url: engine.url, token: TOKEN }));
  }, 180_000);
  afterAll(async () => {
    await engineDb?.end();
    await source?.stop();
    await target?.stop();
    await engine?.close();
    await closeDb();
    await dbs?.drop();
  });

  it("passes with the exported chain and report, and names the study whose row was edited afterwards", async () => {
    const chain = await exportChain();
    const good = await exportReport("report.json");
    const ok = verify(chain, "--migration-report", good);
    expect(ok.stdout).toContain("3 studies in the report, 3 sealed in the chain");
    expect(ok.stdout).toContain("VERIFIED: every study's record matches the hash sealed in the chain");
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);

    const [row] = await engineDb<{ study: string; sop: string }[]>`
      select study_instance_uid as study, sop_instance_uid as sop from migration_instances where migration_id = ${id} order by sop_instance_uid limit 1`;
    await engineDb`update migration_instances set target_sha256 = ${"ab".repeat(32)} where migration_id = ${id} and sop_instance_uid = ${row!.sop}`;
    const edited = await exportReport("report-after-edit.json");
    const bad = verify(chain, "--migration-report", edited);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain(`study ${row!.study}: its record in the engine database differs from the one sealed in the chain`);
    expect(bad.stdout).toContain(`instance ${row!.sop} targetSha256 was`);
    expect(bad.stdout.match(/RECORD MISMATCH/g)).toHaveLength(1);

    // A report edited by hand (not re-exported) is caught by its own hash; a file that is not a report is refused.
    const report = JSON.parse((await import("node:fs")).readFileSync(good, "utf8"));
    report.studies[0].record.instances[0].targetSha256 = "cd".repeat(32);
    writeFileSync(path.join(dir, "hand.json"), JSON.stringify(report));
    expect(verify(chain, "--migration-report", path.join(dir, "hand.json")).stdout).toContain("it was changed after the engine exported it");
    writeFileSync(path.join(dir, "junk.json"), "{}");
    const junk = verify(chain, "--migration-report", path.join(dir, "junk.json"));
    expect(junk.status).toBe(2);
    expect(junk.stderr).toContain("is not a migration verification report");
  }, 60_000);
});
