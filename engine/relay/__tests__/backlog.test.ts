// A router that comes back to a large backlog gets all of it: notified a page at a time with a bounded number
// outstanding, each result pulled, forwarded byte-exact to a real PACS (storescp) and acked once, while results
// that arrive meanwhile are delivered too. The backlog is written through the engine's own storage (a C-STORE
// each would take minutes). Forwarding the 100,000 would take ~50 minutes here (storescu per instance,
// ~35/s on this machine), so the delivery test uses 1,000 (10 pages of 100 with a window of 300), and a separate
// check shows 100,000 pending results, whose single notify frame would have been ~30 MiB (the agent refuses
// frames past 8 MiB), go out in bounded pages.
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createTestDatabases } from "../../../test/databases";
import { PYDICOM_TEST_FILES, dcmtk } from "../../../test/dcmtk";
import { startTestEngine } from "../../../test/engine";
import { enrolTestRouter } from "../../../test/routers";
import { holdResults, writeFreshCopy } from "../../../test/held-results";
import { startStorescp } from "../../../test/pacs";
import { until } from "../../../test/until";
import { forwardExact } from "../../dicom/store-exact";
import { startRouterAgent } from "../../router-agent/agent";

const TOKEN = "backlog-test-token-".padEnd(48, "b");
const CT = path.join(PYDICOM_TEST_FILES, "CT_small.dcm");
const CT_UID = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322";
const BACKLOG = 1000;
const PAGE = 100;
const WINDOW = 300;
const ARRIVING = 5;

describe("backlogs of any size", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let pacs: Awaited<ReturnType<typeof startStorescp>>;
  let sql: postgres.Sql;
  const masterKey = randomBytes(32).toString("base64");
  const blobDir = mkdtempSync(path.join(os.tmpdir(), "backlog-blobs-"));
  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const enroll = (slug: string) => enrolTestRouter(engine, TOKEN, slug, `${slug} site`);

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, {
      token: TOKEN,
      masterKey,
      blobDir,
      env: { ENGINE_RELAY_NOTIFY_PAGE: String(PAGE), ENGINE_RELAY_NOTIFY_WINDOW: String(WINDOW) },
    });
    pacs = await startStorescp();
    sql = postgres(dbs.engineUrl, { max: 2, onnotice: () => {} });
    for (const [slug, ae] of [["site", "SITE"], ["big", "BIG"]])
      await api(`/v1/tenants/${slug}`, { method: "PUT", body: JSON.stringify({ ttlDays: 7, calledAeTitles: [ae], allowedCallingAeTitles: [], version: 1 }) });
  });
  afterAll(async () => {
    pacs?.stop();
    await sql?.end();
    await engine?.close();
    await dbs?.drop();
  });

  it(`delivers a backlog of ${BACKLOG} held results after the router reconnects, each acked once, and what arrives meanwhile`, async () => {
    // The site's router was connected, and went away.
    const bundle = await enroll("site");
    const before = startRouterAgent({
      gatewayUrl: `wss://localhost:${engine.gatewayPort}`,
      tls: { certPem: bundle.certificatePem, keyPem: bundle.privateKeyPem, caPem: bundle.caCertificatePem },
      spoolDir: mkdtempSync(path.join(os.tmpdir(), "spool-")),
      forward: async () => {},
      log: () => {},
    });
    await new Promise<void>((r) => before.onConnected(r));
    before.stop();
    await until(() => api("/v1/tenants/site/routers"), (r) => r.body.routers.every((x: { connected: boolean }) => !x.connected));

    const started = Date.now();
    await holdResults({
      engineUrl: dbs.engineUrl,
      blobDir,
      masterKey,
      tenant: "site",
      calledAe: "SITE",
      count: BACKLOG,
      file: CT,
      sopInstanceUid: CT_UID,
      sopClassUid: "1.2.840.10008.5.1.4.1.1.2",
      transferSyntaxUid: "1.2.840.10008.1.2.1",
      modality: "CT",
    });
    const heldIn = Date.now() - started;

    const frames: { results: number; queued: number }[] = [];
    const forwarded: string[] = [];
    const agent = startRouterAgent({
      gatewayUrl: `wss://localhost:${engine.gatewayPort}`,
      tls: { certPem: bundle.certificatePem, keyPem: bundle.privateKeyPem, caPem: bundle.caCertificatePem },
      spoolDir: mkdtempSync(path.join(os.tmpdir(), "spool-")),
      forward: (file, result) => forwardExact(file, result, { host: "127.0.0.1", port: pacs.port, aeTitle: pacs.aeTitle }, "ROUTER"),
      log: () => {},
    });
    agent.onNotified((results, queued) => frames.push({ results, queued }));
    agent.onForwarded((id) => forwarded.push(id));
    try {
      // New results from a vendor while the backlog drains.
      await until(() => forwarded.length, (n) => n >= 200, 60_000, 50);
      const dir = mkdtempSync(path.join(os.tmpdir(), "arriving-"));
      for (let i = 0; i < ARRIVING; i++) {
        const { file } = writeFreshCopy(CT, CT_UID, dir, 900_000 + i);
        expect((await dcmtk("storescu", ["-aet", "VENDOR_AI", "-aec", "SITE", "127.0.0.1", String(engine.dicomPort), file])).code).toBe(0);
      }
      const total = BACKLOG + ARRIVING;
      await until(async () => Number((await sql`select count(*)::int as n from results where tenant_slug = 'site' and status = 'acked'`)[0]!.n), (n) => n === total, 120_000, 200);
      const drainedIn = Date.now() - started - heldIn;

      expect(new Set(forwarded).size).toBe(total);
      expect(forwarded).toHaveLength(total); // none forwarded twice
      const acks = await sql`select payload->>'resultId' as id, count(*)::int as n from engine_events where tenant_slug = 'site' and type = 'result.acked' group by 1`;
      expect(acks).toHaveLength(total);
      expect(acks.every((a) => a.n === 1)).toBe(true);
      expect(await pacs.files()).toHaveLength(total);
      // Bounded frames and a bounded queue on the agent, however long the backlog.
      expect(Math.max(...frames.map((f) => f.results))).toBeLessThanOrEqual(PAGE);
      expect(Math.max(...frames.map((f) => f.queued))).toBeLessThanOrEqual(WINDOW);
      expect(frames.filter((f) => f.results === PAGE).length).toBeGreaterThanOrEqual(Math.floor(BACKLOG / PAGE) - 1);
      console.log(`backlog: ${BACKLOG} held in ${heldIn} ms; ${total} delivered in ${drainedIn} ms (${Math.round((total / drainedIn) * 1000)}/s), ${frames.length} notify frames`);
    } finally {
      agent.stop();
    }
  }, 180_000);

  it("offers 100,000 pending results in bounded pages, the next only as the router works through them", async () => {
    const COUNT = 100_000;
    // Rows only (no router pulls their bytes here): the point is what the gateway sends and when.
    await sql`
      insert into results (id, tenant_slug, calling_ae, called_ae, peer_address, sop_class_uid, sop_instance_uid, transfer_syntax_uid,
        size_bytes, sha256, blob_id, status, received_at, expires_at, status_changed_at)
      select gen_random_uuid(), 'big', 'VENDOR_AI', 'BIG', '127.0.0.1', '1.2.840.10008.5.1.4.1.1.2', '1.2.826.0.1.3680043.8.498.' || g,
        '1.2.840.10008.1.2.1', 39206, repeat('ab', 32), 'missing-' || g, 'held', now() - make_interval(secs => ${COUNT} - g), now() + interval '7 days', now()
      from generate_series(1, ${COUNT}) g`;
    const bundle = await enroll("big");
    const frames: { type: string; bytes: number; results?: { id: string }[] }[] = [];
    const ws = new WebSocket(`wss://localhost:${engine.gatewayPort}`, { cert: bundle.certificatePem, key: bundle.privateKeyPem, ca: bundle.caCertificatePem, maxPayload: 8 << 20 });
    ws.on("message", (d) => {
      const m = JSON.parse(String(d));
      frames.push({ type: m.type, bytes: String(d).length, results: m.results });
    });
    try {
      const notifies = () => frames.filter((f) => f.type === "notify");
      await until(notifies, (n) => n.length === WINDOW / PAGE, 20_000, 20);
      await new Promise((r) => setTimeout(r, 500));
      expect(notifies()).toHaveLength(WINDOW / PAGE); // nothing more until the router works through them
      expect(frames.find((f) => f.type === "hello")).toBeDefined();

      // The router finds the first page gone (purged meanwhile): each refusal frees a place, and the next page comes.
      const first = notifies()[0]!.results!.map((r) => r.id);
      await sql`update results set status = 'purged' where id = any(${first}::uuid[])`;
      for (const id of first) ws.send(JSON.stringify({ type: "pull", id }));
      await until(notifies, (n) => n.length === WINDOW / PAGE + 1, 20_000, 20);
      const offered = notifies().flatMap((f) => f.results!.map((r) => r.id));
      expect(new Set(offered).size).toBe(offered.length); // never the same result twice
      const largest = Math.max(...notifies().map((f) => f.bytes));
      // What one frame of everything would have been: past the agent's 8 MiB limit.
      const oneFrame = (largest / PAGE) * COUNT;
      expect(oneFrame).toBeGreaterThan(8 << 20);
      expect(largest).toBeLessThan(64 * 1024);
      console.log(`paging: ${COUNT} pending; frames of ${PAGE} results, largest ${largest} bytes; one frame would have been ~${Math.round(oneFrame / 1048576)} MiB`);
    } finally {
      ws.close();
    }
  });
});
