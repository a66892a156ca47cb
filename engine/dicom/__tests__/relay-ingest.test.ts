import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { PYDICOM_TEST_FILES, datasetDump, dcmtk } from "../../../test/dcmtk";
import { startTestEngine } from "../../../test/engine";
import { eq } from "drizzle-orm";
import { BlobStore } from "../../store/blob-store";
import { connectEngineDb } from "../../store/db";
import { results } from "../../store/schema";
import { liveSegments } from "../../relay/hold-queue";

const TOKEN = "relay-ingest-token-".padEnd(48, "z");
const CT = path.join(PYDICOM_TEST_FILES, "CT_small.dcm");
const MR = path.join(PYDICOM_TEST_FILES, "MR_small.dcm");

describe("relay DICOM endpoint with DCMTK as the vendor", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    });
    return { status: res.status, body: await res.json() };
  };
  const store = (calledAe: string, file: string, callingAe = "VENDOR_AI", extra: string[] = []) =>
    dcmtk("storescu", ["-aet", callingAe, "-aec", calledAe, ...extra, "127.0.0.1", String(engine.dicomPort), file]);
  /** Where a result's bytes are (its own file, or a region of the tenant's segment). */
  const blobIdOf = async (resultId: string) => {
    const { db, close } = connectEngineDb(dbs.engineUrl);
    try {
      const [row] = await db.select({ blobId: results.blobId }).from(results).where(eq(results.id, resultId));
      return row!.blobId!;
    } finally {
      await close();
    }
  };
  const list = async (slug: string, qs = "") => (await api(`/v1/tenants/${slug}/results${qs}`)).body.results as Array<Record<string, any>>;

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    const put = (slug: string, body: unknown) => api(`/v1/tenants/${slug}`, { method: "PUT", body: JSON.stringify(body) });
    await put("alpha", { ttlDays: 7, calledAeTitles: ["ALPHA"], allowedCallingAeTitles: [], version: 1 });
    await put("bravo", { ttlDays: 7, calledAeTitles: ["BRAVO"], allowedCallingAeTitles: ["GOODVENDOR"], version: 1 });
  });
  afterAll(async () => {
    await engine?.close();
    await dbs?.drop();
  });

  it("answers C-ECHO for a known called AE title", async () => {
    expect((await dcmtk("echoscu", ["-aet", "VENDOR_AI", "-aec", "ALPHA", "127.0.0.1", String(engine.dicomPort)])).code).toBe(0);
  });

  it("holds a stored instance with its metadata, and the encrypted blob holds the dataset as sent", async () => {
    const r = await store("ALPHA", CT);
    expect(r.code, r.stderr).toBe(0);
    const [held] = await list("alpha");
    expect(held).toMatchObject({
      status: "held",
      callingAe: "VENDOR_AI",
      calledAe: "ALPHA",
      modality: "CT",
      sopClassUid: "1.2.840.10008.5.1.4.1.1.2",
      sopInstanceUid: "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322",
      studyInstanceUid: "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322",
    });
    expect(Date.parse(held!.expiresAt) - Date.parse(held!.receivedAt)).toBe(7 * 86_400_000);

    // Decrypt the stored blob with the tenant's key and compare with what the vendor sent.
    const bytes = await engine.readResultBytes("alpha", held!.id);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(held!.sha256);
    expect(bytes.length).toBe(held!.sizeBytes);
    expect(bytes.subarray(128, 132).toString()).toBe("DICM");
    const out = path.join(await mkdtemp(path.join(os.tmpdir(), "relay-")), "stored.dcm");
    await writeFile(out, bytes);
    expect(await datasetDump(out)).toBe(await datasetDump(CT));
  });

  it("pages the queue with its cursor and the filters, and previews a TTL change", async () => {
    await api("/v1/tenants/delta", { method: "PUT", body: JSON.stringify({ ttlDays: 7, calledAeTitles: ["DELTA"], allowedCallingAeTitles: [], version: 1 }) });
    expect((await store("DELTA", CT)).code).toBe(0);
    expect((await store("DELTA", MR)).code).toBe(0);
    const all = await list("delta");
    expect(all).toHaveLength(2);
    const first = await api("/v1/tenants/delta/results?limit=1");
    expect(first.body.results).toHaveLength(1);
    const second = await api(`/v1/tenants/delta/results?limit=1&cursor=${first.body.nextCursor}`);
    expect(second.status).toBe(200);
    expect(second.body.results[0].id).toBe(all[1]!.id);
    expect(second.body.nextCursor).toBeNull();
    expect((await list("delta", "?modality=MR")).map((r) => r.modality)).toEqual(["MR"]);
    expect((await api("/v1/tenants/delta/results?cursor=not-a-cursor")).status).toBe(400);
    const preview = await api("/v1/tenants/delta/retention-preview?ttlDays=30");
    expect(preview.body).toMatchObject({ ttlDays: 30, live: 2, gainTime: 2, loseTime: 0, expireImmediately: 0, unchanged: 0 });
    expect((await api("/v1/tenants/delta/retention-preview?ttlDays=7")).body).toMatchObject({ unchanged: 2 });
    expect((await api("/v1/tenants/delta/retention-preview?ttlDays=31")).status).toBe(400);
  });

  it("rejects an unknown called AE title at association time and stores nothing", async () => {
    const before = (await list("alpha")).length;
    const r = await store("NOBODY", MR);
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/Called AE Title Not Recognized/i);
    expect((await list("alpha")).length).toBe(before);
  });

  it("rejects a calling AE title outside the tenant's allow-list and accepts one on it", async () => {
    const refused = await store("BRAVO", MR, "BADVENDOR");
    expect(refused.stderr + refused.stdout).toMatch(/Calling AE Title Not Recognized/i);
    expect(await list("bravo")).toEqual([]);
    expect((await store("BRAVO", MR, "GOODVENDOR")).code).toBe(0);
    expect((await list("bravo")).map((r) => r.callingAe)).toEqual(["GOODVENDOR"]);
  });

  it("replaces a held result when the same instance arrives again, and says so in the timeline", async () => {
    expect((await store("ALPHA", CT)).code).toBe(0);
    const held = await list("alpha", `?uid=1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322`);
    expect(held).toHaveLength(1);
    const detail = (await api(`/v1/tenants/alpha/results/${held[0]!.id}`)).body;
    expect(detail.timeline.map((e: { type: string }) => e.type)).toEqual(["result.received", "result.replaced"]);
  });

  it("stores small results in the tenant's own segment file, which only that tenant's live results keep", async () => {
    // Alpha's first association had the engine make its segment before accepting: small instances go into it.
    expect((await readdir(path.join(engine.blobDir, "alpha"))).some((n) => n.endsWith(".seg.open"))).toBe(true);
    const copy = path.join(await mkdtemp(path.join(os.tmpdir(), "segment-")), "mr.dcm");
    await copyFile(MR, copy);
    expect((await dcmtk("dcmodify", ["-nb", "-gin", copy])).code).toBe(0);
    expect((await store("ALPHA", copy)).code).toBe(0);
    const { db, close } = connectEngineDb(dbs.engineUrl);
    try {
      const alpha = await liveSegments(db, "alpha");
      expect([...alpha].some((s) => existsSync(path.join(engine.blobDir, "alpha", `${s}.seg.open`)))).toBe(true);
      const bravo = await liveSegments(db, "bravo");
      expect([...alpha].filter((s) => bravo.has(s))).toEqual([]);
      // Bravo's folder holds no file of alpha's segments.
      const bravoFiles = await readdir(path.join(engine.blobDir, "bravo")).catch(() => []);
      expect(bravoFiles.filter((f) => [...alpha].some((s) => f.startsWith(s)))).toEqual([]);
    } finally {
      await close();
    }
  });

  it("keeps serving after garbage bytes and a truncated PDU on the DICOM port", async () => {
    for (const junk of [Buffer.from("GET / HTTP/1.1\r\n\r\n"), Buffer.from([0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x01])]) {
      await new Promise<void>((resolve) => {
        const s = net.connect(engine.dicomPort, "127.0.0.1", () => s.end(junk));
        s.on("error", () => resolve());
        s.on("close", () => resolve());
        s.resume();
      });
    }
    expect((await dcmtk("echoscu", ["-aet", "VENDOR_AI", "-aec", "ALPHA", "127.0.0.1", String(engine.dicomPort)])).code).toBe(0);
  });

  it("another tenant's API path cannot see or purge this tenant's result", async () => {
    const [held] = await list("alpha");
    expect((await api(`/v1/tenants/bravo/results/${held!.id}`)).status).toBe(404);
    expect((await api(`/v1/tenants/bravo/results/${held!.id}/purge`, { method: "POST", body: JSON.stringify({ reason: "nope" }) })).status).toBe(404);
    expect((await list("bravo")).some((r) => r.id === held!.id)).toBe(false);
  });

  it("purges a held result only with a reason, deleting its bytes but keeping its timeline", async () => {
    const [held] = await list("alpha");
    const blobId = await blobIdOf(held!.id);
    expect(await new BlobStore(engine.blobDir).exists("alpha", blobId)).toBe(true);
    expect((await api(`/v1/tenants/alpha/results/${held!.id}/purge`, { method: "POST", body: JSON.stringify({}) })).status).toBe(400);
    const purged = await api(`/v1/tenants/alpha/results/${held!.id}/purge`, { method: "POST", body: JSON.stringify({ reason: "sent to the wrong site" }) });
    expect(purged.status).toBe(200);
    expect(purged.body.status).toBe("purged");
    expect(purged.body.timeline.at(-1)).toMatchObject({ type: "result.purged", payload: { reason: "sent to the wrong site" } });
    expect(await new BlobStore(engine.blobDir).exists("alpha", blobId)).toBe(false);
    expect((await api(`/v1/tenants/alpha/results/${held!.id}/purge`, { method: "POST", body: JSON.stringify({ reason: "again" }) })).status).toBe(409);
  });

  it("a TTL change recomputes expiry, and the purger expires results on the engine's clock", async () => {
    expect((await store("ALPHA", MR)).code).toBe(0);
    const [mr] = await list("alpha", "?status=held&modality=MR");
    const blobId = await blobIdOf(mr!.id);
    expect(await new BlobStore(engine.blobDir).exists("alpha", blobId)).toBe(true);
    await api("/v1/tenants/alpha", { method: "PUT", body: JSON.stringify({ ttlDays: 2, calledAeTitles: ["ALPHA"], allowedCallingAeTitles: [], version: 2 }) });
    const after = (await api(`/v1/tenants/alpha/results/${mr!.id}`)).body;
    expect(Date.parse(after.expiresAt) - Date.parse(after.receivedAt)).toBe(2 * 86_400_000);

    engine.clock.advanceDays(1);
    expect(await engine.purge()).toBe(0);
    engine.clock.advanceDays(1.01);
    expect(await engine.purge()).toBeGreaterThanOrEqual(1);
    expect((await api(`/v1/tenants/alpha/results/${mr!.id}`)).status).toBe(404);
    expect(await new BlobStore(engine.blobDir).exists("alpha", blobId)).toBe(false);
    const feed = (await api(`/v1/events?after=0&limit=1000`)).body.events as Array<{ type: string; payload: { resultId?: string } }>;
    expect(feed.filter((e) => e.payload.resultId === mr!.id).map((e) => e.type)).toEqual(["result.received", "result.expired"]);
  });

  it("re-notifies a held result and exposes Prometheus metrics behind the token", async () => {
    expect((await store("ALPHA", CT)).code).toBe(0);
    const [held] = await list("alpha", "?status=held");
    const again = await api(`/v1/tenants/alpha/results/${held!.id}/renotify`, { method: "POST" });
    expect(again.status).toBe(200);
    expect(again.body.timeline.at(-1)).toMatchObject({ type: "result.renotified", payload: { routersNotified: 0 } });
    expect((await fetch(`${engine.url}/metrics`)).status).toBe(401);
    const metrics = await (await fetch(`${engine.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    expect(metrics).toMatch(/relay_results_received_total\{tenant="alpha"\} [1-9]/);
  });

  it("serves the event feed in order from a cursor", async () => {
    const first = (await api(`/v1/events?after=0&limit=2`)).body;
    const next = (await api(`/v1/events?after=${first.nextAfter}&limit=1000`)).body;
    const seqs = [...first.events, ...next.events].map((e: { seq: number }) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect((await api(`/v1/events?after=-1`)).status).toBe(400);
  });
});


describe("an association that ends mid-instance", () => {
  it("leaves no result and no partial blob, and the endpoint keeps serving", async () => {
    const dbs = await createTestDatabases();
    const engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    try {
      const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
      await fetch(`${engine.url}/v1/tenants/alpha`, {
        method: "PUT",
        headers,
        body: JSON.stringify({ ttlDays: 7, calledAeTitles: ["ALPHA"], allowedCallingAeTitles: [], version: 1 }),
      });
      // storescu sends what it can of a truncated file, then gives up on the association.
      const truncated = path.join(PYDICOM_TEST_FILES, "MR_truncated.dcm");
      const r = await dcmtk("storescu", ["-aet", "V", "-aec", "ALPHA", "-ta", "2", "-td", "2", "127.0.0.1", String(engine.dicomPort), truncated]);
      expect(r.code).not.toBe(0);
      const list = await fetch(`${engine.url}/v1/tenants/alpha/results`, { headers }).then((x) => x.json());
      expect(list.results).toEqual([]);
      // No blob file; the tenant's segment (made when the association was accepted) holds nothing but zeros.
      const stored = await readdir(path.join(engine.blobDir, "alpha")).catch(() => []);
      expect(stored.filter((f) => !f.endsWith(".seg.open"))).toEqual([]);
      for (const f of stored) expect((await readFile(path.join(engine.blobDir, "alpha", f))).every((b) => b === 0)).toBe(true);
      expect((await dcmtk("storescu", ["-aet", "V", "-aec", "ALPHA", "127.0.0.1", String(engine.dicomPort), CT])).code).toBe(0);
    } finally {
      await engine.close();
      await dbs.drop();
    }
  });
});
