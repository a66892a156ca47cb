import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { PYDICOM_TEST_FILES, dcmtk } from "../../../test/dcmtk";
import { TestClock, startTestEngine } from "../../../test/engine";
import { startStorescp } from "../../../test/pacs";
import { enrolTestRouter } from "../../../test/routers";
import { until } from "../../../test/until";
import { forwardExact } from "../../dicom/store-exact";
import { startRouterAgent } from "../../router-agent/agent";

const TOKEN = "router-health-token-".padEnd(48, "h");

describe("router health survives an engine restart, and a silent router is announced once", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let pacs: Awaited<ReturnType<typeof startStorescp>>;
  const clock = new TestClock();
  const api = async (p: string) => (await fetch(engine.url + p, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
  const router = async (id: string) => ((await api("/v1/tenants/site/routers")).routers as Record<string, any>[]).find((r) => r.id === id)!;
  const events = async (type: string) => {
    const sql = postgres(dbs.engineUrl, { max: 1 });
    try {
      return await sql<{ payload: Record<string, unknown> }[]>`select payload from engine_events where type = ${type} order by id`;
    } finally {
      await sql.end();
    }
  };

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, clock });
    pacs = await startStorescp();
    await fetch(`${engine.url}/v1/tenants/site`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ ttlDays: 7, calledAeTitles: ["SITE"], allowedCallingAeTitles: [], version: 1 }),
    });
  });
  afterAll(async () => {
    pacs?.stop();
    await engine?.close();
    await dbs?.drop();
  });

  it("keeps connected-since, last heartbeat, last pull and its latency across a restart; stale once, then recovered", async () => {
    const enrolled = await enrolTestRouter(engine, TOKEN, "site");
    const agent = () =>
      startRouterAgent({
        gatewayUrl: `wss://localhost:${engine.gatewayPort}`,
        tls: { certPem: enrolled.certificatePem, keyPem: enrolled.privateKeyPem, caPem: enrolled.caCertificatePem },
        spoolDir: mkdtempSync(path.join(os.tmpdir(), "spool-")),
        forward: (file, r) => forwardExact(file, r, { host: "127.0.0.1", port: pacs.port, aeTitle: pacs.aeTitle }, "ROUTER"),
        log: () => {},
      });
    const first = agent();
    expect((await dcmtk("storescu", ["-aet", "VENDOR", "-aec", "SITE", "127.0.0.1", String(engine.dicomPort), path.join(PYDICOM_TEST_FILES, "CT_small.dcm")])).code).toBe(0);
    await until(async () => (await api("/v1/tenants/site/results")).results[0]?.status, (s) => s === "acked");
    const live = await until(() => router(enrolled.router.id), (r) => r.connected && r.lastPullAt !== null);
    expect(live).toMatchObject({ connectedSince: expect.any(String), lastHeartbeat: expect.any(String), lastPullLatencyMs: expect.any(Number), staleSince: null, disconnectedAt: null });
    first.stop();
    const offline = await until(() => router(enrolled.router.id), (r) => !r.connected && r.disconnectedAt !== null);

    const { masterKey, blobDir, ca } = engine;
    await engine.close();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, clock, masterKey, blobDir, ca });
    const after = await router(enrolled.router.id);
    for (const k of ["connectedSince", "disconnectedAt", "lastHeartbeat", "lastPullAt", "lastPullLatencyMs", "address"]) expect(after[k], k).toEqual(offline[k]);
    expect(after.connected).toBe(false);

    // Silent for longer than the threshold (90 s by default): flagged and announced once.
    expect(await engine.checkRouters()).toBe(0);
    clock.advanceDays(2 / 1440);
    expect(await engine.checkRouters()).toBe(1);
    expect(await engine.checkRouters()).toBe(0);
    expect((await router(enrolled.router.id)).staleSince).toBe(clock.now().toISOString());
    const stale = await events("router.stale");
    expect(stale).toHaveLength(1);
    expect(stale[0]!.payload).toMatchObject({ routerId: enrolled.router.id, lastHeartbeatAt: offline.lastHeartbeat });

    // Heard from again: the flag goes, and that is announced too.
    const second = agent();
    try {
      await until(() => router(enrolled.router.id), (r) => r.connected && r.staleSince === null);
      expect(await events("router.recovered")).toHaveLength(1);
    } finally {
      second.stop();
    }
  });
});
