// The worker ingests the engine's event feed into the audit chains exactly once and in order, even when it is
// killed mid-ingest (SIGKILL, so no clean shutdown) and started again.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../scripts/lib/ports";
import { useConsoleDatabase } from "../../../test/console-db";
import { startTestEngine } from "../../../test/engine";
import { until } from "../../../test/until";
import { closeDb } from "../../db";
import { createEngineClient } from "../../engine/client";
import { createTenant } from "../../tenancy/service";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const TOKEN = "e".repeat(40);
const SYNTHETIC = 3000;

describe("engine events in the audit log", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let superuser: postgres.Sql;
  let engineDb: postgres.Sql;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    const port = await freePort();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, adminPort: port });
    // Reading every chain at once needs a role RLS does not apply to: the test's superuser.
    const su = new URL(dbs.adminUrl);
    su.pathname = new URL(dbs.consoleOwnerUrl).pathname;
    superuser = postgres(su.toString(), { max: 2, onnotice: () => {} });
    engineDb = postgres(dbs.engineUrl, { max: 2, onnotice: () => {} });
    await createTenant({ slug: "northside", name: "Northside" });
    await createTenant({ slug: "lakeview", name: "Lakeview" });
    const client = createEngineClient({ url: engine.url, token: TOKEN });
    // Real events from the engine (config applied), then a volume of result events generated in its outbox,
    // including some for a tenant the console does not know (they go to the global chain).
    await client.putTenantConfig("northside", { ttlDays: 7, calledAeTitles: ["NORTHSIDE"], allowedCallingAeTitles: [], version: 1 });
    await client.putTenantConfig("lakeview", { ttlDays: 3, calledAeTitles: ["LAKEVIEW"], allowedCallingAeTitles: [], version: 1 });
    await engineDb`
      insert into engine_events (tenant_slug, type, payload)
      select (array['northside', 'lakeview', 'ghost'])[1 + g % 3], 'result.received', jsonb_build_object('resultId', gen_random_uuid(), 'n', g)
      from generate_series(1, ${SYNTHETIC}) g`;
  });
  afterAll(async () => {
    for (const w of workers) w.kill("SIGKILL");
    await superuser?.end();
    await engineDb?.end();
    await engine?.close();
    await closeDb();
    await dbs?.drop();
  });

  function startWorkerProcess() {
    const child = spawn(process.execPath, ["--conditions=react-server", "--import", "tsx", path.join(ROOT, "server/worker/main.ts")], {
      cwd: ROOT,
      env: {
        ...process.env,
        ENGINE_ADMIN_URL: engine.url,
        ENGINE_ADMIN_TOKEN: TOKEN,
        WORKER_ENGINE_EVENTS_SECONDS: "0.05",
        WORKER_ENGINE_EVENTS_BATCH: "40",
      },
      stdio: process.env.DEBUG_WORKER ? "inherit" : "ignore",
    });
    workers.push(child);
    return child;
  }

  const ingested = async () => Number((await superuser`select count(*)::int as n from audit_entries where source = 'engine'`)[0]!.n);

  it("lands every event exactly once, in order, across a SIGKILL and a restart", async () => {
    const total = Number((await engineDb`select count(*)::int as n from engine_events`)[0]!.n);
    expect(total).toBeGreaterThan(SYNTHETIC);

    const first = startWorkerProcess();
    await until(ingested, (n) => n >= 400, 60_000, 20);
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    const atKill = await ingested();
    expect(atKill).toBeLessThan(total); // killed mid-ingest

    startWorkerProcess();
    await until(ingested, (n) => n >= total, 60_000);
    await new Promise((r) => setTimeout(r, 500)); // anything extra would land now
    const rows = await superuser<{ chain: string; seq: number; engine_seq: number; tenant: string | null }[]>`
      select chain, seq, (after->>'engineSeq')::int as engine_seq, after->>'engineTenant' as tenant
      from audit_entries where source = 'engine' order by chain, seq`;
    const engineIds = (await engineDb<{ id: number }[]>`select id::int as id from engine_events order by id`).map((r) => r.id);
    // Exactly once: the ingested engine seqs are the outbox's ids, no more, no fewer.
    expect(rows.map((r) => r.engine_seq).sort((a, b) => a - b)).toEqual(engineIds);
    // In order: within each chain, engine events appear in the engine's order.
    const byChain = new Map<string, (typeof rows)[number][]>();
    for (const r of rows) byChain.set(r.chain, [...(byChain.get(r.chain) ?? []), r]);
    for (const list of byChain.values()) {
      const seqs = list.map((r) => r.engine_seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    // Unknown tenants' events are kept, in the global chain, naming the engine's tenant.
    expect(byChain.get("global")!.every((r) => r.tenant === "ghost")).toBe(true);
    // And the chains are still linear: seq 1..n without gaps in each.
    const chains = await superuser<{ chain: string; n: number; max: number }[]>`select chain, count(*)::int as n, max(seq)::int as max from audit_entries group by chain`;
    for (const c of chains) expect(c.n).toBe(c.max);
  }, 120_000);
});
