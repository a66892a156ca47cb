import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, statSync, writeFileSync, readFileSync } from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { startTestEngine } from "../../../test/engine";
import { until } from "../../../test/until";
import WebSocket from "ws";
import { enrolWithCode, newKeyAndCsr } from "../../router-agent/enrolment";
import { startRouterAgent } from "../../router-agent/agent";
import { fingerprint256 } from "../ca";

const TOKEN = "enrolment-test-token-".padEnd(48, "e");
const ROOT = path.resolve(import.meta.dirname, "../../..");

describe("router enrolment by one-time code and a CSR made on the router", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  const children: ChildProcess[] = [];
  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, text: await res.text() };
  };
  const newCode = async (name: string) => {
    const r = await api("/v1/tenants/site/routers", { method: "POST", body: JSON.stringify({ name }) });
    expect(r.status).toBe(201);
    return { raw: r.text, ...(JSON.parse(r.text) as { code: string; gatewayUrl: string; caCertificatePem: string; enrolment: { id: string } }) };
  };
  const gatewayUrl = () => `wss://localhost:${engine.gatewayPort}`;
  /** POST /enrol as a router would, with whatever body. */
  const post = (body: unknown) =>
    new Promise<{ status: number; body: Record<string, string> }>((resolve, reject) => {
      const data = JSON.stringify(body);
      const req = https.request(`https://localhost:${engine.gatewayPort}/enrol`, { method: "POST", ca: engine.caCertPem, headers: { "content-type": "application/json" } }, (res) => {
        let t = "";
        res.on("data", (c: Buffer) => (t += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(t) }));
      });
      req.on("error", reject);
      req.end(data);
    });

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    await api("/v1/tenants/site", { method: "PUT", body: JSON.stringify({ ttlDays: 7, calledAeTitles: ["SITE"], allowedCallingAeTitles: [], version: 1 }) });
  });
  afterAll(async () => {
    for (const c of children) c.kill("SIGKILL");
    await engine?.close();
    await dbs?.drop();
  });

  it("issues a certificate for the router's own key; the engine never holds a private key, and a code works once", async () => {
    const code = await newCode("first");
    expect(code.raw).not.toMatch(/PRIVATE KEY/);
    expect(code.code).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){4}$/);
    // The pending code is listed (without the code itself) until it is used.
    expect(JSON.parse((await api("/v1/tenants/site/routers")).text).enrolments).toEqual([expect.objectContaining({ id: code.enrolment.id, name: "first" })]);

    // A CSR whose signature does not verify is refused, and does not use the code up.
    const { csrPem } = await newKeyAndCsr();
    const body = Buffer.from(csrPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
    body[body.length - 5]! ^= 0xff;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${body.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(await post({ code: code.code, csr: tampered })).toMatchObject({ status: 400, body: { error: "invalid_csr" } });
    expect(await post({ code: code.code })).toMatchObject({ status: 400, body: { message: expect.stringContaining("csr") } });

    const cert = await enrolWithCode({ gatewayUrl: code.gatewayUrl, code: code.code, caPem: code.caCertificatePem });
    expect(cert.tenant).toBe("site");
    await expect(enrolWithCode({ gatewayUrl: code.gatewayUrl, code: code.code, caPem: code.caCertificatePem })).rejects.toThrow(/unknown, already used or expired/);
    expect(JSON.parse((await api("/v1/tenants/site/routers")).text).enrolments).toEqual([]);

    // What the engine holds: the certificate and the code's hash; no private key, not the code, not the router's key.
    const sql = postgres(dbs.engineUrl, { max: 1 });
    try {
      const keyBody = cert.keyPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
      for (const table of ["router_certs", "router_enrolments", "engine_events"]) {
        const dump = JSON.stringify(await sql.unsafe(`select * from ${table}`));
        expect(dump, table).not.toMatch(/PRIVATE KEY/);
        expect(dump, table).not.toContain(keyBody.slice(20, 60));
        expect(dump, table).not.toContain(code.code);
      }
    } finally {
      await sql.end();
    }
    const listed = JSON.parse((await api("/v1/tenants/site/routers")).text).routers;
    expect(listed).toEqual([expect.objectContaining({ id: cert.routerId, name: "first", subject: "CN=site", notAfter: cert.notAfter })]);
  });

  it("refuses an expired code", async () => {
    const code = await newCode("late");
    engine.clock.advanceDays(1.01);
    try {
      await expect(enrolWithCode({ gatewayUrl: gatewayUrl(), code: code.code, caPem: code.caCertificatePem })).rejects.toThrow(/unknown, already used or expired/);
    } finally {
      engine.clock.advanceDays(-1.01);
    }
  });

  it("the agent enrols itself from the console's bundle on first start, keeps its key to itself, and reconnects with it", async () => {
    const code = await newCode("agent");
    const dir = mkdtempSync(path.join(os.tmpdir(), "router-"));
    const bundle = path.join(dir, "bundle.json");
    writeFileSync(bundle, JSON.stringify({ gatewayUrl: code.gatewayUrl, enrolmentCode: code.code, caCertificatePem: code.caCertificatePem }));
    const state = path.join(dir, "state");
    const start = () => {
      const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "engine/router-agent/main.ts")], {
        cwd: ROOT,
        env: { ...process.env, ROUTER_BUNDLE_FILE: bundle, ROUTER_STATE_DIR: state, ROUTER_PACS_HOST: "127.0.0.1", ROUTER_PACS_PORT: "104", ROUTER_PACS_AE: "PACS", ROUTER_SPOOL_DIR: path.join(dir, "spool") },
        stdio: "ignore",
      });
      children.push(child);
      return child;
    };
    const connected = () => until(async () => JSON.parse((await api("/v1/tenants/site/routers")).text).routers.find((r: { name: string }) => r.name === "agent"), (r) => r?.connected === true);
    const first = start();
    await connected();
    expect(statSync(path.join(state, "router.key")).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(state, "router.key"), "utf8")).toContain("PRIVATE KEY");
    await new Promise((r) => (first.once("exit", r), first.kill("SIGTERM")));
    await until(async () => JSON.parse((await api("/v1/tenants/site/routers")).text).routers.find((r: { name: string }) => r.name === "agent").connected, (c) => c === false);
    // The second start finds its key and certificate (the code is used up by now).
    start();
    const again = await connected();
    expect(JSON.parse((await api("/v1/tenants/site/routers")).text).routers.filter((r: { name: string }) => r.name === "agent")).toHaveLength(1);
    expect(again.connected).toBe(true);
  });

  it("a router renews its own certificate over its connection; the old one no longer connects, revocation still closes it", async () => {
    const code = await newCode("renewing");
    const cert = await enrolWithCode({ gatewayUrl: code.gatewayUrl, code: code.code, caPem: code.caCertificatePem });
    const renewed: { certPem: string; keyPem: string }[] = [];
    // Due at once (a test setting; by default when a third of the lifetime is left).
    const agent = startRouterAgent({
      gatewayUrl: gatewayUrl(),
      tls: { certPem: cert.certificatePem, keyPem: cert.keyPem, caPem: code.caCertificatePem },
      spoolDir: mkdtempSync(path.join(os.tmpdir(), "spool-")),
      forward: async () => {},
      renewWhenLeft: 1,
      onRenewed: (c) => renewed.push(c),
      log: () => {},
    });
    try {
      await until(() => renewed.length, (n) => n === 1);
      const [fresh] = renewed;
      expect(fresh!.keyPem).not.toBe(cert.keyPem);
      const sql = postgres(dbs.engineUrl, { max: 1 });
      const [row] = await sql<{ fingerprint256: string }[]>`select fingerprint256 from router_certs where id = ${cert.routerId}`;
      const [event] = await sql<{ type: string }[]>`select type from engine_events where type = 'router.renewed' and payload->>'routerId' = ${cert.routerId}`;
      await sql.end();
      expect(row!.fingerprint256).toBe(fingerprint256(fresh!.certPem));
      expect(event).toBeDefined();
      const routers = JSON.parse((await api("/v1/tenants/site/routers")).text).routers as { id: string; connected: boolean }[];
      expect(routers.find((r) => r.id === cert.routerId)?.connected).toBe(true);

      const closeCode = (c: { certPem: string; keyPem: string }) =>
        new Promise<number>((resolve) => {
          const ws = new WebSocket(gatewayUrl(), { ca: code.caCertificatePem, cert: c.certPem, key: c.keyPem });
          ws.on("close", (n) => resolve(n));
          ws.on("error", () => {});
        });
      expect(await closeCode({ certPem: cert.certificatePem, keyPem: cert.keyPem })).toBe(4003);
      const withNew = new WebSocket(gatewayUrl(), { ca: code.caCertificatePem, cert: fresh!.certPem, key: fresh!.keyPem });
      const closed = new Promise<number>((resolve) => withNew.on("close", (n) => resolve(n)));
      await new Promise((r) => withNew.once("message", r));
      expect((await api(`/v1/tenants/site/routers/${cert.routerId}`, { method: "DELETE" })).status).toBe(200);
      expect(await closed).toBe(4003);
    } finally {
      agent.stop();
    }
  });
});
