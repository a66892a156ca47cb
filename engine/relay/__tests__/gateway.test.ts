import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createTestDatabases } from "../../../test/databases";
import { PYDICOM_TEST_FILES, datasetDump, dcmtk } from "../../../test/dcmtk";
import { startTestEngine } from "../../../test/engine";
import { enrolTestRouter } from "../../../test/routers";
import { startStorescp } from "../../../test/pacs";
import { createCa } from "../ca";
import { startRouterAgent } from "../../router-agent/agent";
import { forwardExact } from "../../dicom/store-exact";
import { until } from "../../../test/until";

const TOKEN = "gateway-test-token-".padEnd(48, "g");
const CT = path.join(PYDICOM_TEST_FILES, "CT_small.dcm");


describe("router gateway and agent: vendor → engine → router → PACS", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let pacs: Awaited<ReturnType<typeof startStorescp>>;
  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const enroll = (slug: string) => enrolTestRouter(engine, TOKEN, slug, `${slug} site`);
  const storescu = (calledAe: string, file: string) =>
    dcmtk("storescu", ["-aet", "VENDOR_AI", "-aec", calledAe, "127.0.0.1", String(engine.dicomPort), file]);
  const results = async (slug: string) => (await api(`/v1/tenants/${slug}/results`)).body.results as Array<Record<string, any>>;
  const wsUrl = () => `wss://localhost:${engine.gatewayPort}`;

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    pacs = await startStorescp();
    for (const [slug, ae] of [["alpha", "ALPHA"], ["bravo", "BRAVO"]]) {
      await api(`/v1/tenants/${slug}`, { method: "PUT", body: JSON.stringify({ ttlDays: 7, calledAeTitles: [ae], allowedCallingAeTitles: [], version: 1 }) });
    }
  });
  afterAll(async () => {
    pacs?.stop();
    await engine?.close();
    await dbs?.drop();
  });

  it("enrolls a router once and delivers a held result byte-exact to the PACS, then acks it", async () => {
    const bundle = await enroll("alpha");
    const listed = (await api("/v1/tenants/alpha/routers")).body.routers.find((r: { id: string }) => r.id === bundle.router.id);
    expect(listed).toMatchObject({ subject: "CN=alpha", name: "alpha site" });
    expect((await storescu("ALPHA", CT)).code).toBe(0);
    const agent = startRouterAgent({
      gatewayUrl: wsUrl(),
      tls: { certPem: bundle.certificatePem, keyPem: bundle.privateKeyPem, caPem: bundle.caCertificatePem },
      spoolDir: mkdtempSync(path.join(os.tmpdir(), "spool-")),
      forward: (file, result) => forwardExact(file, result, { host: "127.0.0.1", port: pacs.port, aeTitle: pacs.aeTitle }, "ROUTER"),
      log: () => {},
    });
    try {
      const [acked] = await until(() => results("alpha"), (r) => r[0]?.status === "acked");
      const stored = await pacs.files();
      expect(stored).toHaveLength(1);
      expect(await datasetDump(stored[0]!)).toBe(await datasetDump(CT));
      const timeline = (await api(`/v1/tenants/alpha/results/${acked!.id}`)).body.timeline.map((e: { type: string }) => e.type);
      expect(timeline).toEqual(["result.received", "result.notified", "result.pulled", "result.acked"]);
      const routers = (await api("/v1/tenants/alpha/routers")).body;
      expect(routers.routers[0]).toMatchObject({ connected: true, subject: "CN=alpha" });
      expect(routers.routers[0].lastPullLatencyMs).toBeGreaterThanOrEqual(0);

      // A result arriving while connected is pushed at once.
      const before = (await pacs.files()).length;
      expect((await storescu("ALPHA", path.join(PYDICOM_TEST_FILES, "MR_small.dcm"))).code).toBe(0);
      await until(() => pacs.files(), (f) => f.length === before + 1);
    } finally {
      agent.stop();
    }
  });

  it("a router with tenant A's certificate never sees tenant B's results", async () => {
    expect((await storescu("BRAVO", CT)).code).toBe(0);
    const bundle = await enroll("alpha");
    const seen: string[] = [];
    const ws = new WebSocket(wsUrl(), { cert: bundle.certificatePem, key: bundle.privateKeyPem, ca: bundle.caCertificatePem });
    ws.on("message", (d) => seen.push(String(d)));
    await until(() => seen, (s) => s.some((m) => m.includes('"hello"')));
    const [bravo] = await results("bravo");
    ws.send(JSON.stringify({ type: "pull", id: bravo!.id }));
    await until(() => seen, (s) => s.some((m) => m.includes("pull-failed")));
    expect(seen.join("\n")).not.toContain(bravo!.sopInstanceUid);
    expect((await results("bravo"))[0]!.status).toBe("held");
    ws.close();
  });

  it("refuses no certificate, another CA's and an expired one before the WebSocket opens, saying why", async () => {
    const attempt = (opts: WebSocket.ClientOptions) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(wsUrl(), { ...opts });
        ws.on("open", () => (ws.close(), resolve("open")));
        ws.on("error", (e) => resolve(`error: ${e.message}`));
        ws.on("unexpected-response", (_req, res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve(`${res.statusCode} ${body}`));
        });
      });
    const caCertificatePem = engine.caCertPem;
    expect(await attempt({ ca: caCertificatePem })).toBe("401 no router certificate: enrol the router with a code from the console first");
    const otherCa = await createCa("Someone else's CA");
    const { CertificateAuthority } = await import("../ca");
    const foreign = await (await CertificateAuthority.load(otherCa)).issueRouter("alpha");
    expect(await attempt({ ca: caCertificatePem, cert: foreign.certPem, key: foreign.keyPem })).toMatch(/^401 the router certificate is not from this gateway's CA/);
    const expired = await engine.issueUnenrolledRouterCert("alpha", -1);
    expect(await attempt({ ca: caCertificatePem, cert: expired.certPem, key: expired.keyPem })).toBe("401 the router certificate has expired: enrol the router again with a new code");
  });

  it("closes a connection whose certificate is from our CA but not enrolled, or revoked", async () => {
    const closeCode = (cert: { certPem: string; keyPem: string }, ca: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(wsUrl(), { ca, cert: cert.certPem, key: cert.keyPem });
        ws.on("close", (code) => resolve(code));
        ws.on("error", () => {});
      });
    const stray = await engine.issueUnenrolledRouterCert("alpha");
    expect(await closeCode(stray, engine.caCertPem)).toBe(4003);

    const bundle = await enroll("alpha");
    const ws = new WebSocket(wsUrl(), { ca: bundle.caCertificatePem, cert: bundle.certificatePem, key: bundle.privateKeyPem });
    const closed = new Promise<number>((resolve) => ws.on("close", (c) => resolve(c)));
    await new Promise((r) => ws.once("open", r));
    expect((await api(`/v1/tenants/alpha/routers/${bundle.router.id}`, { method: "DELETE" })).status).toBe(200);
    expect(await closed).toBe(4003);
    expect(await closeCode({ certPem: bundle.certificatePem, keyPem: bundle.privateKeyPem }, bundle.caCertificatePem)).toBe(4003);
  });

  it("answers malformed messages and acks for unknown results without dropping the connection", async () => {
    const bundle = await enroll("alpha");
    const seen: string[] = [];
    const ws = new WebSocket(wsUrl(), { cert: bundle.certificatePem, key: bundle.privateKeyPem, ca: bundle.caCertificatePem });
    ws.on("message", (d) => seen.push(String(d)));
    await new Promise((r) => ws.once("open", r));
    ws.send("not json at all");
    ws.send(JSON.stringify({ type: "pull" }));
    ws.send(JSON.stringify({ type: "explode" }));
    ws.send(JSON.stringify({ type: "ack", id: "00000000-0000-4000-8000-000000000000" }));
    ws.send(JSON.stringify({ type: "heartbeat" }));
    await until(() => seen, (s) => s.some((m) => m.includes("heartbeat-ack")));
    const types = seen.map((m) => JSON.parse(m).type);
    expect(types.filter((t) => t === "error")).toHaveLength(3);
    expect(types).toContain("ack-ignored");
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });
});
