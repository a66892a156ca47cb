// kill -9 of the engine process in the middle of a migration, then a restart: the migration resumes by itself and
// ends with every study migrated exactly once (one record and one event per study, each instance once at the
// target), nothing missing.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCa } from "../../relay/ca";
import { freePort } from "../../../scripts/lib/ports";
import { createTestDatabases } from "../../../test/databases";
import { startOrthanc } from "../../../test/orthanc";
import { makeStudies } from "../../../test/studies";
import { until } from "../../../test/until";
import { approveVersion } from "../../../test/migrations";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const TOKEN = "migration-crash-".padEnd(48, "c");
const STUDIES = 30;

describe("a migration survives kill -9 of the engine", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let source: Awaited<ReturnType<typeof startOrthanc>>;
  let target: Awaited<ReturnType<typeof startOrthanc>>;
  let engine: ChildProcess | undefined;
  let env: NodeJS.ProcessEnv;
  let url: string;

  const startEngineProcess = async () => {
    engine = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "engine/main.ts")], { cwd: ROOT, env, stdio: process.env.DEBUG_ENGINE ? "inherit" : "ignore" });
    await until(() => fetch(`${url}/healthz`).then((r) => r.status, () => 0), (s) => s === 200, 60_000);
  };
  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };

  beforeAll(async () => {
    dbs = await createTestDatabases();
    [source, target] = await Promise.all([startOrthanc({ aeTitle: "LEGACY" }), startOrthanc({ aeTitle: "NEWARCH" })]);
    for (const s of makeStudies(STUDIES, ["2022-03-01", "2022-03-02", "2022-03-03"])) await source.upload(s.file);
    const dir = mkdtempSync(path.join(os.tmpdir(), "engine-crash-"));
    const ca = await createCa("crash test CA");
    writeFileSync(path.join(dir, "ca.pem"), ca.certPem);
    writeFileSync(path.join(dir, "ca.key"), ca.keyPem);
    const adminPort = await freePort();
    url = `http://127.0.0.1:${adminPort}`;
    env = {
      ...process.env,
      ENGINE_DATABASE_URL: dbs.engineUrl,
      ENGINE_ADMIN_TOKEN: TOKEN,
      ENGINE_ADMIN_PORT: String(adminPort),
      ENGINE_DICOM_PORT: String(await freePort()),
      ENGINE_GATEWAY_PORT: String(await freePort()),
      ENGINE_GATEWAY_HOST: "127.0.0.1",
      ENGINE_MASTER_KEY: randomBytes(32).toString("base64"),
      ENGINE_BLOB_DIR: path.join(dir, "blobs"),
      ENGINE_CA_CERT_FILE: path.join(dir, "ca.pem"),
      ENGINE_CA_KEY_FILE: path.join(dir, "ca.key"),
    };
    await startEngineProcess();
  }, 120_000);
  afterAll(async () => {
    engine?.kill("SIGKILL");
    await source?.stop();
    await target?.stop();
    await dbs?.drop();
  });

  it("resumes after the restart; counts reconcile, nothing twice, nothing missing", async () => {
    const created = await api("/v1/tenants/north/migrations", {
      method: "POST",
      body: JSON.stringify({
        name: "crash test",
        sources: [{ kind: "dicom", id: "legacy", aeTitle: "LEGACY", host: "127.0.0.1", port: source.port }],
        target: { kind: "dicom", aeTitle: "NEWARCH", host: "127.0.0.1", port: target.port },
        filters: { studyDateFrom: "2022-01-01", studyDateTo: "2022-12-31" },
        concurrency: 2,
      }),
    });
    const id = created.body.id as string;
    await approveVersion({ url, token: TOKEN }, "north", id);
    await api(`/v1/tenants/north/migrations/${id}/discover`, { method: "POST" });
    await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "ready", 60_000);
    await api(`/v1/tenants/north/migrations/${id}/start`, { method: "POST" });
    await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.counts.migrated >= 5, 60_000, 50);

    engine!.kill("SIGKILL");
    await new Promise((r) => engine!.once("exit", r));
    const sql = postgres(dbs.engineUrl, { max: 1, onnotice: () => {} });
    const [atKill] = await sql<{ migrated: number; inflight: number }[]>`
      select count(*) filter (where status = 'migrated')::int as migrated, count(*) filter (where status = 'in_flight')::int as inflight
      from migration_studies where migration_id = ${id}`;
    expect(atKill!.migrated).toBeLessThan(STUDIES); // killed mid-migration

    await startEngineProcess();
    const done = await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "completed", 120_000, 300);
    expect(done.body.counts).toMatchObject({ discovered: STUDIES, migrated: STUDIES, quarantined: 0, pending: 0, inFlight: 0 });
    const [records] = await sql<{ n: number }[]>`select count(*)::int as n from migration_instances where migration_id = ${id}`;
    const [events] = await sql<{ n: number; distinct: number }[]>`
      select count(*)::int as n, count(distinct payload->>'studyInstanceUid')::int as distinct from engine_events
      where type = 'migration.study_migrated' and payload->>'migrationId' = ${id}`;
    await sql.end();
    expect(records!.n).toBe(STUDIES); // one instance per study here
    expect(events).toEqual({ n: STUDIES, distinct: STUDIES });
    expect((await fetch(`${target.http}/instances`).then((r) => r.json())).length).toBe(STUDIES);
  }, 240_000);
});
