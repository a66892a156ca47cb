// A confirmed small instance's row, when its first write fails (ingest.ts, persist): the two cases a retry must
// tell apart before writing again. The hold queue writer is the real one against a real PostgreSQL and the blobs
// are real; only the first write's outcome is forced, as a lost connection would leave it.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import type { StoredInstance } from "../../dicom/scp";
import { createMetrics } from "../../metrics";
import { BlobStore } from "../../store/blob-store";
import { connectEngineDb, migrateEngineDatabase, type EngineDb } from "../../store/db";
import { newDataKey } from "../../store/encryption";
import { engineEvents, results } from "../../store/schema";
import type { Received, Result } from "../hold-queue";
import { createHoldQueueWriter, type HoldQueueWriter } from "../hold-queue-writer";
import { createIngest } from "../ingest";
import { applyTenantConfig } from "../tenant-config";

describe("relay ingest: a confirmed instance's row that failed once", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let conn: ReturnType<typeof connectEngineDb>;
  let db: EngineDb;
  let blobs: BlobStore;
  const key = newDataKey();

  beforeAll(async () => {
    dbs = await createTestDatabases();
    await migrateEngineDatabase(dbs.engineUrl);
    conn = connectEngineDb(dbs.engineUrl);
    db = conn.db;
    await applyTenantConfig(db, "alpha", { ttlDays: 7, calledAeTitles: ["ALPHA"], allowedCallingAeTitles: [], version: 1 });
    blobs = new BlobStore(await mkdtemp(path.join(os.tmpdir(), "ingest-blobs-")));
    await blobs.prepareSegment("alpha");
  });
  afterAll(async () => {
    await blobs?.close();
    await conn?.close();
    await dbs?.drop();
  });

  /** A small instance stored as the DICOM endpoint stores one: with its record, durable before onStored. */
  async function stored(sopInstanceUid: string, receivedAt: Date): Promise<StoredInstance> {
    const w = blobs.newBlob(key, "alpha");
    const id = randomUUID();
    w.setRecord({ id, tenantSlug: "alpha", sopInstanceUid, receivedAt: receivedAt.toISOString() });
    w.input.end(randomBytes(3000));
    const done = await w.done;
    return {
      id,
      blobId: done.blobId,
      tenantSlug: "alpha",
      callingAe: "VENDOR",
      calledAe: "ALPHA",
      peerAddress: "127.0.0.1:1",
      sopClassUid: "1.2.840.10008.5.1.4.1.1.88.33",
      sopInstanceUid,
      transferSyntaxUid: "1.2.840.10008.1.2.1",
      sizeBytes: done.size,
      sha256: done.sha256,
      header: { studyInstanceUid: "1.2.3", seriesInstanceUid: "1.2.3.4", modality: "SR" },
      receivedAt,
      durable: Promise.resolve(),
      recoverable: done.recoverable,
    };
  }

  const asReceived = (s: StoredInstance): Received => ({ ...s, ...s.header });

  /** The real writer, except that the first write of `target` runs `first` instead. */
  function failingOnce(real: HoldQueueWriter, target: string, first: (r: Received) => Promise<never>): HoldQueueWriter {
    let failed = false;
    return {
      ...real,
      record(r) {
        if (r.id !== target || failed) return real.record(r);
        failed = true;
        return first(r);
      },
    };
  }

  function ingestWith(holdQueue: HoldQueueWriter) {
    const logs: string[] = [];
    const notified: Result[] = [];
    const ingest = createIngest({
      db,
      blobs,
      holdQueue,
      metrics: createMetrics(),
      notify: async (r) => void notified.push(r),
      log: (m) => logs.push(m),
      now: () => new Date(),
    });
    return { ingest, logs, notified };
  }

  const rowsFor = (sopInstanceUid: string) => db.select().from(results).where(eq(results.sopInstanceUid, sopInstanceUid));
  const eventsFor = async (resultId: string) =>
    (await db.select().from(engineEvents).orderBy(asc(engineEvents.id))).filter((e) => (e.payload as { resultId?: string }).resultId === resultId).map((e) => e.type);

  it("whose batch committed though its reply was lost: the row is found, not written twice, and routers are told once", async () => {
    const real = createHoldQueueWriter(db);
    const s = await stored("1.5.1", new Date());
    const { ingest, logs, notified } = ingestWith(
      failingOnce(real, s.id, async (r) => {
        await real.record(r);
        throw new Error("connection lost before the reply");
      }),
    );
    const { recorded } = await ingest.onStored(s);
    await recorded;

    const rows = await rowsFor("1.5.1");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: s.id, blobId: s.blobId, status: "held" });
    expect(await eventsFor(s.id)).toEqual(["result.received"]);
    expect(notified.map((r) => r.id)).toEqual([s.id]);
    expect(await blobs.exists("alpha", s.blobId)).toBe(true);
    expect(logs.some((m) => m.includes("not recorded yet: connection lost before the reply"))).toBe(true);
    await real.close();
  });

  it("whose SOP instance was replaced by a later version meanwhile: the late bytes are deleted and the later version stays", async () => {
    const real = createHoldQueueWriter(db);
    const at = new Date();
    const late = await stored("1.5.2", at);
    const later = await stored("1.5.2", new Date(at.getTime() + 1000));
    const { ingest, logs, notified } = ingestWith(
      failingOnce(real, late.id, async () => {
        // While the first write is failing, the vendor's next version of the instance is recorded.
        await real.record(asReceived(later));
        throw new Error("connection lost");
      }),
    );
    const { recorded } = await ingest.onStored(late);
    await recorded;

    const rows = await rowsFor("1.5.2");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: later.id, blobId: later.blobId, status: "held", receivedAt: later.receivedAt });
    expect(await eventsFor(later.id)).toEqual(["result.received"]);
    expect(await eventsFor(late.id)).toEqual([]);
    expect(notified).toEqual([]);
    expect(await blobs.exists("alpha", late.blobId)).toBe(false);
    expect(await blobs.exists("alpha", later.blobId)).toBe(true);
    expect(logs.some((m) => m.includes("was replaced by a later version before its row committed; its bytes are deleted"))).toBe(true);
    await real.close();
  });
});
