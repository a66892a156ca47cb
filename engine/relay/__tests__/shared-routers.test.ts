import type { ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { PYDICOM_TEST_FILES, dcmtk } from "../../../test/dcmtk";
import { startTestEngine } from "../../../test/engine";
import { startStorescp } from "../../../test/pacs";
import { enrolTestRouter, spawnAgentProcess } from "../../../test/routers";
import { until } from "../../../test/until";
import { freePort } from "../../../scripts/lib/ports";
import { forwardExact } from "../../dicom/store-exact";
import { startRouterAgent } from "../../router-agent/agent";

const TOKEN = "shared-routers-token-".padEnd(48, "s");
const N = 8;
/** results router A pulls at once (and holds, its PACS never answering) */
const A_PULLS = 3;

describe("several routers share a tenant's results", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let pacs: Awaited<ReturnType<typeof startStorescp>>;
  let hang: net.Server;
  const children: ChildProcess[] = [];
  const results = async () => (await (await fetch(`${engine.url}/v1/tenants/site/results?limit=100`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()).results as Record<string, any>[];

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    pacs = await startStorescp();
    await fetch(`${engine.url}/v1/tenants/site`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ ttlDays: 7, calledAeTitles: ["SITE"], allowedCallingAeTitles: [], version: 1 }),
    });
  });
  afterAll(async () => {
    for (const c of children) c.kill("SIGKILL");
    hang?.close();
    pacs?.stop();
    await engine?.close();
    await dbs?.drop();
  });

  it("each result is pulled by one router at a time; one killed mid-pull leaves its results to the other; each reaches the PACS once", { timeout: 90_000 }, async () => {
    // Router A: its own process, forwarding to a "PACS" that accepts TCP and never answers, so its pulls hang.
    hang = net.createServer(() => {});
    const hangPort = await freePort();
    await new Promise<void>((r) => hang.listen(hangPort, "127.0.0.1", r));
    const a = await enrolTestRouter(engine, TOKEN, "site", "router A");
    const dir = mkdtempSync(path.join(os.tmpdir(), "router-a-"));
    const routerA = spawnAgentProcess(a, { gatewayPort: engine.gatewayPort, pacs: { port: hangPort, aeTitle: "HANG" }, dir, env: { ROUTER_CONCURRENCY: String(A_PULLS) } });
    children.push(routerA);

    const files = Array.from({ length: N }, (_, i) => {
      const f = path.join(dir, `ct-${i}.dcm`);
      copyFileSync(path.join(PYDICOM_TEST_FILES, "CT_small.dcm"), f);
      return f;
    });
    for (const f of files) expect((await dcmtk("dcmodify", ["-nb", "-gin", f])).code).toBe(0);
    expect((await dcmtk("storescu", ["-aet", "VENDOR", "-aec", "SITE", "127.0.0.1", String(engine.dicomPort), ...files])).code).toBe(0);
    // A holds as many results as it pulls at once in its hung forwards.
    const heldByA = (await until(results, (r) => r.filter((x) => x.status === "pulled").length === A_PULLS)).filter((x) => x.status === "pulled").map((x) => x.id);

    // Router B, forwarding to the real PACS: it delivers the rest, but not what A is pulling.
    const b = await enrolTestRouter(engine, TOKEN, "site", "router B");
    const routerB = startRouterAgent({
      gatewayUrl: `wss://localhost:${engine.gatewayPort}`,
      tls: { certPem: b.certificatePem, keyPem: b.privateKeyPem, caPem: b.caCertificatePem },
      spoolDir: mkdtempSync(path.join(os.tmpdir(), "spool-b-")),
      forward: (file, r) => forwardExact(file, r, { host: "127.0.0.1", port: pacs.port, aeTitle: pacs.aeTitle }, "ROUTER_B"),
      log: () => {},
    });
    try {
      await until(results, (r) => r.filter((x) => x.status === "acked").length === N - heldByA.length);
      expect((await results()).filter((x) => heldByA.includes(x.id)).map((x) => x.status)).toEqual(heldByA.map(() => "pulled"));

      // A dies mid-pull: its results go to B.
      routerA.kill("SIGKILL");
      await until(results, (r) => r.length === N && r.every((x) => x.status === "acked"));
    } finally {
      routerB.stop();
    }
    const delivered = (await pacs.files()).map((f) => path.basename(f));
    expect(delivered).toHaveLength(N);
    expect(new Set(delivered).size).toBe(N);

    const sql = postgres(dbs.engineUrl, { max: 1 });
    try {
      const acks = await sql<{ id: string; n: number }[]>`select payload->>'resultId' as id, count(*)::int as n from engine_events where type = 'result.acked' group by 1`;
      expect(acks.map((x) => x.n)).toEqual(Array(N).fill(1));
      const released = await sql<{ id: string }[]>`select payload->>'resultId' as id from engine_events where type = 'result.notified' and payload ? 'released'`;
      expect(released.map((x) => x.id).sort()).toEqual([...heldByA].sort());
      // Each of A's results was pulled by A, then by B; every other one by B alone.
      const pulls = await sql<{ rid: string; router: string }[]>`select payload->>'resultId' as rid, payload->>'routerId' as router from engine_events where type = 'result.pulled' order by id`;
      for (const id of heldByA) expect(pulls.filter((p) => p.rid === id).map((p) => p.router)).toEqual([a.router.id, b.router.id]);
      expect(pulls.filter((p) => !heldByA.includes(p.rid)).every((p) => p.router === b.router.id)).toBe(true);
    } finally {
      await sql.end();
    }
  });
});

describe("a router limited to some called AE titles", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  const pacs: Awaited<ReturnType<typeof startStorescp>>[] = [];
  const results = async () => (await (await fetch(`${engine.url}/v1/tenants/site/results?limit=100`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()).results as Record<string, any>[];

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    await fetch(`${engine.url}/v1/tenants/site`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ ttlDays: 7, calledAeTitles: ["SITE_CT", "SITE_MR"], allowedCallingAeTitles: [], version: 1 }),
    });
  });
  afterAll(async () => {
    for (const p of pacs) p.stop();
    await engine?.close();
    await dbs?.drop();
  });

  it("is offered only results sent to its AE titles; the other router gets the rest", async () => {
    const agents = [];
    for (const ae of ["SITE_CT", "SITE_MR"]) {
      const p = await startStorescp(`PACS_${ae.slice(5)}`);
      pacs.push(p);
      const r = await enrolTestRouter(engine, TOKEN, "site", `router ${ae}`, [ae]);
      agents.push(
        startRouterAgent({
          gatewayUrl: `wss://localhost:${engine.gatewayPort}`,
          tls: { certPem: r.certificatePem, keyPem: r.privateKeyPem, caPem: r.caCertificatePem },
          spoolDir: mkdtempSync(path.join(os.tmpdir(), "spool-")),
          forward: (file, x) => forwardExact(file, x, { host: "127.0.0.1", port: p.port, aeTitle: p.aeTitle }, "ROUTER"),
          log: () => {},
        }),
      );
    }
    try {
      for (const [ae, file] of [["SITE_CT", "CT_small.dcm"], ["SITE_MR", "MR_small.dcm"], ["SITE_CT", "CT_small.dcm"]] as const) {
        const copy = path.join(mkdtempSync(path.join(os.tmpdir(), "ae-")), file);
        copyFileSync(path.join(PYDICOM_TEST_FILES, file), copy);
        expect((await dcmtk("dcmodify", ["-nb", "-gin", copy])).code).toBe(0);
        expect((await dcmtk("storescu", ["-aet", "VENDOR", "-aec", ae, "127.0.0.1", String(engine.dicomPort), copy])).code).toBe(0);
      }
      await until(results, (r) => r.length === 3 && r.every((x) => x.status === "acked"));
    } finally {
      for (const a of agents) a.stop();
    }
    const names = async (p: Awaited<ReturnType<typeof startStorescp>>) => (await p.files()).map((f) => path.basename(f).slice(0, 2));
    expect((await names(pacs[0]!)).sort()).toEqual(["CT", "CT"]);
    expect(await names(pacs[1]!)).toEqual(["MR"]);
    const listed = (await (await fetch(`${engine.url}/v1/tenants/site/routers`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()).routers;
    expect(listed.map((r: { calledAeTitles: string[] }) => r.calledAeTitles).sort()).toEqual([["SITE_CT"], ["SITE_MR"]]);
  });
});
