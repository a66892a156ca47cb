// The demo seed against a real engine: the generated archive migrates to the export file-set, and exactly the
// deliberately faulty studies are quarantined, each for its own reason; a second seed finds the migration again.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../test/databases";
import { startTestEngine } from "../../test/engine";
import { until } from "../../test/until";
import { DEMO_TENANT, seedDemoMigration } from "../demo/migration";

const TOKEN = "demo-migration-".padEnd(48, "d");

describe("demo migration seed", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  const importRoot = mkdtempSync(path.join(os.tmpdir(), "demo-import-"));
  const exportRoot = mkdtempSync(path.join(os.tmpdir(), "demo-export-"));

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, env: { ENGINE_IMPORT_ROOT: importRoot, ENGINE_EXPORT_ROOT: exportRoot } });
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    await dbs?.drop();
  });

  it("migrates the generated archive and quarantines only the faulty studies", async () => {
    const seed = () => seedDemoMigration({ engineUrl: engine.url, token: TOKEN, importRoot, say: () => {}, studies: 12, unthrottled: true });
    const id = await seed();
    const get = () => fetch(`${engine.url}/v1/tenants/${DEMO_TENANT}/migrations/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.json());
    const done = await until(get, (m) => m.status === "completed", 180_000, 500);
    expect(done.counts).toMatchObject({ discovered: 12, migrated: 10, quarantined: 2 });
    const q = await fetch(`${engine.url}/v1/tenants/${DEMO_TENANT}/migrations/${id}/quarantine`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.json());
    expect(JSON.stringify(q)).toMatch(/character_set/);
    expect(JSON.stringify(q)).toMatch(/corrupt_pixel_data/);
    const dump = execFileSync("dcmdump", ["-q", path.join(exportRoot, DEMO_TENANT, "offline-handoff", "DICOMDIR")]).toString();
    expect([...dump.matchAll(/\(0004,1430\) CS \[STUDY/g)]).toHaveLength(10);
    expect(await seed()).toBe(id);
  }, 240_000);
});
