import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { PYDICOM_TEST_FILES, datasetBytes, dcmtk } from "../../../test/dcmtk";
import { startTestEngine } from "../../../test/engine";
import { enrolTestRouter, spawnAgentProcess } from "../../../test/routers";
import { startStorescp } from "../../../test/pacs";
import { freePort } from "../../../scripts/lib/ports";
import { copyFile, open, readdir, readFile, rename, utimes } from "node:fs/promises";
import postgres from "postgres";
import { parseSegmentRef } from "../../store/segments";
import { until } from "../../../test/until";

const TOKEN = "faults-token-".padEnd(48, "f");
const CT = path.join(PYDICOM_TEST_FILES, "CT_small.dcm");


describe("relay faults", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let pacs: Awaited<ReturnType<typeof startStorescp>>;
  const children: ChildProcess[] = [];
  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  // The engine's and the agents' logs, printed when a test fails (they run in other processes and under load).
  const trail: string[] = [];
  const keep = (m: string) => void trail.push(`${new Date().toISOString()} ${m}`);
  beforeEach(({ onTestFailed }) => {
    trail.length = 0;
    onTestFailed(() => console.log(trail.join("\n")));
  });
  const results = async () => (await api("/v1/tenants/site/results")).body.results as Array<Record<string, any>>;

  /** The router agent as its own process, as on a site, so the test can kill it. */
  async function startAgentProcess(pacsPort: number) {
    const bundle = await enrolTestRouter(engine, TOKEN, "site", "site router");
    const child: ChildProcess = spawnAgentProcess(bundle, {
      gatewayPort: engine.gatewayPort,
      pacs: { port: pacsPort, aeTitle: pacs.aeTitle },
      dir: mkdtempSync(path.join(os.tmpdir(), "router-")),
      onOutput: (text) => keep(`agent ${child.pid}: ${text}`),
    });
    children.push(child);
    return child;
  }

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, log: keep });
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

  // Two engine starts and an agent process: slow on a loaded machine.
  it("restarting the engine with results held loses nothing", { timeout: 90_000 }, async () => {
    await Promise.all(children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((r) => (c.once("exit", r), c.kill("SIGKILL")))));
    await until(async () => (await api("/v1/tenants/site/routers")).body.routers.filter((r: { connected: boolean }) => r.connected).length, (n) => n === 0);
    const mr = path.join(PYDICOM_TEST_FILES, "MR_small.dcm");
    expect((await dcmtk("storescu", ["-aet", "VENDOR", "-aec", "SITE", "127.0.0.1", String(engine.dicomPort), mr])).code).toBe(0);
    const held = (await results()).find((r) => r.status !== "acked")!;
    const bytesBefore = await engine.readResultBytes("site", held.id);
    const { masterKey, blobDir } = engine;
    await engine.close();

    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, masterKey, blobDir, log: keep });
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

  /** Where a result's bytes are: its own file (named by the result id) or a region of the tenant's segment. */
  const blobIdOf = async (resultId: string) => {
    const sql = postgres(dbs.engineUrl, { max: 1 });
    try {
      const [row] = await sql<{ blob_id: string }[]>`select blob_id from results where id = ${resultId}`;
      return row!.blob_id;
    } finally {
      await sql.end();
    }
  };
  /** A C-ECHO: the engine accepts an association only once the tenant has a segment (or after two seconds). */
  const segmentReady = async () => {
    expect((await dcmtk("echoscu", ["-aet", "VENDOR", "-aec", "SITE", "127.0.0.1", String(engine.dicomPort)])).code).toBe(0);
  };
  /** As a crash leaves a segment: still open (close() sealed it). */
  const reopen = async (blobDir: string, segment: string) => {
    const sealed = path.join(blobDir, "site", `${segment}.seg`);
    if (existsSync(sealed)) await rename(sealed, `${sealed}.open`);
    return `${sealed}.open`;
  };
  const writeAt = async (file: string, bytes: Buffer, offset: number) => {
    const fh = await open(file, "r+");
    await fh.write(bytes, 0, bytes.length, offset).finally(() => fh.close());
  };

  it("an engine stopped between a result's commit and its blob's sync: complete blobs are kept, an incomplete one's result is purged", async () => {
    await Promise.all(children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((r) => (c.once("exit", r), c.kill("SIGKILL")))));
    await until(async () => (await api("/v1/tenants/site/routers")).body.routers.filter((r: { connected: boolean }) => r.connected).length, (n) => n === 0);
    const live = new Set((await results()).filter((r) => r.status === "held").map((r) => r.id));
    await segmentReady();
    // Small results go into the tenant's segment; the ECG waveform (291 kB) into a file of its own.
    for (const f of ["CT_small.dcm", "MR_small.dcm", "waveform_ecg.dcm"])
      expect((await dcmtk("storescu", ["-aet", "VENDOR", "-aec", "SITE", "127.0.0.1", String(engine.dicomPort), path.join(PYDICOM_TEST_FILES, f)])).code).toBe(0);
    const fresh = (await results()).filter((r) => r.status === "held" && !live.has(r.id));
    const [ct, mr, ecg] = ["CT", "MR", "ECG"].map((m) => fresh.find((r) => r.modality === m)!) as [Record<string, any>, Record<string, any>, Record<string, any>];
    const [ctBlob, mrBlob, ecgBlob] = await Promise.all([ct, mr, ecg].map((r) => blobIdOf(r.id)));
    expect(parseSegmentRef(ctBlob!)).not.toBeNull();
    expect(parseSegmentRef(mrBlob!)).not.toBeNull();
    expect(ecgBlob).toBe(ecg.id);
    const ctBytes = await engine.readResultBytes("site", ct.id);
    const ecgBytes = await engine.readResultBytes("site", ecg.id);
    const { masterKey, blobDir } = engine;
    await engine.close();
    // The state a crash leaves when rows committed while their blobs were being synced: the segment still open,
    // with the MR's bytes never written past its start, and the ECG's blob still its (complete) temporary file.
    const mrRef = parseSegmentRef(mrBlob!)!;
    const segment = await reopen(blobDir, mrRef.segment);
    await writeAt(segment, Buffer.alloc(mrRef.length - 100), mrRef.offset + 100);
    const blob = (id: string) => path.join(blobDir, "site", id);
    await rename(blob(ecg.id), `${blob(ecg.id)}.partial`);

    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, masterKey, blobDir, log: keep });
    const after = await results();
    expect(after.find((r) => r.id === ct.id)).toMatchObject({ status: "held", sha256: ct.sha256 });
    expect((await engine.readResultBytes("site", ct.id)).equals(ctBytes)).toBe(true);
    expect(after.find((r) => r.id === ecg.id)).toMatchObject({ status: "held", sha256: ecg.sha256 });
    expect((await engine.readResultBytes("site", ecg.id)).equals(ecgBytes)).toBe(true);
    expect(existsSync(`${blob(ecg.id)}.partial`)).toBe(false);
    const purged = (await api(`/v1/tenants/site/results/${mr.id}`)).body;
    expect(purged.status).toBe("purged");
    expect(purged.timeline.at(-1)).toMatchObject({ type: "result.purged", payload: { reason: expect.stringContaining("never confirmed") } });
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

    await segmentReady();
    const before = new Set((await results()).map((r) => r.id));
    await send(v1);
    const first = (await results()).find((r) => r.status === "held" && !before.has(r.id))!;
    const firstBytes = await engine.readResultBytes("site", first.id);
    const firstRef = parseSegmentRef(await blobIdOf(first.id))!;
    expect(firstRef).not.toBeNull();
    // The first version's stored bytes as they are before the replacement deletes them (which happens only once
    // the new ones are durable, so a crash before that leaves them in place).
    const segmentBytes = async () => readFile(path.join(engine.blobDir, "site", `${firstRef.segment}.seg.open`));
    const firstStored = (await segmentBytes()).subarray(firstRef.offset, firstRef.offset + firstRef.length);
    await send(v2);
    const replaced = (await results()).find((r) => r.id === first.id)!;
    expect(replaced.sha256).not.toBe(first.sha256);
    const secondRef = parseSegmentRef(await blobIdOf(first.id))!;
    expect(secondRef.segment).toBe(firstRef.segment);

    const { masterKey, blobDir } = engine;
    await engine.close();
    // As a crash leaves it: the replacement's row committed, its bytes never written past their start, and the
    // first version's bytes not yet deleted.
    const segment = await reopen(blobDir, firstRef.segment);
    expect((await readFile(segment)).subarray(firstRef.offset, firstRef.offset + firstRef.length).every((b) => b === 0)).toBe(true);
    await writeAt(segment, firstStored, firstRef.offset);
    await writeAt(segment, Buffer.alloc(secondRef.length - 100), secondRef.offset + 100);

    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, masterKey, blobDir, log: keep });
    const restored = (await api(`/v1/tenants/site/results/${first.id}`)).body;
    expect(restored).toMatchObject({ status: "held", sha256: first.sha256, sizeBytes: first.sizeBytes, receivedAt: first.receivedAt, expiresAt: first.expiresAt });
    expect((await engine.readResultBytes("site", first.id)).equals(firstBytes)).toBe(true);
    expect(restored.timeline.map((e: { type: string }) => e.type).slice(-2)).toEqual(["result.replaced", "result.restored"]);
    expect(restored.timeline.at(-1).payload).toMatchObject({ reason: expect.stringContaining("never confirmed"), unconfirmed: { sha256: replaced.sha256 }, sha256: first.sha256 });
  });

  /** A copy of a pydicom test file with a fresh SOP instance UID. */
  const freshCopy = async (file: string) => {
    const copy = path.join(mkdtempSync(path.join(os.tmpdir(), "fresh-")), path.basename(file));
    await copyFile(file, copy);
    expect((await dcmtk("dcmodify", ["-nb", "-gin", copy])).code).toBe(0);
    return copy;
  };
  const events = async (resultId: string) => {
    const sql = postgres(dbs.engineUrl, { max: 1 });
    try {
      return (await sql<{ type: string }[]>`select type from engine_events where payload->>'resultId' = ${resultId} order by id`).map((e) => e.type);
    } finally {
      await sql.end();
    }
  };

  it("a small instance is confirmed once its bytes are durable; a row that fails is retried, and the association's release waits for it", async () => {
    await segmentReady();
    const file = await freshCopy(path.join(PYDICOM_TEST_FILES, "MR_small.dcm"));
    const before = new Set((await results()).map((r) => r.id));
    const sql = postgres(dbs.engineUrl, { max: 1, onnotice: () => {} });
    try {
      // The row's statement fails (its function is gone) for a moment, and works again after the first retry.
      await sql`alter function hold_queue_write(jsonb, jsonb) rename to hold_queue_write_away`;
      const sent = dcmtk("storescu", ["-aet", "VENDOR", "-aec", "SITE", "127.0.0.1", String(engine.dicomPort), file]);
      await new Promise((r) => setTimeout(r, 300));
      await sql`alter function hold_queue_write_away(jsonb, jsonb) rename to hold_queue_write`;
      expect((await sent).code).toBe(0);
    } finally {
      await sql`alter function if exists hold_queue_write_away(jsonb, jsonb) rename to hold_queue_write`.catch(() => {});
      await sql.end();
    }
    // storescu is done once the association is released: by then the result is held, once.
    const fresh = (await results()).filter((r) => !before.has(r.id));
    expect(fresh).toHaveLength(1);
    expect(fresh[0]).toMatchObject({ status: "held", modality: "MR" });
    expect(await events(fresh[0]!.id)).toEqual(["result.received"]);
  });

  /**
   * Stores an instance, stops the engine and leaves things as a crash between the C-STORE response and the row
   * commit does: the blob durable in a segment still open, the row and its event never committed.
   */
  async function crashBeforeRowCommit() {
    await segmentReady();
    const file = await freshCopy(CT);
    const before = new Set((await results()).map((r) => r.id));
    expect((await dcmtk("storescu", ["-aet", "VENDOR", "-aec", "SITE", "127.0.0.1", String(engine.dicomPort), file])).code).toBe(0);
    const held = (await results()).find((r) => !before.has(r.id))!;
    const bytes = await engine.readResultBytes("site", held.id);
    const blobId = await blobIdOf(held.id);
    const { masterKey, blobDir } = engine;
    await engine.close();
    const segmentFile = await reopen(blobDir, parseSegmentRef(blobId)!.segment);
    const sql = postgres(dbs.engineUrl, { max: 1 });
    await sql`delete from engine_events where payload->>'resultId' = ${held.id}`;
    await sql`delete from results where id = ${held.id}`;
    await sql.end();
    return { held, bytes, masterKey, blobDir, segmentFile };
  }

  it("an engine stopped after confirming an instance, before its row committed, records it at the next start, once", async () => {
    const { held, bytes, masterKey, blobDir } = await crashBeforeRowCommit();
    for (let start = 0; start < 2; start++) {
      if (start) await engine.close();
      engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, masterKey, blobDir, log: keep });
      const back = (await api(`/v1/tenants/site/results/${held.id}`)).body;
      expect(back).toMatchObject({ status: "held", sha256: held.sha256, sizeBytes: held.sizeBytes, receivedAt: held.receivedAt, expiresAt: held.expiresAt, sopInstanceUid: held.sopInstanceUid });
      expect((await engine.readResultBytes("site", held.id)).equals(bytes)).toBe(true);
      // A second start finds it recorded and leaves it alone.
      expect(await events(held.id)).toEqual(["result.received"]);
    }
  });

  it("a confirmed instance whose row cannot be written at a start more than an hour after the crash is recorded at a later start", async () => {
    const { held, bytes, masterKey, blobDir, segmentFile } = await crashBeforeRowCommit();
    // The crash was two hours ago.
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(segmentFile, twoHoursAgo, twoHoursAgo);
    const sql = postgres(dbs.engineUrl, { max: 1 });
    // And at the next start the database refuses the row (a real failure: a trigger raising an error).
    await sql.unsafe(`create function refuse_results() returns trigger language plpgsql as $$ begin raise exception 'results are refused for this test'; end $$;
      create trigger refuse_results before insert on results for each row execute function refuse_results();`);
    const logs: string[] = [];
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, masterKey, blobDir, log: (m) => (logs.push(m), keep(m)) });
    expect(logs.some((m) => m.includes(`could not record ${held.sopInstanceUid}`))).toBe(true);
    expect((await api(`/v1/tenants/site/results/${held.id}`)).status).toBe(404);
    await engine.close();
    await sql.unsafe(`drop trigger refuse_results on results; drop function refuse_results();`);
    await sql.end();

    // The segment was not sealed as stale, so the start after that still finds the blob and records it.
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, masterKey, blobDir, log: keep });
    const back = (await api(`/v1/tenants/site/results/${held.id}`)).body;
    expect(back).toMatchObject({ status: "held", sha256: held.sha256, sizeBytes: held.sizeBytes, receivedAt: held.receivedAt, sopInstanceUid: held.sopInstanceUid });
    expect((await engine.readResultBytes("site", held.id)).equals(bytes)).toBe(true);
    expect(await events(held.id)).toEqual(["result.received"]);
  });
});
