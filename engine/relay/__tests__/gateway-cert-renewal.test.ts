import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createTestDatabases } from "../../../test/databases";
import { startTestEngine } from "../../../test/engine";
import { enrolTestRouter } from "../../../test/routers";
import { until } from "../../../test/until";

const TOKEN = "cert-renewal-test-token-".padEnd(48, "r");
const LIFETIME_S = 60;

describe("the gateway's server certificate renews itself", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  const logs: string[] = [];
  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  /** The server certificate a new TLS connection is served, checked against the CA as a router checks it. */
  const served = (ca: string) =>
    new Promise<{ validTo: number } | { error: string }>((resolve) => {
      const s = tls.connect({ host: "127.0.0.1", port: engine.gatewayPort, servername: "localhost", ca }, () => {
        resolve({ validTo: Date.parse(s.getPeerCertificate().valid_to) });
        s.destroy();
      });
      s.on("error", (e) => resolve({ error: e.message }));
    });
  const connect = (b: { certificatePem: string; privateKeyPem: string; caCertificatePem: string }) =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`wss://localhost:${engine.gatewayPort}`, { cert: b.certificatePem, key: b.privateKeyPem, ca: b.caCertificatePem });
      ws.once("message", () => resolve(ws)); // hello
      ws.once("error", reject);
    });

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, env: { ENGINE_GATEWAY_CERT_LIFETIME_SECONDS: String(LIFETIME_S) }, log: (m) => logs.push(m) });
    await api("/v1/tenants/site", { method: "PUT", body: JSON.stringify({ ttlDays: 7, calledAeTitles: ["SITE"], allowedCallingAeTitles: [], version: 1 }) });
  });
  afterAll(async () => {
    await engine?.close();
    await dbs?.drop();
  });

  it("renews before expiry without dropping a live router, and a router connecting after the first one's expiry gets the new one", { timeout: 120_000 }, async () => {
    const enrol = (name: string) => enrolTestRouter(engine, TOKEN, "site", name);
    const first = await enrol("first");
    const original = await served(first.caCertificatePem);
    if (!("validTo" in original)) throw new Error(original.error);
    expect(original.validTo - Date.now()).toBeLessThanOrEqual(LIFETIME_S * 1000);
    const live = await connect(first);
    let closed = false;
    live.on("close", () => (closed = true));

    // Past the original certificate's expiry (whole seconds in valid_to: one more to be sure).
    await new Promise((r) => setTimeout(r, original.validTo - Date.now() + 1500));
    expect(logs.some((m) => m.includes("server certificate renewed"))).toBe(true);
    const renewed = await served(first.caCertificatePem);
    expect(renewed).toMatchObject({ validTo: expect.any(Number) });
    expect((renewed as { validTo: number }).validTo).toBeGreaterThan(Date.now());

    const second = await connect(await enrol("second"));
    expect(closed).toBe(false);
    const routers = await until(async () => (await api("/v1/tenants/site/routers")).body.routers as { name: string; connected: boolean }[], (r) => r.filter((x) => x.connected).length === 2);
    expect(routers.map((r) => r.name).sort()).toEqual(["first", "second"]);
    live.close();
    second.close();
  });
});
