// Control of a running migration and its dashboard figures, against two real Orthanc archives: settings changed
// while it runs (windows, cap, concurrency) take effect without a restart, pause/resume, and the roll-ups kept by
// triggers agree with the study rows; the dashboard's `since` poll returns only what changed.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { startTestEngine } from "../../../test/engine";
import { startOrthanc } from "../../../test/orthanc";
import { makeStudies } from "../../../test/studies";
import { until } from "../../../test/until";
import { approveVersion } from "../../../test/migrations";

const TOKEN = "migration-control-token-".padEnd(48, "c");
const STUDIES = 40;

describe("migration control and dashboard data", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let source: Awaited<ReturnType<typeof startOrthanc>>;
  let target: Awaited<ReturnType<typeof startOrthanc>>;
  let sql: postgres.Sql;

  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const base = (id: string) => `/v1/tenants/north/migrations/${id}`;
  const today = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"][new Date().getUTCDay()]!;
  const closedNow = { timeZone: "UTC", intervals: [{ days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].filter((d) => d !== today), start: "00:00", end: "23:59" }] };

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    sql = postgres(dbs.engineUrl, { max: 2, onnotice: () => {} });
    [source, target] = await Promise.all([startOrthanc({ aeTitle: "LEGACY" }), startOrthanc({ aeTitle: "NEWARCH" })]);
    for (const s of makeStudies(STUDIES, ["2022-06-01", "2023-03-03", "2024-01-02"], ["CT", "MR"])) await source.upload(s.file);
  }, 120_000);
  afterAll(async () => {
    await sql?.end();
    await source?.stop();
    await target?.stop();
    await engine?.close();
    await dbs?.drop();
  });

  it("settings change a running migration without a restart; pause and resume; roll-ups match the rows", async () => {
    const created = await api("/v1/tenants/north/migrations", {
      method: "POST",
      body: JSON.stringify({
        name: "Control",
        sources: [{ kind: "dicom", id: "legacy", aeTitle: source.aeTitle, host: "127.0.0.1", port: source.port }],
        target: { kind: "dicom", aeTitle: target.aeTitle, host: "127.0.0.1", port: target.port },
        filters: { studyDateFrom: "2020-01-01", studyDateTo: "2025-12-31" },
        concurrency: 1,
        windows: closedNow,
      }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    await approveVersion({ url: engine.url, token: TOKEN }, "north", id);
    await api(`${base(id)}/discover`, { method: "POST" });
    await until(() => api(base(id)), (r) => r.body.status === "ready", 60_000);
    expect((await api(`${base(id)}/start`, { method: "POST" })).status).toBe(202);

    // Outside its window: running, nothing moves.
    await new Promise((r) => setTimeout(r, 2000));
    expect((await api(base(id))).body.counts).toMatchObject({ migrated: 0, inFlight: 0 });

    // Invalid settings are refused with field messages; another tenant's path is 404.
    const bad = await api(`${base(id)}/settings`, { method: "PATCH", body: JSON.stringify({ concurrency: 40, bandwidth: { overallBytesPerSecond: -5 } }) });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.fields)).toContain("at most 16 workers");
    expect(JSON.stringify(bad.body.fields)).toContain("positive number of bytes per second");
    expect((await api(`/v1/tenants/south/migrations/${id}/settings`, { method: "PATCH", body: JSON.stringify({ concurrency: 2 }) })).status).toBe(404);

    // Open the window (remove it) and cap the rate low: studies start, one at a time, at the cap's pace.
    const opened = await api(`${base(id)}/settings`, {
      method: "PATCH",
      body: JSON.stringify({ windows: null, bandwidth: { overallBytesPerSecond: 60_000 }, priority: 80, changedBy: { userId: "u1", name: "Eve Engineer" } }),
    });
    expect(opened.status).toBe(200);
    expect(opened.body.plan).toMatchObject({ priority: 80, bandwidth: { overallBytesPerSecond: 60_000 } });
    expect(opened.body.plan.windows).toBeUndefined();
    await until(() => api(base(id)), (r) => r.body.counts.migrated >= 3, 60_000, 200);

    // Pause: nothing new starts; the dashboard's since-poll then returns no throughput buckets.
    expect((await api(`${base(id)}/pause`, { method: "POST" })).status).toBe(200);
    await until(() => api(base(id)), (r) => r.body.counts.inFlight === 0, 30_000, 200);
    const paused = (await api(base(id))).body.counts.migrated as number;
    const full = (await api(`${base(id)}/dashboard`)).body;
    await new Promise((r) => setTimeout(r, 2000));
    expect((await api(base(id))).body.counts.migrated).toBe(paused);
    const poll = (await api(`${base(id)}/dashboard?since=${encodeURIComponent(full.asOf)}`)).body;
    expect(poll.hourly).toEqual([]);
    expect(full.hourly.reduce((n: number, h: { migrated: number }) => n + h.migrated, 0)).toBe(paused);
    expect(full.hourly.every((h: { bytes: number }) => h.bytes > 0)).toBe(true);
    expect(full.events.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(["migration.started", "migration.settings_changed", "migration.paused"]));
    const change = full.events.find((e: { type: string }) => e.type === "migration.settings_changed");
    expect(change.payload).toMatchObject({ before: { windows: closedNow, priority: 50 }, after: { windows: null, priority: 80 }, changedBy: { name: "Eve Engineer" } });
    expect((await api(`${base(id)}/dashboard?since=yesterday`)).status).toBe(400);

    // Resume with more workers and no cap: it finishes; the roll-ups agree with the study and instance rows.
    expect((await api(`${base(id)}/resume`, { method: "POST" })).status).toBe(200);
    expect((await api(`${base(id)}/resume`, { method: "POST" })).status).toBe(409);
    await api(`${base(id)}/settings`, { method: "PATCH", body: JSON.stringify({ concurrency: 3, bandwidth: { overallBytesPerSecond: null } }) });
    const poller = (await api(`${base(id)}/dashboard?since=${encodeURIComponent(full.asOf)}`)).body;
    await until(() => api(base(id)), (r) => r.body.status === "completed", 120_000, 300);
    const after = (await api(`${base(id)}/dashboard?since=${encodeURIComponent(poller.asOf)}`)).body;
    expect(after.hourly.length).toBeGreaterThan(0); // the buckets the rest of the run changed
    expect(after.events.map((e: { type: string }) => e.type)).toContain("migration.completed");

    const end = (await api(`${base(id)}/dashboard`)).body;
    const rows = await sql`select s.source_id, date_trunc('hour', s.finished_at, 'UTC') as bucket, count(*)::int as n,
        sum((select sum(size_bytes) from migration_instances i where i.migration_id = s.migration_id and i.study_instance_uid = s.study_instance_uid))::bigint as bytes
      from migration_studies s where s.migration_id = ${id} and s.status = 'migrated' group by 1, 2`;
    const key = (x: { source: string; bucket: string }) => `${x.source}|${new Date(x.bucket).toISOString()}`;
    const fromRows = Object.fromEntries(rows.map((r) => [key({ source: r.source_id, bucket: r.bucket }), { n: r.n, bytes: Number(r.bytes) }]));
    const fromRollup = Object.fromEntries(end.hourly.map((h: { source: string; bucket: string; migrated: number; bytes: number }) => [key(h), { n: h.migrated, bytes: h.bytes }]));
    // By modality, from the totals: every study counted under its first modality.
    const byModality = await sql`select coalesce(modalities[1], '') as modality, count(*)::int as n from migration_studies where migration_id = ${id} group by 1`;
    const totals = Object.fromEntries(byModality.map((r) => [r.modality, r.n]));
    const fromTotals: Record<string, number> = {};
    for (const b of end.breakdown as { modality: string; studies: number }[]) fromTotals[b.modality] = (fromTotals[b.modality] ?? 0) + b.studies;
    expect(fromTotals).toEqual(totals);
    expect(fromRollup).toEqual(fromRows);
    // The daily roll-up (the dashboard's history before its hourly window) sums the same.
    const [daily] = await sql`select sum(migrated)::int as n, sum(bytes)::bigint as bytes from migration_daily where migration_id = ${id}`;
    expect({ n: daily!.n, bytes: Number(daily!.bytes) }).toEqual({ n: STUDIES, bytes: rows.reduce((n, r) => n + Number(r.bytes), 0) });
    expect(end.breakdown.reduce((n: number, b: { studies: number }) => n + b.studies, 0)).toBe(STUDIES);
    expect(new Set(end.breakdown.map((b: { studyYear: string }) => b.studyYear))).toEqual(new Set(["2022", "2023", "2024"]));
    expect(end.migration.counts).toMatchObject({ discovered: STUDIES, migrated: STUDIES, pending: 0, inFlight: 0 });
    expect((await target.studies()).length).toBe(STUDIES);
    expect((await api(`/v1/tenants/south/migrations/${id}/dashboard`)).status).toBe(404);
  }, 240_000);
});
