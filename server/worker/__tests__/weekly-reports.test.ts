// The weekly stakeholder reports: the worker registers their pg-boss schedule, and a run of the scheduled job
// (sent here as the schedule would) keeps a report with its PDF for every running, paused or finished migration,
// in that tenant only. Real database, real engine, a real Orthanc as the plan's archive, real chromium.
import { randomBytes } from "node:crypto";
import { PgBoss } from "pg-boss";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEngine } from "../../../test/engine";
import { startOrthanc } from "../../../test/orthanc";
import { until } from "../../../test/until";
import { useConsoleDatabase } from "../../../test/console-db";
import { freePort } from "../../../scripts/lib/ports";
import { systemContext } from "../../context";
import { closeDb } from "../../db";
import { listReports } from "../../migrations/reports";
import { createTenant } from "../../tenancy/service";
import { startWorker } from "../main";

const TOKEN = "w".repeat(40);

describe("weekly stakeholder reports", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let stopWorker: (() => Promise<void>) | undefined;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let archive: Awaited<ReturnType<typeof startOrthanc>>;
  let boss: PgBoss;
  let north: { id: string };
  let south: { id: string };
  const ids: string[] = [];

  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    const port = await freePort();
    process.env.ENGINE_ADMIN_URL = `http://127.0.0.1:${port}`;
    process.env.ENGINE_ADMIN_TOKEN = TOKEN;
    process.env.AUTH_SECRET ??= randomBytes(33).toString("base64");
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, adminPort: port });
    archive = await startOrthanc({ aeTitle: "WEEKLY" });
    north = await createTenant({ slug: "north", name: "North" });
    south = await createTenant({ slug: "south", name: "South" });
    const peer = { kind: "dicom", aeTitle: "WEEKLY", host: "127.0.0.1", port: archive.port };
    for (const name of ["running one", "not started"]) {
      const res = await fetch(`${engine.url}/v1/tenants/north/migrations`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ name, sources: [{ ...peer, id: "legacy" }], target: peer, filters: { studyDateFrom: "2020-01-01", studyDateTo: "2020-12-31" } }),
      });
      ids.push(((await res.json()) as { id: string }).id);
    }
    // The first one is paused (an active migration whose runner needs no archive content for this test).
    const sql = postgres(dbs.engineUrl, { max: 1, onnotice: () => {} });
    await sql`update migrations set status = 'paused' where id = ${ids[0]!}`;
    await sql.end();
    stopWorker = await startWorker({ ...process.env, WORKER_SWEEP_SECONDS: "1", WORKER_MIGRATION_WATCH_SECONDS: "60" });
    boss = new PgBoss({ connectionString: process.env.DATABASE_URL!, schema: "pgboss", createSchema: false });
    await boss.start();
  }, 120_000);
  afterAll(async () => {
    await boss?.stop({ graceful: false });
    await stopWorker?.();
    await archive?.stop();
    await engine?.close();
    await closeDb();
    await dbs?.drop();
  });

  it("registers the Monday 06:00 UTC schedule, and a scheduled run keeps a report for each active migration", async () => {
    const schedules = await boss.getSchedules();
    expect(schedules).toEqual(expect.arrayContaining([expect.objectContaining({ name: "migration-reports-weekly", cron: "0 6 * * 1", timezone: "UTC" })]));

    await boss.send("migration-reports-weekly", {});
    const reports = await until(() => listReports(systemContext(north.id), ids[0]!), (r) => r.length === 1, 90_000, 500);
    expect(reports[0]).toMatchObject({ kind: "scheduled", requestedBy: "console-worker" });
    expect(await listReports(systemContext(north.id), ids[1]!)).toEqual([]); // created, never started: no report
    expect(await listReports(systemContext(south.id), ids[0]!)).toEqual([]);
  }, 120_000);
});
