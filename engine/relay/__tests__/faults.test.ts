import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { PYDICOM_TEST_FILES, datasetBytes, dcmtk } from "../../../test/dcmtk";
import { startTestEngine } from "../../../test/engine";
import { startStorescp } from "../../../test/pacs";
import { freePort } from "../../../scripts/lib/ports";
import { copyFile, readdir, readFile, rename, truncate } from "node:fs/promises";
import { until } from "../../../test/until";

const TOKEN = "faults-token-".padEnd(48, "f");
const CT = path.join(PYDICOM_TEST_FILES, "CT_small.dcm");
const ROOT = path.resolve(import.meta.dirname, "../../..");


describe("relay faults", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let pacs: Awaited<ReturnType<typeof startStorescp>>;
  const children: ChildProcess[] = [];
  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const results = async () => (await api("/v1/tenants/site/results")).body.results as Array<Record<string, any>>;

  /** The router agent as its own process, as on a site, so the test can kill it. */
  async function startAgentProcess(pacsPort: number) {
    const bundle = (await api("/v1/tenants/site/routers", { method: "POST", body: JSON.stringify({ name: "site router" }) })).body;
    const dir = mkdtempSync(path.join(os.tmpdir(), "router-"));
    writeFileSync(path.join(dir, "cert.pem"), bundle.certificatePem);
    writeFileSync(path.join(dir, "key.pem"), bundle.privateKeyPem);
    writeFileSync(path.join(dir, "ca.pem"), bundle.caCertificatePem);
    // One process (tsx as a loader, not its CLI wrapper), so SIGKILL really kills the agent.
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "engine/router-agent/main.ts")], {
      cwd: ROOT,
      env: {
        ...process.env,
        ROUTER_GATEWAY_URL: `wss://localhost:${engine.gatewayPort}`,
        ROUTER_CERT_FILE: path.join(dir, "cert.pem"),
        ROUTER_KEY_FILE: path.join(dir, "key.pem"),
        ROUTER_CA_FILE: path.join(dir, "ca.pem"),
        ROUTER_PACS_HOST: "127.0.0.1",
        ROUTER_PACS_PORT: String(pacsPort),
        ROUTER_PACS_AE: pacs.aeTitle,
        ROUTER_SPOOL_DIR: path.join(dir, "spool"),
      },
      stdio: "ignore",
    });
    children.push(child);
    return child;
  }

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    pacs = await startStorescp();
    await api("/v1/tenants/site", { method: "PUT", body: JSON.stringify({ ttlDays: 7, calledAeTitles: ["SITE"], allowedCallingAeTitles: [], version: 1 }) });
  });
  afterAll(async () => {
    for (const c of children) c.kill("SIGKILL");
    pacs?.stop();
    await engine?.close();
    await dbs?.drop();
  });

  it("a router killed mid-pull gets the result again after reconnecting, and it is acked once", async () => {
    // A "PACS" that accepts TCP and never answers holds the first agent inside its forward, after the pull.
    const hang = net.createServer(() => {});
    const hangPort = await freePort();
    await new Promise<void>((r) => hang.listen(hangPort, "127.0.0.1", r));
    expect((await dcmtk("storescu", ["-aet", "VENDOR", "-aec", "SITE", "127.0.0.1", String(engine.dicomPort), CT])).code).toBe(0);
    const first = await startAgentProcess(hangPort);
    await until(results, (r) => r[0]?.status === "pulled");
    first.kill("SIGKILL");
    hang.close();

    await startAgentProcess(pacs.port);
    const [acked] = await until(results, (r) => r[0]?.status === "acked");
    const timeline = (await api(`/v1/tenants/site/results/${acked!.id}`)).body.timeline.map((e: { type: string }) => e.type);
    expect(timeline.filter((t: string) => t === "result.pulled")).toHaveLength(2);
    expect(timeline.filter((t: string) => t === "result.acked")).toHaveLength(1);
    const files = await pacs.files();
    expect(files).toHaveLength(1);
  });

  it("restarting the engine with results held loses nothing", async () => {
    await Promise.all(children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((r) => (c.once("exit", r), c.kill("SIGKILL")))));
    await until(async () => (await api("/v1/tenants/site/routers")).body.routers.filter((r: { connected: boolean }) => r.connected).length, (n) => n === 0);
    const mr = path.join(PYDICOM_TEST_FILES, "MR_small.dcm");
    expect((await dcmtk("storescu", ["-aet", "VENDOR", "-aec", "SITE", "127.0.0.1", String(engine.dicomPort), mr])).code).toBe(0);
    const held = (await results()).find((r) => r.status !== "acked")!;
    const bytesBefore = await engine.readResultBytes("site", held.id);
    const { masterKey, blobDir } = engine;
    await engine.close();

    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, masterKey, blobDir });
    const after = (await results()).find((r) => r.id === held.id)!;
    expect(after).toMatchObject({ status: "held", sha256: held.sha256, sizeBytes: held.sizeBytes });
    expect((await engine.readResultBytes("site", held.id)).equals(bytesBefore)).toBe(true);

    const before = (await pacs.files()).length;
    await startAgentProcess(pacs.port);
    await until(results, (r) => r.find((x) => x.id === held.id)?.status === "acked");
    const files = await pacs.files();
    expect(files.length).toBe(before + 1);
    const delivered = await Promise.all(files.map((f) => readFile(f)));
    expect(delivered.some((b) => datasetBytes(b).equals(datasetBytes(bytesBefore)))).toBe(true);
  });

  it("an engine stopped between a result's commit and its blob's fsync: a complete blob is put in place, an incomplete one's result is purged", async () => {
    await Promise.all(children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((r) => (c.once("exit", r), c.kill("SIGKILL")))));
    await until(async () => (await api("/v1/tenants/site/routers")).body.routers.filter((r: { connected: boolean }) => r.connected).length, (n) => n === 0);
    const live = new Set((await results()).filter((r) => r.status === "held").map((r) => r.id));
    for (const f of ["CT_small.dcm", "MR_small.dcm"])
      expect((await dcmtk("storescu", ["-aet", "VENDOR", "-aec", "SITE", "127.0.0.1", String(engine.dicomPort), path.join(PYDICOM_TEST_FILES, f)])).code).toBe(0);
    const fresh = (await results()).filter((r) => r.status === "held" && !live.has(r.id));
    const ct = fresh.find((r) => r.modality === "CT")!;
    const mr = fresh.find((r) => r.modality === "MR")!;
    const ctBytes = await engine.readResultBytes("site", ct.id);
    const { masterKey, blobDir } = engine;
    await engine.close();
    // The state a crash leaves when rows committed while their blobs were being fsynced: the blobs are still
    // their temporary files, one complete, one cut short.
    const blob = (id: string) => path.join(blobDir, "site", id);
    await rename(blob(ct.id), `${blob(ct.id)}.partial`);
    await rename(blob(mr.id), `${blob(mr.id)}.partial`);
    await truncate(`${blob(mr.id)}.partial`, 1000);

    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, masterKey, blobDir });
    const after = await results();
    expect(after.find((r) => r.id === ct.id)).toMatchObject({ status: "held", sha256: ct.sha256 });
    expect((await engine.readResultBytes("site", ct.id)).equals(ctBytes)).toBe(true);
    const purged = (await api(`/v1/tenants/site/results/${mr.id}`)).body;
    expect(purged.status).toBe("purged");
    expect(purged.timeline.at(-1)).toMatchObject({ type: "result.purged", payload: { reason: expect.stringContaining("never confirmed") } });
    expect(existsSync(`${blob(mr.id)}.partial`)).toBe(false);
  });

  it("an engine stopped while a replacing C-STORE's bytes were being synced brings the confirmed version back", async () => {
    await until(async () => (await api("/v1/tenants/site/routers")).body.routers.filter((r: { connected: boolean }) => r.connected).length, (n) => n === 0);
    // Two versions of one SOP instance: a fresh UID, then another Series Description under the same UID.
    const dir = mkdtempSync(path.join(os.tmpdir(), "versions-"));
    const [v1, v2] = [path.join(dir, "v1.dcm"), path.join(dir, "v2.dcm")];
    await copyFile(CT, v1);
    expect((await dcmtk("dcmodify", ["-nb", "-gin", v1])).code).toBe(0);
    await copyFile(v1, v2);
    expect((await dcmtk("dcmodify", ["-nb", "-i", "(0008,103e)=second version", v2])).code).toBe(0);
    const send = async (file: string) => expect((await dcmtk("storescu", ["-aet", "VENDOR", "-aec", "SITE", "127.0.0.1", String(engine.dicomPort), file])).code).toBe(0);
    const blobs = async () => (await readdir(path.join(engine.blobDir, "site"))).filter((f) => !f.endsWith(".partial"));

    const before = new Set(await blobs());
    await send(v1);
    const first = (await results()).find((r) => r.status === "held" && !before.has(r.id))!;
    const firstBytes = await engine.readResultBytes("site", first.id);
    const afterFirst = new Set(await blobs());
    // The first version's blob as it is before the replacement deletes it (which happens only once the new one is
    // durable, so a crash before that leaves it in place).
    const firstBlob = path.join(dir, "first-blob");
    await copyFile(path.join(engine.blobDir, "site", first.id), firstBlob);
    await send(v2);
    const replaced = (await results()).find((r) => r.id === first.id)!;
    expect(replaced.sha256).not.toBe(first.sha256);
    const [secondBlob] = (await blobs()).filter((f) => !afterFirst.has(f));
    expect(secondBlob).toBeDefined();

    const { masterKey, blobDir } = engine;
    await engine.close();
    // As a crash leaves it: the replacement's row committed, its blob still a temporary file cut short, and the
    // first version's blob not yet deleted.
    const blob = (id: string) => path.join(blobDir, "site", id);
    await rename(blob(secondBlob!), `${blob(secondBlob!)}.partial`);
    await truncate(`${blob(secondBlob!)}.partial`, 1000);
    expect(existsSync(blob(first.id))).toBe(false);
    await copyFile(firstBlob, blob(first.id));

    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, masterKey, blobDir });
    const restored = (await api(`/v1/tenants/site/results/${first.id}`)).body;
    expect(restored).toMatchObject({ status: "held", sha256: first.sha256, sizeBytes: first.sizeBytes, receivedAt: first.receivedAt, expiresAt: first.expiresAt });
    expect((await engine.readResultBytes("site", first.id)).equals(firstBytes)).toBe(true);
    expect(restored.timeline.map((e: { type: string }) => e.type).slice(-2)).toEqual(["result.replaced", "result.restored"]);
    expect(restored.timeline.at(-1).payload).toMatchObject({ reason: expect.stringContaining("never confirmed"), unconfirmed: { sha256: replaced.sha256 }, sha256: first.sha256 });
    expect(existsSync(`${blob(secondBlob!)}.partial`)).toBe(false);
  });
});
