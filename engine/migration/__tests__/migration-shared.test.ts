// Two engine processes share one migration: both take studies (each study once), and a study whose worker died is
// taken over when its lease lapses, not before.
import { execFileSync } from "node:child_process";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { startTestEngine } from "../../../test/engine";
import { startOrthanc } from "../../../test/orthanc";
import { makeStudies } from "../../../test/studies";
import { until } from "../../../test/until";
import { approveVersion } from "../../../test/migrations";

const TOKEN = "migration-shared-".padEnd(48, "h");
const studyUid = (file: string) => /\[(.*)\]/.exec(execFileSync("dcmdump", ["+P", "0020,000d", file]).toString())![1]!;

describe("engines sharing a migration", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let alpha: Awaited<ReturnType<typeof startTestEngine>>;
  let beta: Awaited<ReturnType<typeof startTestEngine>>;
  let source: Awaited<ReturnType<typeof startOrthanc>>;
  let target: Awaited<ReturnType<typeof startOrthanc>>;
  let sql: postgres.Sql;
  const first = makeStudies(16, ["2021-01-01", "2021-01-02"]);
  const second = makeStudies(2, ["2021-02-01"]);

  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(alpha.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const ready = async (from: string, to: string) => {
    const created = await api("/v1/tenants/north/migrations", {
      method: "POST",
      body: JSON.stringify({
        name: `${from}..${to}`,
        sources: [{ kind: "dicom", id: "legacy", aeTitle: source.aeTitle, host: "127.0.0.1", port: source.port }],
        target: { kind: "dicom", aeTitle: target.aeTitle, host: "127.0.0.1", port: target.port },
        filters: { studyDateFrom: from, studyDateTo: to },
        concurrency: 1,
      }),
    });
    const id = created.body.id as string;
    await approveVersion({ url: alpha.url, token: TOKEN }, "north", id);
    await api(`/v1/tenants/north/migrations/${id}/discover`, { method: "POST" });
    await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "ready", 60_000);
    return id;
  };

  beforeAll(async () => {
    [dbs, source, target] = await Promise.all([createTestDatabases(), startOrthanc({ aeTitle: "SHARED_SRC" }), startOrthanc({ aeTitle: "SHARED_DST" })]);
    for (const s of [...first, ...second]) await source.upload(s.file);
    // Each study takes a moment, so the second engine joins while there is work left.
    const slow = { migration: { afterExtract: () => new Promise<void>((r) => setTimeout(r, 400)) } };
    alpha = await startTestEngine(dbs.engineUrl, { token: TOKEN, env: { ENGINE_INSTANCE_ID: "alpha" }, hooks: slow });
    beta = await startTestEngine(dbs.engineUrl, { token: TOKEN, env: { ENGINE_INSTANCE_ID: "beta" }, hooks: slow });
    sql = postgres(dbs.engineUrl, { max: 1 });
  }, 120_000);

  afterAll(async () => {
    await sql?.end();
    await alpha?.close();
    await beta?.close();
    await Promise.all([source?.stop(), target?.stop()]);
    await dbs?.drop();
  });

  it("both engines take studies and each study is migrated once", async () => {
    const id = await ready("2021-01-01", "2021-01-31");
    await api(`/v1/tenants/north/migrations/${id}/start`, { method: "POST" });
    const done = await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "completed", 120_000, 300);
    expect(done.body.counts).toMatchObject({ discovered: 16, migrated: 16, quarantined: 0, inFlight: 0 });
    const workers = await sql<{ instance: string; n: number }[]>`
      select split_part(worker, '/', 1) as instance, count(*)::int as n from migration_studies where migration_id = ${id} group by 1 order by 1`;
    expect(workers.map((w) => w.instance)).toEqual(["alpha", "beta"]);
    const events = (await api("/v1/events?after=0&limit=1000")).body.events as { type: string; payload: { migrationId: string; studyInstanceUid: string } }[];
    const migrated = events.filter((e) => e.type === "migration.study_migrated" && e.payload.migrationId === id).map((e) => e.payload.studyInstanceUid);
    expect(migrated.sort()).toEqual(first.map((s) => studyUid(s.file)).sort());
    expect((await fetch(`${target.http}/instances`).then((r) => r.json())).length).toBe(16);
  }, 180_000);

  it("a dead worker's study is taken over once its lease lapses, and not before", async () => {
    const id = await ready("2021-02-01", "2021-02-28");
    const [lapsed, held] = second.map((s) => studyUid(s.file));
    await sql`update migration_studies set status = 'in_flight', worker = 'gone/1', lease_until = now() - interval '1 minute' where migration_id = ${id} and study_instance_uid = ${lapsed!}`;
    await sql`update migration_studies set status = 'in_flight', worker = 'ghost/1', lease_until = now() + interval '1 hour' where migration_id = ${id} and study_instance_uid = ${held!}`;
    await api(`/v1/tenants/north/migrations/${id}/start`, { method: "POST" });
    await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.counts.migrated === 1, 60_000, 200);
    const [row] = await sql<{ status: string; worker: string }[]>`select status, worker from migration_studies where migration_id = ${id} and study_instance_uid = ${held!}`;
    expect(row).toEqual({ status: "in_flight", worker: "ghost/1" });
    expect((await api(`/v1/tenants/north/migrations/${id}`)).body.status).toBe("running");
    // The ghost's lease lapses: an engine takes the study over within its next look.
    await sql`update migration_studies set lease_until = now() - interval '1 second' where migration_id = ${id} and study_instance_uid = ${held!}`;
    const done = await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "completed", 60_000, 300);
    expect(done.body.counts).toMatchObject({ discovered: 2, migrated: 2, inFlight: 0 });
  }, 180_000);
});
