// Migration plans and discovery against real archives: two Debian Orthanc instances on ports chosen now, the
// source loaded with studies built from the pydicom test files and capped at a few C-FIND results per query.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { datasetBytes, datasetElements } from "../../../test/dcmtk";
import { startTestEngine } from "../../../test/engine";
import { startOrthanc } from "../../../test/orthanc";
import { makeStudies, MODALITIES } from "../../../test/studies";
import { until } from "../../../test/until";
import { freePort } from "../../../scripts/lib/ports";
import { approveVersion } from "../../../test/migrations";

const TOKEN = "migration-token-".padEnd(48, "m");
// Hundreds of studies across five modalities and many dates, from the real pydicom test files.
const STUDIES = 200;
const DATES = ["2023-01-15", "2023-02-20", "2023-03-03", "2023-03-04", "2023-05-30", "2023-08-01", "2023-11-11", "2024-01-02"];

describe("migration plans and discovery against Orthanc", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let source: Awaited<ReturnType<typeof startOrthanc>>;
  let target: Awaited<ReturnType<typeof startOrthanc>>;
  let garbage: net.Server;
  let garbagePort: number;
  const studies = makeStudies(STUDIES, DATES, MODALITIES);

  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const plan = (over: Record<string, unknown> = {}) => ({
    name: "Legacy PACS to new archive",
    sources: [{ kind: "dicom", id: "legacy", aeTitle: source.aeTitle, host: "127.0.0.1", port: source.port, findLimit: 5 }],
    target: { kind: "dicom", aeTitle: target.aeTitle, host: "127.0.0.1", port: target.port },
    filters: { studyDateFrom: "2023-01-01", studyDateTo: "2024-12-31" },
    ...over,
  });

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    [source, target] = await Promise.all([startOrthanc({ aeTitle: "LEGACY", limitFindResults: 5 }), startOrthanc({ aeTitle: "NEWARCH" })]);
    for (const s of studies) await source.upload(s.file);
    // An "archive" that answers every association with garbage bytes.
    garbagePort = await freePort();
    garbage = net.createServer((sock) => sock.end(Buffer.from("HTTP/1.1 200 OK\r\n\r\nthis is not DICOM")));
    await new Promise<void>((r) => garbage.listen(garbagePort, "127.0.0.1", r));
  }, 120_000);
  afterAll(async () => {
    garbage?.close();
    await source?.stop();
    await target?.stop();
    await engine?.close();
    await dbs?.drop();
  });

  it("accepts a plan whose archives answer, and discovers every study despite the archive's result cap", async () => {
    expect((await source.studies()).length).toBe(STUDIES);
    const created = await api("/v1/tenants/north/migrations", { method: "POST", body: JSON.stringify(plan()) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ status: "created", plan: { concurrency: 2, priority: 50, transforms: [] } });
    const id = created.body.id as string;
    await approveVersion({ url: engine.url, token: TOKEN }, "north", id);
    expect((await api(`/v1/tenants/north/migrations/${id}/discover`, { method: "POST" })).status).toBe(202);
    // While it runs (the archive's cap makes it split its queries), it says how far it got and what it asks now.
    const running = await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status !== "discovering" || r.body.discovery?.queries > 0, 60_000, 20);
    expect(running.body.status).toBe("discovering");
    expect(running.body.discovery).toMatchObject({ queries: expect.any(Number), current: expect.stringMatching(/^legacy: /) });
    const done = await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status !== "discovering", 60_000);
    expect(done.body.discovery).toBeNull();
    expect(done.body).toMatchObject({ status: "ready", counts: { discovered: STUDIES }, lastError: null });
    // Idempotent: discovering again finds the same studies, no duplicates.
    await api(`/v1/tenants/north/migrations/${id}/discover`, { method: "POST" });
    const again = await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status !== "discovering", 60_000);
    expect(again.body.counts.discovered).toBe(STUDIES);
    // Another tenant's path does not see it.
    expect((await api(`/v1/tenants/south/migrations/${id}`)).status).toBe(404);
    const feed = await api("/v1/events?after=0&limit=1000");
    expect(feed.body.events.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(["migration.created", "migration.discovered"]));

    // Run it: every study extracted, sent, verified at the target and recorded.
    expect((await api(`/v1/tenants/north/migrations/${id}/start`, { method: "POST" })).status).toBe(202);
    expect((await api(`/v1/tenants/north/migrations/${id}/start`, { method: "POST" })).status).toBe(409); // already running
    const finished = await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "completed", 120_000, 500);
    expect(finished.body.counts).toMatchObject({ discovered: STUDIES, migrated: STUDIES, quarantined: 0, pending: 0, inFlight: 0 });
    // The target holds exactly the source's datasets: same studies, and byte-identical datasets per instance.
    expect((await target.studies()).length).toBe(STUDIES);
    const targetInstances = (await fetch(`${target.http}/instances`).then((r) => r.json())) as string[];
    expect(targetInstances).toHaveLength(STUDIES);
    const bySop = new Map<string, Buffer>();
    for (const oid of targetInstances) {
      const bytes = Buffer.from((await (await fetch(`${target.http}/instances/${oid}/file`)).arrayBuffer()) as ArrayBuffer);
      const tags = (await fetch(`${target.http}/instances/${oid}/simplified-tags`).then((r) => r.json())) as { SOPInstanceUID: string };
      bySop.set(tags.SOPInstanceUID, bytes);
    }
    const scratch = mkdtempSync(path.join(os.tmpdir(), "target-copy-"));
    for (const s of studies) {
      const sent = readFileSync(s.file);
      const sop = /\[(.*)\]/.exec(execFileSync("dcmdump", ["+P", "0008,0018", s.file]).toString())![1]!;
      const stored = bySop.get(sop);
      expect(stored, `instance ${sop}`).toBeDefined();
      if (datasetBytes(stored!).equals(datasetBytes(sent))) continue;
      // The one allowed difference: the source archive answers C-GET in the explicit VR getscu proposes first, so an
      // implicit VR dataset arrives re-encoded by the source (the same elements and values). C-MOVE keeps the
      // stored encoding (migration-sources.test.ts checks it byte for byte).
      expect(execFileSync("dcmdump", ["+P", "0002,0010", "-Un", s.file]).toString(), `instance ${sop}`).toContain("1.2.840.10008.1.2]");
      const copy = path.join(scratch, `${sop}.dcm`);
      writeFileSync(copy, stored!);
      expect(await datasetElements(copy), `instance ${sop}`).toBe(await datasetElements(s.file));
    }
    const types = (await api("/v1/events?after=0&limit=1000")).body.events.map((e: { type: string }) => e.type);
    expect(types.filter((t: string) => t === "migration.study_migrated")).toHaveLength(STUDIES);

    // Progress and reconciliation; the verification report, per instance, in both formats.
    const progress = (await api(`/v1/tenants/north/migrations/${id}/progress`)).body;
    expect(progress.reconciliation).toMatchObject({ discovered: STUDIES, migrated: STUDIES, remaining: 0, outstanding: [] });
    expect(progress.hourly.reduce((n: number, h: { studies: number }) => n + h.studies, 0)).toBe(STUDIES);
    expect(new Set(progress.minutes.map((m: { modality: string }) => m.modality))).toEqual(new Set(MODALITIES));
    expect(progress.etaSeconds).toBe(0);
    const report = (await api(`/v1/tenants/north/migrations/${id}/report`)).body.instances as { sourceSha256: string; targetSha256: string }[];
    expect(report).toHaveLength(STUDIES);
    expect(report.every((r) => r.sourceSha256 === r.targetSha256)).toBe(true);
    const csv = await fetch(`${engine.url}/v1/tenants/north/migrations/${id}/report?format=csv`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.text());
    expect(csv.trimEnd().split("\r\n")).toHaveLength(STUDIES + 1);
    expect((await api(`/v1/tenants/north/migrations/${id}/report?format=xml`)).status).toBe(400);
    expect(types).toContain("migration.completed");
  }, 180_000);

  it("honours the plan's modality and date filters", async () => {
    const created = await api("/v1/tenants/north/migrations", {
      method: "POST",
      body: JSON.stringify(plan({ name: "CT of 2023 Q1", filters: { studyDateFrom: "2023-01-01", studyDateTo: "2023-03-31", modalities: ["CT"] } })),
    });
    const id = created.body.id as string;
    await approveVersion({ url: engine.url, token: TOKEN }, "north", id);
    await api(`/v1/tenants/north/migrations/${id}/discover`, { method: "POST" });
    const done = await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status !== "discovering", 60_000);
    const expected = studies.filter((s) => s.modality === "CT" && s.date <= "2023-03-31").length;
    expect(expected).toBeGreaterThan(0);
    expect(done.body.counts.discovered).toBe(expected);
  });

  it("a bandwidth cap holds on average, and a window closed now starts nothing", async () => {
    // Well below what the engine moves uncapped even on a busy machine, so the cap is what sets the pace: the CT
    // studies of the first quarter (39 kB each, one every two seconds). The span is measured between studies'
    // recorded ends, each a verification after its send: a long span keeps that jitter small beside the cap.
    const cap = 20_000;
    const run = async (over: Record<string, unknown>) => {
      const created = await api("/v1/tenants/north/migrations", { method: "POST", body: JSON.stringify(plan(over)) });
      const id = created.body.id as string;
      await approveVersion({ url: engine.url, token: TOKEN }, "north", id);
      await api(`/v1/tenants/north/migrations/${id}/discover`, { method: "POST" });
      await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "ready", 60_000);
      return id;
    };
    const capped = await run({ name: "capped", bandwidth: { overallBytesPerSecond: cap }, filters: { studyDateFrom: "2023-01-01", studyDateTo: "2023-03-31", modalities: ["CT"] } });
    await api(`/v1/tenants/north/migrations/${capped}/start`, { method: "POST" });
    await until(() => api(`/v1/tenants/north/migrations/${capped}`), (r) => r.body.status === "completed", 120_000, 100);
    const events = (await api("/v1/events?after=0&limit=1000")).body.events as { type: string; at: string; payload: { migrationId: string; bytes: number } }[];
    const migrated = events.filter((e) => e.type === "migration.study_migrated" && e.payload.migrationId === capped);
    // The rate between the first and the last study: the bytes of every study after the first over that time.
    const seconds = (Date.parse(migrated.at(-1)!.at) - Date.parse(migrated[0]!.at)) / 1000;
    const bytes = migrated.slice(1).reduce((n, e) => n + e.payload.bytes, 0);
    expect(bytes).toBeGreaterThan(cap * 5); // long enough to measure
    expect(Math.abs(bytes / seconds - cap) / cap).toBeLessThan(0.1);

    // Open on every day but today (UTC): closed now.
    const today = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"][new Date().getUTCDay()];
    const otherDays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].filter((d) => d !== today);
    const closed = await run({ name: "outside its window", windows: { timeZone: "UTC", intervals: [{ days: otherDays, start: "00:00", end: "23:59" }] } });
    await api(`/v1/tenants/north/migrations/${closed}/start`, { method: "POST" });
    await new Promise((r) => setTimeout(r, 2500));
    const waiting = (await api(`/v1/tenants/north/migrations/${closed}`)).body;
    expect(waiting.status).toBe("running");
    expect(waiting.counts).toMatchObject({ migrated: 0, inFlight: 0, pending: STUDIES });
    await api(`/v1/tenants/north/migrations/${closed}/pause`, { method: "POST" });
  }, 180_000);

  it("refuses an invalid plan with field messages", async () => {
    const bad = await api("/v1/tenants/north/migrations", {
      method: "POST",
      body: JSON.stringify(
        plan({
          filters: { studyDateFrom: "2024-01-01", studyDateTo: "2023-01-01" },
          concurrency: 99,
          windows: { timeZone: "Mars/Olympus", intervals: [{ days: ["mon"], start: "25:00", end: "06:00" }] },
          transforms: [{ op: "set", tag: "PatientName", value: "x" }],
        }),
      ),
    });
    expect(bad.status).toBe(400);
    const fields = JSON.stringify(bad.body.fields);
    for (const m of ["studyDateTo is before studyDateFrom", "at most 16 workers", "IANA time zone", "HH:MM", "8 hex digits"]) expect(fields).toContain(m);
  });

  it("reports an unreachable target and an archive answering garbage at once, and keeps serving", async () => {
    const closed = await freePort();
    const r = await api("/v1/tenants/north/migrations", {
      method: "POST",
      body: JSON.stringify(
        plan({
          sources: [{ kind: "dicom", id: "junk", aeTitle: "JUNK", host: "127.0.0.1", port: garbagePort }],
          target: { kind: "dicom", aeTitle: "NOBODY", host: "127.0.0.1", port: closed },
        }),
      ),
    });
    expect(r.status).toBe(422);
    expect(r.body.fields["sources.0"][0]).toMatch(/JUNK@127\.0\.0\.1:\d+/);
    expect(r.body.fields.target[0]).toMatch(/unreachable|closed/);
    // A wrong called AE title is named as such.
    const wrongAe = await api("/v1/tenants/north/migrations", { method: "POST", body: JSON.stringify(plan({ target: { kind: "dicom", aeTitle: "WRONG", host: "127.0.0.1", port: target.port } })) });
    expect(wrongAe.status).toBe(422);
    expect(wrongAe.body.fields.target[0]).toMatch(/called AE title not recognized|rejected/);
    expect((await fetch(`${engine.url}/healthz`)).status).toBe(200);
  });
});
