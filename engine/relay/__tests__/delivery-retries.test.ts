// Nacked results are offered again with backoff while the router stays connected: a PACS (storescp) that is down
// for a while gets every result once it is back, long before any TTL; one that stays down gets the result flagged
// "delivery failing" (its event written once), retried at the capped backoff, and the flag cleared by the ack.
// Backoff is 200 ms doubling to 800 ms here (5 s to 5 min by default), so the outages are seconds, not minutes.
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { PYDICOM_TEST_FILES, dcmtk } from "../../../test/dcmtk";
import { startTestEngine } from "../../../test/engine";
import { enrolTestRouter } from "../../../test/routers";
import { writeFreshCopy } from "../../../test/held-results";
import { startStorescp } from "../../../test/pacs";
import { until } from "../../../test/until";
import { forwardExact } from "../../dicom/store-exact";
import { startRouterAgent } from "../../router-agent/agent";

const TOKEN = "retries-test-token-".padEnd(48, "r");
const CT = path.join(PYDICOM_TEST_FILES, "CT_small.dcm");
const CT_UID = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322";
const FAILING_AFTER = 5;

describe("nacked results are retried", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let pacs: Awaited<ReturnType<typeof startStorescp>>;
  let sql: postgres.Sql;
  let agent: ReturnType<typeof startRouterAgent>;
  let connections = 0;
  let n = 0;
  const dir = mkdtempSync(path.join(os.tmpdir(), "retries-"));
  const trail: string[] = [];
  const keep = (m: string) => void trail.push(`${new Date().toISOString()} ${m}`);
  beforeEach(({ onTestFailed }) => {
    trail.length = 0;
    onTestFailed(() => console.log(trail.join("\n")));
  });
  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const result = async (id: string) => (await api(`/v1/tenants/site/results/${id}`)).body;
  /** A vendor sends a new CT instance; resolves with its result's id. */
  async function vendorSends() {
    const { uid, file } = writeFreshCopy(CT, CT_UID, dir, n++);
    expect((await dcmtk("storescu", ["-aet", "VENDOR_AI", "-aec", "SITE", "127.0.0.1", String(engine.dicomPort), file])).code).toBe(0);
    const [row] = await until(() => sql`select id from results where sop_instance_uid = ${uid}`, (r) => r.length === 1);
    return row!.id as string;
  }

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, {
      token: TOKEN,
      log: keep,
      env: { ENGINE_RELAY_RETRY_FIRST_MS: "200", ENGINE_RELAY_RETRY_MAX_MS: "800", ENGINE_RELAY_FAILING_AFTER: String(FAILING_AFTER) },
    });
    pacs = await startStorescp();
    sql = postgres(dbs.engineUrl, { max: 2, onnotice: () => {} });
    await api("/v1/tenants/site", { method: "PUT", body: JSON.stringify({ ttlDays: 7, calledAeTitles: ["SITE"], allowedCallingAeTitles: [], version: 1 }) });
    const bundle = await enrolTestRouter(engine, TOKEN, "site", "site router");
    // The PACS is found by the port it had: stopping and starting it again is an outage the agent cannot tell apart.
    const at = { port: pacs.port, aeTitle: pacs.aeTitle };
    agent = startRouterAgent({
      gatewayUrl: `wss://localhost:${engine.gatewayPort}`,
      tls: { certPem: bundle.certificatePem, keyPem: bundle.privateKeyPem, caPem: bundle.caCertificatePem },
      spoolDir: mkdtempSync(path.join(os.tmpdir(), "spool-")),
      forward: (file, r) => forwardExact(file, r, { host: "127.0.0.1", ...at }, "ROUTER"),
      log: (m) => keep(`agent: ${m}`),
    });
    agent.onConnected(() => connections++);
    await until(() => connections, (c) => c === 1);
  });
  afterAll(async () => {
    agent?.stop();
    pacs?.stop();
    await sql?.end();
    await engine?.close();
    await dbs?.drop();
  });

  it("a PACS down for a few seconds gets every result once it is back, on the same connection", async () => {
    await pacs.stopped();
    const downSince = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await vendorSends());
    // Nacked and offered again, several times, while the link stays up.
    await until(() => sql`select delivery_attempts from results where id = any(${ids}::uuid[])`, (r) => r.length === 5 && r.every((x) => x.delivery_attempts >= 2), 20_000, 50);
    const down = await result(ids[0]!);
    expect(down.status).not.toBe("acked");
    expect(down.lastFailureReason).toMatch(/PACS did not accept/);
    expect(down.nextAttemptAt).not.toBeNull();
    await new Promise((r) => setTimeout(r, Math.max(0, 3000 - (Date.now() - downSince)))); // down for 3 s at least

    pacs = await startStorescp(pacs.aeTitle, { at: { port: pacs.port, dir: pacs.dir } });
    await until(() => sql`select status from results where id = any(${ids}::uuid[])`, (r) => r.every((x) => x.status === "acked"), 20_000, 50);
    expect(connections).toBe(1);
    const timeline: string[] = (await result(ids[0]!)).timeline.map((e: { type: string }) => e.type);
    expect(timeline.filter((t) => t === "result.pulled").length).toBeGreaterThanOrEqual(3);
    expect(timeline.at(-1)).toBe("result.acked");
    expect(timeline.filter((t) => t === "result.acked")).toHaveLength(1);
    const stored = (await pacs.files()).length;
    expect(stored).toBe(5);
  });

  it("a PACS that stays down gets the result flagged delivery failing, once; the ack after it comes back clears it", async () => {
    await pacs.stopped();
    const id = await vendorSends();
    const failing = await until(() => result(id), (r) => r.deliveryFailing !== null, 20_000, 50);
    expect(failing.deliveryFailing).toMatchObject({ attempts: FAILING_AFTER });
    expect(failing.deliveryFailing.reason).toMatch(/PACS did not accept/);
    const listed = (await api("/v1/tenants/site/results")).body.results.find((r: { id: string }) => r.id === id);
    expect(listed.deliveryFailing.since).toBe(failing.deliveryFailing.since);

    // Still retried, at the capped backoff, and the event is not repeated.
    await until(() => result(id), (r) => r.deliveryAttempts >= FAILING_AFTER + 3, 20_000, 50);
    const events = async () => (await sql`select payload from engine_events where type = 'result.delivery_failing' and payload->>'resultId' = ${id}`).map((e) => e.payload);
    expect(await events()).toHaveLength(1);
    expect((await events())[0]).toMatchObject({ resultId: id, attempts: FAILING_AFTER, reason: expect.stringMatching(/PACS did not accept/) });
    const gaps = (await sql`select created_at from engine_events where type = 'result.notified' and payload->>'resultId' = ${id} and payload ? 'forwardFailed' order by id`).map((e) => (e.created_at as Date).getTime());
    // Doubling from 200 ms, capped at 800 ms: the later gaps are at the cap (plus the time a failed forward takes).
    const later = gaps.slice(FAILING_AFTER).map((t, i) => t - gaps[FAILING_AFTER - 1 + i]!);
    expect(Math.min(...later)).toBeGreaterThanOrEqual(750);

    pacs = await startStorescp(pacs.aeTitle, { at: { port: pacs.port, dir: pacs.dir } });
    const acked = await until(() => result(id), (r) => r.status === "acked", 20_000, 50);
    expect(acked.deliveryFailing).toBeNull();
    expect(acked.timeline.at(-1)).toMatchObject({ type: "result.acked", payload: { deliveryFailingCleared: true } });
    expect(await events()).toHaveLength(1);
    expect(connections).toBe(1);
  });
});
