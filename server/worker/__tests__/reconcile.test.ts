import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import postgres from "postgres";
import { tenantConfigs } from "@/db/schema";
import { startTestEngine } from "../../../test/engine";
import { freePort } from "../../../scripts/lib/ports";
import { useConsoleDatabase } from "../../../test/console-db";
import { systemContext } from "../../context";
import { closeDb, withTenant } from "../../db";
import { createEngineClient } from "../../engine/client";
import { createTenant } from "../../tenancy/service";
import { startWorker } from "../main";
import { until } from "../../../test/until";

const TOKEN = "t".repeat(40);


describe("the worker reconciles desired tenant config into the engine", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let stopWorker: (() => Promise<void>) | undefined;
  let engine: { url: string; close(): Promise<void> } | undefined;
  let port: number;
  let tenantId: string;

  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    port = await freePort();
    process.env.ENGINE_ADMIN_URL = `http://127.0.0.1:${port}`;
    process.env.ENGINE_ADMIN_TOKEN = TOKEN;
    tenantId = (await createTenant({ slug: "northwind", name: "Northwind", ttlDays: 9, calledAeTitles: ["NORTHWIND"] })).id;
  });
  afterAll(async () => {
    await stopWorker?.();
    await engine?.close();
    await closeDb();
    await dbs?.drop();
  });

  const desired = () =>
    withTenant(systemContext(tenantId), async (tx) => (await tx.select().from(tenantConfigs).where(eq(tenantConfigs.tenantId, tenantId)))[0]!);

  it("records the failure while the engine is down, then converges once it is up", async () => {
    stopWorker = await startWorker({ ...process.env, WORKER_SWEEP_SECONDS: "1", WORKER_DRIFT_CHECK_SECONDS: "2" });
    const failing = await until(desired, (c) => c.lastSyncError !== null);
    expect(failing.appliedVersion).toBeNull();

    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, adminPort: port });
    const applied = await until(desired, (c) => c.appliedVersion === 1);
    expect(applied.lastSyncError).toBeNull();

    const client = createEngineClient({ url: `http://127.0.0.1:${port}`, token: TOKEN });
    expect(await client.getTenantConfig("northwind")).toMatchObject({ ttlDays: 9, calledAeTitles: ["NORTHWIND"], version: 1 });
  });

  it("re-applies when the engine loses its copy (drift)", async () => {
    const engineDb = postgres(dbs.engineUrl, { max: 1, onnotice: () => {} });
    await engineDb`delete from tenant_configs`;
    await engineDb.end();
    const client = createEngineClient({ url: `http://127.0.0.1:${port}`, token: TOKEN });
    const back = await until(() => client.getTenantConfig("northwind"), (c) => c !== null);
    expect(back).toMatchObject({ ttlDays: 9, version: 1 });
  });
});
