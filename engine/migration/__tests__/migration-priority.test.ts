// Priority between a tenant's migrations from one archive: the higher one's studies go first; the lower one
// waits while the higher one has studies pending, then finishes too.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import postgres from "postgres";
import type { MigrationPlan } from "../../api/contract";
import { outranks } from "../priority";
import { createTestDatabases } from "../../../test/databases";
import { startTestEngine } from "../../../test/engine";
import { startOrthanc } from "../../../test/orthanc";
import { makeStudies } from "../../../test/studies";
import { until } from "../../../test/until";
import { approveVersion } from "../../../test/migrations";

const plan = (priority: number, port: number, windows?: MigrationPlan["windows"]) =>
  ({ priority, windows, sources: [{ kind: "dicom", id: `s${priority}`, aeTitle: "A", host: "127.0.0.1", port }] }) as unknown as MigrationPlan;

describe("which migration goes first", () => {
  const monday = new Date("2026-11-30T12:00:00Z");
  it("a higher priority from the same archive, with its window open, goes first", () => {
    expect(outranks(plan(90, 104), plan(10, 104), monday)).toBe(true);
    expect(outranks(plan(10, 104), plan(90, 104), monday)).toBe(false);
    expect(outranks(plan(50, 104), plan(50, 104), monday)).toBe(false);
  });
  it("another archive, or a closed window, holds nobody back", () => {
    expect(outranks(plan(90, 105), plan(10, 104), monday)).toBe(false);
    const weekends = { timeZone: "UTC", intervals: [{ days: ["sat", "sun"], start: "00:00", end: "23:59" }] };
    expect(outranks(plan(90, 104, weekends as MigrationPlan["windows"]), plan(10, 104), monday)).toBe(false);
  });
});

const TOKEN = "migration-priority-".padEnd(48, "p");

describe("two migrations from one archive", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let source: Awaited<ReturnType<typeof startOrthanc>>;
  let target: Awaited<ReturnType<typeof startOrthanc>>;
  let sql: postgres.Sql;
  const low = makeStudies(3, ["2022-01-01"]);
  const high = makeStudies(5, ["2022-02-01"]);

  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const ready = async (from: string, to: string, priority: number) => {
    const created = await api("/v1/tenants/north/migrations", {
      method: "POST",
      body: JSON.stringify({
        name: `priority ${priority}`,
        sources: [{ kind: "dicom", id: "legacy", aeTitle: source.aeTitle, host: "127.0.0.1", port: source.port }],
        target: { kind: "dicom", aeTitle: target.aeTitle, host: "127.0.0.1", port: target.port },
        filters: { studyDateFrom: from, studyDateTo: to },
        concurrency: 1,
        priority,
      }),
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await approveVersion({ url: engine.url, token: TOKEN }, "north", id);
    await api(`/v1/tenants/north/migrations/${id}/discover`, { method: "POST" });
    await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "ready", 60_000);
    return id;
  };

  beforeAll(async () => {
    [dbs, source, target] = await Promise.all([createTestDatabases(), startOrthanc({ aeTitle: "PRIO_SRC" }), startOrthanc({ aeTitle: "PRIO_DST" })]);
    for (const s of [...low, ...high]) await source.upload(s.file);
    // Each study takes a moment, so both migrations are running together.
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, hooks: { migration: { afterExtract: () => new Promise<void>((r) => setTimeout(r, 300)) } } });
    sql = postgres(dbs.engineUrl, { max: 1 });
  }, 120_000);

  afterAll(async () => {
    await sql?.end();
    await engine?.close();
    await Promise.all([source?.stop(), target?.stop()]);
    await dbs?.drop();
  });

  it("the higher-priority migration's studies are migrated before the lower one starts any", async () => {
    const lowId = await ready("2022-01-01", "2022-01-31", 10);
    const highId = await ready("2022-02-01", "2022-02-28", 90);
    await api(`/v1/tenants/north/migrations/${highId}/start`, { method: "POST" });
    await api(`/v1/tenants/north/migrations/${lowId}/start`, { method: "POST" });
    for (const id of [highId, lowId]) await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "completed", 120_000, 300);
    const order = await sql<{ migration_id: string }[]>`
      select migration_id from migration_studies where migration_id in (${highId}, ${lowId}) order by finished_at`;
    expect(order).toHaveLength(8);
    // The lower one may start its first study once the higher one's last is in flight, not before.
    expect(order.slice(0, 4).every((r) => r.migration_id === highId)).toBe(true);
    expect(order.filter((r) => r.migration_id === lowId)).toHaveLength(3);
  }, 180_000);
});
